"""The trace-driven simulator: the core's scheduling and placement code on a simulated clock.

``driver.py`` is the discrete-event loop (events ordered by time, priority, sequence),
``metrics.py`` what a run reports. The simulator imports neither the database nor the
API (an import-linter contract): it builds a :class:`~neocloud.scheduling.cluster.Cluster`
on a :class:`~neocloud.placement.pool.GpuPool` and applies the decisions of
:func:`~neocloud.scheduling.cycle.schedule`, the same function a live queue calls.
"""
