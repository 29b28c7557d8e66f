"""Trace readers on tiny files: schema by header, precise errors, streaming, gzip, each format's rules."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import pytest

from neocloud.adapters.importers.alibaba import read_openb_nodes
from neocloud.adapters.traces import FORMATS, read_jobs
from neocloud.adapters.traces.openb import read_openb
from neocloud.adapters.traces.philly_vc import read_philly_vc
from neocloud.adapters.traces.pollux import read_pollux
from neocloud.domain.errors import SpecError, TraceError
from neocloud.domain.workload import (
    DeadlineDetail,
    ModelDetail,
    NodeCapacity,
    PodDetail,
    ShapeDetail,
    TraceJob,
    in_arrival_order,
)

RFOLD = "#job id,arrival time (sec),topology,shape,size,duration (sec)\n"
TIRESIAS = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n"
PHILLY_VC = "timestamp,duration,num_gpus,gpu_time,cluster\n"
CHRONUS = (
    "job_id,user,num_gpu,submit_time,iterations,model_name,duration,interval,"
    "expect_time_list,expect_value_list,best_effort,job_type\n"
)
OPENB = (
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
)


def write(tmp_path: Path, text: str, name: str = "trace.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_of(fmt: str, path: Path) -> TraceError:
    with pytest.raises(TraceError) as info:
        list(read_jobs(fmt, path))
    return info.value


# -- errors name the file, the row and the column ---------------------------------


def test_a_bad_number_names_the_file_row_and_column(tmp_path):
    path = write(tmp_path, RFOLD + "0,0.0,CLOS,1,1,10\n1,5.0,CLOS,1,abc,10\n")
    error = error_of("philly", path)
    assert error.error.file == str(path)
    assert error.error.location == "row 3, column 'size'"
    assert error.error.message == "'abc' is not a whole number"
    assert str(error) == f"{path}: row 3, column 'size': 'abc' is not a whole number"


def test_a_missing_column_names_the_columns_expected_and_found(tmp_path):
    path = write(tmp_path, "job_id,num_gpu,duration\n0,1,10\n")
    message = str(error_of("tiresias", path))
    assert "missing column 'submit_time'" in message
    assert "expected 'job_id', 'num_gpu', 'submit_time', 'duration'" in message
    assert "found 'job_id', 'num_gpu', 'duration'" in message


def test_negative_gpus_are_refused_with_the_row_and_column(tmp_path):
    path = write(tmp_path, TIRESIAS + "0,-2,0,10,vgg19,100,5\n")
    error = error_of("tiresias", path)
    assert (error.error.location, error.error.message) == ("row 2, column 'num_gpu'", "'-2' is negative")


def test_a_negative_duration_is_refused(tmp_path):
    path = write(tmp_path, RFOLD + "0,0.0,CLOS,1,1,-5\n")
    error = error_of("philly", path)
    assert (error.error.location, error.error.message) == ("row 2, column 'duration (sec)'", "'-5' is negative")


def test_an_empty_file_is_an_error(tmp_path):
    path = write(tmp_path, "")
    assert "empty file" in str(error_of("philly", path))


def test_a_header_without_rows_is_an_empty_file(tmp_path):
    path = write(tmp_path, RFOLD)
    assert str(error_of("philly", path)) == f"{path}: empty file: a header but no data rows"


def test_a_missing_file_is_a_trace_error(tmp_path):
    assert str(error_of("openb", tmp_path / "nope.csv")).endswith("nope.csv: file not found")


def test_an_unknown_format_names_the_formats(tmp_path):
    message = str(error_of("helios", tmp_path / "x.csv"))
    assert "unknown trace format 'helios'" in message
    assert all(name in message for name in FORMATS)


def test_every_format_of_the_brief_is_registered():
    assert set(FORMATS) == {"philly", "philly-vc", "tiresias", "pollux", "sia", "chronus", "crux", "openb"}


# -- streaming, gzip ---------------------------------------------------------------


def test_a_reader_yields_the_good_rows_before_the_bad_last_one(tmp_path):
    path = write(tmp_path, RFOLD + "0,0.0,CLOS,1,1,10\n1,2.5,CLOS,2,2,20\n2,3.0,CLOS,1,1,oops\n")
    jobs = read_jobs("philly", path)
    assert [next(jobs).id, next(jobs).id] == ["0", "1"]
    with pytest.raises(TraceError, match=r"row 4, column 'duration \(sec\)': 'oops' is not a number"):
        next(jobs)


def test_a_truncated_gzip_file_yields_what_was_read_before_failing(tmp_path):
    """The file itself breaks at its end (not one cell): only a reader that streams
    the file has yielded jobs by then; one that listed its rows first yields none."""
    rows = "".join(f"{i},{i}.0,CLOS,1,1,10\n" for i in range(20_000))
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress((RFOLD + rows).encode())[:-20])
    seen = []
    with pytest.raises(TraceError, match="not a readable gzip file"):
        seen.extend(job.id for job in read_jobs("philly", path))
    assert len(seen) > 10_000
    assert seen[:2] == ["0", "1"]


def test_gzip_and_plain_files_read_the_same(tmp_path):
    text = TIRESIAS + "0,1,0,606,vgg19,164,30\n1,8,30,133,vgg11,147.9,23\n"
    plain = list(read_jobs("tiresias", write(tmp_path, text, "t.csv")))
    packed = list(read_jobs("tiresias", write(tmp_path, text, "t.csv.gz")))
    assert plain == packed
    assert len(plain) == 2


def test_columns_are_found_by_name_in_any_order_and_blank_lines_are_skipped(tmp_path):
    header = "duration (sec), size ,shape,topology,arrival time (sec),#job id,extra\n"
    path = write(tmp_path, header + "\n7,2,2,CLOS,1.5,j1,x\n")
    [job] = read_jobs("philly", path)
    assert job == TraceJob("j1", 1.5, 2, 7.0, detail=ShapeDetail("CLOS", (2,)))


# -- per format --------------------------------------------------------------------


def test_an_rfold_shape_must_add_up_to_the_size(tmp_path):
    path = write(tmp_path, RFOLD + "0,0.0,CLOS,4+4,16,10\n")
    assert error_of("philly", path).error.message == "'4+4' has 8 GPUs but 'size' is 16"


def test_crux_lists_name_their_size_column_size_gpus(tmp_path):
    header = "#job id,arrival time (sec),topology,shape,size(#GPUs),duration (sec)\n"
    path = write(tmp_path, header + "0,0.0,CLOS,48,48,720.0\n")
    [job] = read_jobs("crux", path)
    assert (job.gpus, job.duration_s, job.detail) == (48, 720.0, ShapeDetail("CLOS", (48,)))


def test_tiresias_durations_are_truncated_to_whole_seconds_as_its_simulator_does(tmp_path):
    path = write(tmp_path, TIRESIAS + "7,2,12.5,100,resnet50,99.9,3\n")
    [job] = read_jobs("tiresias", path)
    assert job == TraceJob("7", 12.5, 2, 99.0, detail=ModelDetail("resnet50", 100, 3.0))


def test_philly_vc_arrivals_count_from_the_earliest_timestamp_and_the_vc_is_the_tenant(tmp_path):
    path = write(tmp_path, PHILLY_VC + "2017-10-09 07:01:55,66.0,1,66.0,11cb48\n2017-10-09 07:00:00,10,2,20,6214e9\n")
    jobs = list(read_jobs("philly-vc", path))
    assert [(j.id, j.arrival_s, j.gpus, j.tenant) for j in jobs] == [("0", 115.0, 1, "11cb48"), ("1", 0.0, 2, "6214e9")]
    assert [j.id for j in in_arrival_order(jobs)] == ["1", "0"]
    later = list(read_philly_vc(path, origin=datetime.fromisoformat("2017-10-09 00:00:00")))
    assert later[0].arrival_s == 7 * 3600 + 115


def test_philly_vc_gpu_time_must_be_duration_times_gpus(tmp_path):
    path = write(tmp_path, PHILLY_VC + "2017-10-09 07:01:55,66.0,2,66.0,11cb48\n")
    assert error_of("philly-vc", path).error.location == "row 2, column 'gpu_time'"


def test_chronus_times_are_minutes_and_strict_jobs_get_their_first_expect_time_as_deadline(tmp_path):
    path = write(
        tmp_path,
        CHRONUS + "0,vc_a,1,10,500,vgg16,30,14,40-60,10-5,0,strict\n1,vc_b,2,5,90,alexnet,3,8,5,10,1,best\n",
    )
    strict, best = read_jobs("chronus", path)
    assert (strict.arrival_s, strict.duration_s, strict.deadline_s, strict.tenant) == (600.0, 1800.0, 3000.0, "vc_a")
    assert strict.detail == DeadlineDetail("vgg16", 500, 840.0, (2400.0, 3600.0), (10, 5), "strict")
    assert (best.deadline_s, best.gpus) == (None, 2)
    assert isinstance(best.detail, DeadlineDetail)
    assert best.detail.best_effort


def test_chronus_job_type_must_agree_with_best_effort(tmp_path):
    path = write(tmp_path, CHRONUS + "0,vc_a,1,10,500,vgg16,30,14,40,10,1,strict\n")
    assert error_of("chronus", path).error.message == "'strict' disagrees with best_effort 1"


def test_chronus_soft_jobs_have_their_first_expect_time_as_deadline(tmp_path):
    path = write(tmp_path, CHRONUS + "0,vc_a,1,5601,5530,mobilenet_v2,96,5,159-189-229-289,10-8-5-2,0,soft\n")
    [soft] = read_jobs("chronus", path)
    assert soft.deadline_s == (5601 + 159) * 60.0
    assert isinstance(soft.detail, DeadlineDetail)
    assert (soft.detail.job_type, soft.detail.expect_values, soft.detail.best_effort) == ("soft", (10, 8, 5, 2), False)


def test_openb_duration_is_deletion_minus_schedule_and_unscheduled_pods_have_none(tmp_path):
    path = write(
        tmp_path,
        OPENB
        + "p0,6000,12288,1,460,V100M16|V100M32,LS,Running,100,500,120\n"
        + "p1,1000,2048,0,0,,BE,Pending,200,260,\n",
    )
    shared, pending = read_jobs("openb", path)
    assert (shared.arrival_s, shared.gpus, shared.gpu_milli, shared.duration_s) == (100.0, 1, 460, 380.0)
    assert shared.detail == PodDetail(6000, 12288, ("V100M16", "V100M32"), "LS", "Running", 120.0, 500.0)
    assert (pending.duration_s, pending.gpus, pending.gpu_milli) == (None, 0, 0)


def test_openb_lists_with_only_the_five_resource_columns_are_read(tmp_path):
    path = write(tmp_path, "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np0,88000,327680,8,1000\n")
    [job] = read_openb(path)
    assert (job.arrival_s, job.gpus, job.duration_s) == (0.0, 8, None)
    assert job.detail == PodDetail(88000, 327680)


def test_openb_refuses_a_deletion_before_the_schedule_and_more_than_a_whole_gpu(tmp_path):
    early = write(tmp_path, OPENB + "p0,6000,12288,1,460,,LS,Running,100,110,120\n", "a.csv")
    assert error_of("openb", early).error.location == "row 2, column 'deletion_time'"
    greedy = write(tmp_path, OPENB + "p0,6000,12288,1,1460,,LS,Running,100,200,120\n", "b.csv")
    assert error_of("openb", greedy).error.message == "1460 is more than a whole GPU (1000)"


def test_pollux_refuses_an_application_without_a_profile_naming_it(tmp_path):
    (tmp_path / "application_profiles").mkdir()
    path = write(tmp_path, "name,time,application,num_replicas,batch_size\ngpt-0,5,gpt,4,64\n")
    error = error_of("pollux", path)
    assert error.error.location == "row 2, column 'application'"
    assert "no profile for application 'gpt'" in error.error.message


def test_pollux_without_a_profiles_folder_says_so(tmp_path):
    path = write(tmp_path, "name,time,application,num_replicas,batch_size\ncifar10-0,5,cifar10,1,128\n")
    with pytest.raises(TraceError, match="no application_profiles/ folder"):
        list(read_pollux(path))


def test_openb_nodes_keep_cpu_and_memory_and_refuse_a_gpu_node_without_a_model(tmp_path):
    header = "sn,cpu_milli,memory_mib,gpu,model\n"
    good = write(tmp_path, header + "n0,32000,262144,0,\nn1,96000,786432,8,V100M32\n", "a.csv")
    assert read_openb_nodes(good) == (
        NodeCapacity("n0", 32000, 262144, 0, None),
        NodeCapacity("n1", 96000, 786432, 8, "V100M32"),
    )
    bad = write(tmp_path, header + "n0,32000,lots,2,\n", "b.csv")
    with pytest.raises(SpecError) as info:
        read_openb_nodes(bad)
    assert [(e.location, e.message) for e in info.value.errors] == [
        ("row 2, column memory_mib", "expected a whole number, got 'lots'"),
        ("row 2, column model", "empty value on a node with GPUs"),
    ]


# -- the value ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("arrival_s", -1.0), ("arrival_s", float("nan")), ("gpus", -1), ("gpu_milli", 1001), ("duration_s", -0.5)],
)
def test_a_trace_job_refuses_values_out_of_range(field, value):
    fields = {"id": "j", "arrival_s": 0.0, "gpus": 1, "duration_s": 1.0, field: value}
    with pytest.raises(ValueError, match=field):
        TraceJob(**fields)  # type: ignore[arg-type]


def test_gpu_seconds_count_a_shared_gpu_as_its_fraction():
    assert TraceJob("p", 0.0, 1, 100.0, gpu_milli=250).gpu_seconds == 25.0
    assert TraceJob("p", 0.0, 2, None).gpu_seconds is None


def test_sorting_by_arrival_keeps_ties_in_file_order():
    jobs = [TraceJob(str(i), t, 1, 1.0) for i, t in enumerate([5.0, 1.0, 5.0, 0.0])]
    assert [j.id for j in in_arrival_order(jobs)] == ["3", "1", "0", "2"]
