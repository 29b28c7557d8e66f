"""A domain error raised in a worker process or a Ray task crosses back by pickle: it
must arrive as itself (type, message, fields), whatever its ``__init__`` takes."""

from __future__ import annotations

import pickle

import pytest

from neocloud.domain.errors import DomainError, FieldError, Instant, NotFound, RequestError, SpecError, TraceError


@pytest.mark.parametrize(
    "error",
    [
        TraceError("bad.csv", "row 31, column 'num_gpu'", "'eight' is not a whole number"),
        RequestError(["gpus: 0 is not above 0", "name: must not be empty"]),
        SpecError([FieldError("fleet.yaml", "sites[0].name", "required")]),
        NotFound("no lease {lease}", lease="L1"),
        DomainError(
            "node {node} is booked until {until}", private="by {_holder}", node="n1", until=Instant(0), _holder="x"
        ),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_domain_error_comes_back_from_pickle_as_itself(error: DomainError):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.render() == error.render()  # the operator's text, private part and all
    assert again.args == error.args
    assert again.__dict__ == error.__dict__
