"""The lease request CSV: read as a stream; the first bad row is an error naming the
file, the row and the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from neocloud.adapters.lease_requests import read_lease_requests
from neocloud.domain.errors import TraceError
from neocloud.domain.leases import Tier
from neocloud.domain.shape import Unit

HEADER = "arrival_s,tenant,shape,term_days,tier\n"


def write(tmp_path: Path, text: str, name: str = "demand.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_rows_become_requests_in_file_order(tmp_path):
    path = write(tmp_path, "id," + HEADER + "a,0,acme,512@block,365,reserved\n,3600,beta, site ,1095,wholesale\n")
    first, second = read_lease_requests(path)
    assert (first.id, first.arrival_s, first.tenant, first.shape.gpus, first.term_s, first.tier) == (
        "a",
        0,
        "acme",
        512,
        365 * 86_400,
        Tier.RESERVED,
    )
    assert (second.id, second.shape.unit, second.shape_text, second.tier) == ("r3", Unit.SITE, "site", Tier.WHOLESALE)


@pytest.mark.parametrize(
    ("row", "column", "problem"),
    [
        ("10,acme,8,1,gold", "tier", "'gold' is not a tier"),
        ("10,acme,rack:2,1,spot", "shape", "'rack' is neither a GPU count nor a unit"),
        ("10,acme,64,1,wholesale", "tier", "wholesale sells whole units"),
        ("10,acme,8,0,spot", "term_days", "a term must be above 0"),
        ("10,acme,8,4000,spot", "term_days", "at most 3,652 days"),
        ("10,acme,8,abc,spot", "term_days", "'abc' is not a number"),
        ("-5,acme,8,1,spot", "arrival_s", "'-5' is negative"),
        ("10,,8,1,spot", "tenant", "empty value"),
        ("1,acme,8,1,spot", "arrival_s", "1 is before the row above's 5; sort the file by arrival"),
    ],
)
def test_a_bad_row_names_the_file_row_and_column(tmp_path, row, column, problem):
    path = write(tmp_path, HEADER + "5,acme,8,1,on_demand\n" + row + "\n")
    stream = read_lease_requests(path)
    assert next(stream).arrival_s == 5  # the good row before the bad one streams out first
    with pytest.raises(TraceError) as caught:
        next(stream)
    assert str(caught.value).startswith(f"{path}: row 3, column {column!r}: ")
    assert problem in str(caught.value)


def test_a_repeated_id_names_the_row(tmp_path):
    path = write(tmp_path, "id," + HEADER + "x,0,acme,8,1,spot\nx,1,acme,8,1,spot\n")
    with pytest.raises(TraceError, match=r"row 3, column 'id': 'x' is the id of an earlier row"):
        list(read_lease_requests(path))


def test_a_missing_column_names_the_columns_expected(tmp_path):
    path = write(tmp_path, "arrival_s,tenant,shape,tier\n0,acme,8,spot\n")
    with pytest.raises(TraceError, match=r"row 1: missing column 'term_days'"):
        list(read_lease_requests(path))
