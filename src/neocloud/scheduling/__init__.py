"""Job scheduling on a GPU pool: pure, shared by the simulator and a live job queue.

``cluster.py`` holds the state (the pool, the jobs, who waits and who runs) and applies
decisions; ``cycle.py`` is one scheduling cycle, :func:`~neocloud.scheduling.cycle.schedule`,
a short function of numbered phases that returns decisions as values and changes
nothing; ``policies/`` holds one small module per policy. The simulator (``neocloud.sim``)
and a live system differ only in how they build the jobs and apply the decisions.
"""
