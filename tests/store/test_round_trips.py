"""Round trips to PostgreSQL per append: every read of a write transaction goes with the
others in one, its writes and the ``COMMIT`` in another (see ``engine._one_pipeline``).
Counted from libpq's own trace of what was sent, so a change that adds a wait fails here
rather than only in a benchmark."""

from __future__ import annotations

import uuid

import pytest

from pedigree.model import Agent, Annotation, DatasetVersion, Run, Target
from pedigree.store import Ledger
from tests.roundtrips import RoundTrips

pytestmark = pytest.mark.postgres


def test_an_append_waits_for_the_server_three_times(
    traced: tuple[Ledger, RoundTrips],
) -> None:
    ledger, trips = traced
    source = DatasetVersion(name="raw", version="v1")
    ledger.append_many([source, Agent(agent_id="svc", kind="service")])
    note = Annotation(target=Target(type="version", name="raw", version="v1"), kind="tag")
    run = Run(
        run_id=uuid.uuid4(),
        job="etl",
        kind="transform",
        status="completed",
        inputs=[source.io("source")],
        agents=[{"agent": "svc"}],
    )
    for body, key in ((note, None), (run, None), (Annotation(target=note.target, kind="x"), "k1")):
        with trips.counting() as made:
            ledger.append_many([body], idempotency_keys=[key])
        # the pool's ping; BEGIN, the lock and every read; the writes and the COMMIT
        assert made == [3], (body, made)

    with trips.counting() as made:  # (a batch small enough to be pipelined)
        ledger.append_many([DatasetVersion(name="raw", version=f"v{n}") for n in range(2, 12)])
    assert made == [3]
