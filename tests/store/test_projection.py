"""The projection's look-ups: what an append refers to is asked for once, all together."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pedigree.model import Agent, Annotation, DatasetVersion, Run, Target
from pedigree.store import Ledger, projection


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[list[Any]]:
    """The statements of each batch of look-ups the projection sends (``together``)."""
    batches: list[list[Any]] = []
    real = projection.together

    def spy(conn: Any, *calls: Any) -> Any:
        batches.append([statement for statement, _ in calls])
        return real(conn, *calls)

    monkeypatch.setattr(projection, "together", spy)
    return batches


def test_an_append_asks_for_what_it_refers_to_in_one_batch(
    ledger: Ledger, asked: list[list[Any]]
) -> None:
    source = DatasetVersion(name="raw", version="v1")
    run_id = uuid.uuid4()
    first = Run(run_id=run_id, job="etl", kind="transform", status="running")
    note = Annotation(target=Target(type="version", name="raw", version="v1"), kind="tag")
    ledger.append_many([source, first, Agent(agent_id="svc", kind="service"), note])
    asked.clear()

    output = DatasetVersion(name="clean", version="v1", derived_from=[source.ref()])
    done = Run(
        run_id=run_id,
        job="etl",
        kind="transform",
        status="completed",
        inputs=[source.io("source")],
        outputs=[output.io("output")],
        agents=[{"agent": "svc"}],
    )
    fixed = Annotation(
        target=Target(type="version", name="raw", version="v1"),
        kind="tag",
        supersedes=note.annotation_id,
    )
    appended = ledger.append_many([output, done, fixed])

    # One batch for the versions, job, run, agent and annotation the three records name;
    # nothing asked again while they are checked and projected, one by one.
    assert len(asked) == 1, asked
    assert set(asked[0]) == {
        projection._Q_DATASET_VERSIONS,
        projection.JOBS_BY_NAME,
        projection._Q_RUNS,
        projection._Q_AGENTS,
        projection._Q_NOTES,
    }
    assert [a.existing for a in appended] == [False, False, False]
    # ... and what they found is what the projection holds.
    up = ledger.trace("clean@v1", direction="up")
    assert {(n.type, n.name) for n in up.nodes.values()} == {
        ("dataset_version", "clean"),
        ("dataset_version", "raw"),
        ("run", "etl"),
    }
    assert [n.status for n in up.nodes.values() if n.type == "run"] == ["completed"]


def test_what_a_batch_records_first_its_later_records_find_without_asking(
    ledger: Ledger, asked: list[list[Any]]
) -> None:
    new = DatasetVersion(name="fresh", version="v1")
    later = DatasetVersion(name="fresh", version="v2", derived_from=[new.ref()])
    uses = Run(job="train", kind="train", inputs=[new.io("training")], outputs=[later.io()])
    ledger.append_many([new, later, uses])
    assert len(asked) == 1  # (the batch's look-ups: nothing of it was recorded yet)
    assert len(ledger.trace("fresh@v2", direction="up").nodes) == 3
