/* neocloud dashboard: draws the charts whose data the page embeds as JSON, and
   submits filter forms when a select changes. Needs chart.umd.min.js (vendored). */
(function () {
  "use strict";

  function day(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }
  function stamp(ms) {
    return new Date(ms).toISOString().slice(0, 16).replace("T", " ");
  }

  var HOUR = 3600000;
  var DAY = 24 * HOUR;
  // Tick spacings that land on whole UTC hours or midnights: the first giving at most 8 ticks.
  var SPACINGS = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 56 * DAY, 91 * DAY, 182 * DAY];

  function spacing(span) {
    for (var k = 0; k < SPACINGS.length; k++) if (span / SPACINGS[k] <= 8) return SPACINGS[k];
    return 364 * DAY;
  }

  function stepConfig(spec) {
    var every = spacing(spec.xmax - spec.xmin);
    return {
      type: "line",
      data: {
        datasets: spec.datasets.map(function (d) {
          return {
            label: d.label,
            data: d.data,
            borderColor: d.borderColor,
            backgroundColor: d.borderColor + "22",
            borderDash: d.borderDash || [],
            fill: d.fill ? "origin" : false,
            // Each value holds from its own point until the next: Chart.js's "before"
            // (its "after" draws a point's value over the interval BEFORE the point, so a
            // failure at 16:35 showed from the lease's start to 16:35).
            stepped: "before",
            pointRadius: 0,
            pointHitRadius: 6,
            borderWidth: 2,
          };
        }),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        scales: {
          x: { type: "linear", min: spec.xmin, max: spec.xmax, ticks: { callback: every < DAY ? stamp : day, stepSize: every, includeBounds: false }, grid: { color: "#eef0f4" } },
          y: {
            beginAtZero: true,
            suggestedMax: spec.ymax,
            ticks: { precision: spec.integer ? 0 : undefined },
            title: { display: true, text: spec.ylabel || "" },
            grid: { color: "#eef0f4" },
          },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14 } },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? stamp(items[0].parsed.x) + " UTC" : ""; },
              afterLabel: function (item) { return item.raw && item.raw.note ? item.raw.note : ""; },
            },
          },
        },
      },
    };
  }

  function barConfig(spec) {
    var horizontal = !!spec.horizontal;
    return {
      type: "bar",
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        scales: {
          x: { stacked: !!spec.stacked, beginAtZero: true, grid: { color: "#eef0f4" } },
          y: { stacked: !!spec.stacked, grid: { display: !horizontal } },
        },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 14 } } },
      },
    };
  }

  var SCATTER_COLORS = ["#2f6fdf", "#e07b00", "#1a9e77", "#9b4dca", "#c2185b", "#00838f"];

  function scatterConfig(spec) {
    var datasets = spec.datasets.map(function (d, k) {
      var color = SCATTER_COLORS[k % SCATTER_COLORS.length];
      return { label: d.label, data: d.data, backgroundColor: color + "99", borderColor: color, pointRadius: 2 };
    });
    var lo = spec.diagonal[0], hi = spec.diagonal[1];
    datasets.push({ type: "line", label: "predicted = measured", data: [{ x: lo, y: lo }, { x: hi, y: hi }], borderColor: "#888", borderDash: [4, 4], pointRadius: 0, borderWidth: 1 });
    var axis = function (text) {
      return { type: "logarithmic", title: { display: true, text: text }, grid: { color: "#eef0f4" } };
    };
    return {
      type: "scatter",
      data: { datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: axis(spec.xlabel), y: axis(spec.ylabel) },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 14 } } },
      },
    };
  }

  function drawCharts() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    if (!canvases.length) return;
    if (typeof window.Chart === "undefined") {
      console.error("neocloud: Chart.js did not load; charts are not drawn");
      return;
    }
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = "#4a5568";
    canvases.forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var config = spec.type === "bar" ? barConfig(spec) : spec.type === "scatter" ? scatterConfig(spec) : stepConfig(spec);
      new window.Chart(canvas, config);
      canvas.dataset.rendered = "1";
    });
  }

  function autosubmit() {
    document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { el.form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    autosubmit();
    document.documentElement.dataset.ready = "1";
  });
})();
