"""``neocloud queue``: an internal pool's live queue from the command line; bad input exits 2 and writes nothing."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_cli_ledger import Ledger

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_a_pool_gets_capacity_a_queue_workloads_and_cycles(ledger: Ledger):
    ledger.ok("queue", "create", "train", "--policy", "backfill")
    booked = ledger.ok("queue", "assign", "train", "--gpus", "32", "--model", "H100", "--end", "2099-01-01")
    assert "pool train: 4 nodes booked" in booked.stdout
    ledger.ok("queue", "submit", "train", "--name", "pretrain", "--team", "research", "--gpus", "24", "--hours", "48")
    ledger.ok("queue", "submit", "train", "--name", "big", "--team", "evals", "--gpus", "32", "--hours", "1")
    ledger.ok("queue", "submit", "train", "--name", "small", "--team", "evals", "--gpus", "8", "--hours", "1")
    decided = ledger.ok("queue", "cycle", "train").stdout
    assert "start    workload 0" in decided
    assert "start    workload 2" in decided  # backfilled: it ends before the big one could start
    assert "32 of 32 GPUs in use after the cycle" in decided
    shown = _ANSI.sub("", ledger.ok("queue", "show", "train").stdout)
    assert "32 of 32 GPUs in use; 2 running, 1 queued" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80
    ledger.ok("queue", "finish", "train", "2")
    cancelled = ledger.json("queue", "cancel", "train", "1", "--reason", "superseded", "--actor", "alice")
    assert (cancelled["state"], cancelled["reason"]) == ("cancelled", "cancelled by alice: superseded")
    data = ledger.json("queue", "show", "train")
    assert [w["state"] for w in data["workloads"]] == ["running", "cancelled", "finished"]
    assert [p["name"] for p in ledger.json("queue", "list")] == ["train"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("queue", "create", "train", "--policy", "lottery"), "policy: 'lottery' is not one of"),
        (("queue", "create", "train", "--quota", "a=1"), "--quota a=1: quotas apply to --policy fairshare, not fifo"),
        (("queue", "submit", "nope", "--name", "a", "--team", "t", "--gpus", "1", "--hours", "1"), "no queue"),
        (("queue", "finish", "train", "9"), "no workload number 9"),
        (("queue", "cancel", "train", "9"), "no workload number 9"),
        (("queue", "assign", "train", "--gpus", "8", "--end", "someday"), "--end 'someday': not a date"),
    ],
)
def test_bad_queue_commands_exit_2_naming_the_problem_and_write_nothing(ledger: Ledger, args, message):
    if args[2] != "train" or args[1] != "create":
        ledger.ok("queue", "create", "train")
    before = ledger.ok("queue", "list", "--json").stdout, ledger.ok("events", "--json", "--limit", "10000").stdout
    result = ledger(*args)
    assert result.exit_code == 2, result.output
    assert message in " ".join(_ANSI.sub("", result.output).split())
    after = ledger.ok("queue", "list", "--json").stdout, ledger.ok("events", "--json", "--limit", "10000").stdout
    assert after == before


def test_capacity_the_fleet_cannot_give_is_refused_with_exit_3_and_books_nothing(ledger: Ledger):
    result = ledger("queue", "assign", "train", "--gpus", "99992", "--model", "H100", "--end", "2099-01-01")
    assert result.exit_code == 3, result.output
    assert "refused: pool train:" in result.output
    assert ledger.json("events", "--limit", "10000")[-1]["kind"] != "pool.assigned"
