"""The short trace the live queues and the simulator are compared on (issue 13 §1): one
module for the pure LiveQueue tests and the API tests, so both run the same workloads."""

from __future__ import annotations

from tests.builders import a_block, a_fleet, a_group, a_site

FLEET = a_fleet(a_site(blocks=(a_block(node_groups=(a_group(count=4),)),)))  # four 8-GPU H100 nodes: 32 GPUs
#: (submit s, team, GPUs, run time s, priority): integer times and 2D-LAS limits that
#: GPU counts divide, so every event falls on a whole second in both runs
TRACE = [
    (0, "red", 16, 900, 0),
    (0, "blue", 8, 400, 1),
    (10, "red", 32, 300, 0),
    (20, "blue", 4, 800, 2),
    (20, "green", 2, 100, 0),
    (35, "red", 8, 1600, 0),
    (60, "green", 16, 200, 1),
    (60, "blue", 1, 50, 0),
    (90, "red", 64, 10, 0),  # larger than the fleet: rejected
    (400, "green", 8, 700, 2),
    (500, "blue", 16, 100, 0),
]
