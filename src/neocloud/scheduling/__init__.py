"""Job scheduling (issue 12 section 1): pure policies over a snapshot of free capacity.

``schedule(snapshot, queue, now_s, policy) -> Decision``: one cycle of numbered phases,
decisions as values (start, preempt, resume, reject with reason), one small module per
policy. Pure core: imports only ``neocloud.domain`` and ``neocloud.placement``, no
framework, no wall clock, no unseeded randomness (import-linter contracts in
pyproject.toml). The live worker and the simulator drive the same code.
"""
