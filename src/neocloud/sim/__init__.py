"""The trace-driven simulator (issue 12): real workloads through the core's scheduling and placement.

A discrete-event driver on a simulated clock that drives ``leasing`` and
``scheduling`` directly on an in-memory view: no store, no database, no API
(import-linter forbids ``neocloud.sim`` to import ``adapters.db``, ``api``, ``web``,
``cli``, SQLAlchemy and FastAPI). Its workloads are :class:`neocloud.domain.workload.TraceJob`
values that entry points read through ``neocloud.bootstrap`` (the readers live in
``neocloud.adapters.traces``). :mod:`neocloud.sim.trace_summary` summarises a trace.
"""
