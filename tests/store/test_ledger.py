"""The Ledger on real SQLite and real PostgreSQL: writing, refusing bad records, reading."""

from __future__ import annotations

import os
import sqlite3
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from pedigree.errors import (
    ConflictError,
    DanglingReferenceError,
    LineageCycleError,
    RecordError,
    SchemaVersionError,
    SigningKeyError,
    StoreError,
)
from pedigree.ledger import verify_evidence
from pedigree.model import (
    Agent,
    Annotation,
    DatasetVersion,
    ModelVersion,
    Run,
    Target,
)
from pedigree.store import Appended, Ledger
from pedigree.store import ledger as ledger_module
from pedigree.store import schema as t
from tests.pipeline import digest, record_pipeline


def counts(ledger: Ledger) -> dict[str, int]:
    with ledger.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.records, *t.PROJECTIONS)
        }


# --- creating and opening ----------------------------------------------------------------------


def test_init_creates_the_store_and_a_private_key(tmp_path: Path) -> None:
    ledger, created = Ledger.init(tmp_path / "s")
    with ledger:
        assert created and ledger.size == 0
        key = tmp_path / "s" / "ledger.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert (tmp_path / "s" / "ledger.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    conn = sqlite3.connect(tmp_path / "s" / "pedigree.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again, created = Ledger.init(tmp_path / "s")
    again.close()
    assert not created and again.log_id == ledger.log_id


def test_opening_finds_the_nearest_store_like_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Ledger.init(tmp_path / ".pedigree")[0].close()
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    with Ledger.open() as ledger:
        assert ledger.location.path == tmp_path / ".pedigree"
    monkeypatch.setenv("PEDIGREE_HOME", str(tmp_path / "elsewhere"))
    with pytest.raises(StoreError, match="no Pedigree store at .*elsewhere"):
        Ledger.open()


def test_unreadable_stores_give_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "pedigree.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        Ledger.open(tmp_path / "junk")
    (tmp_path / "empty").mkdir()
    sqlite3.connect(tmp_path / "empty" / "pedigree.db").close()
    with pytest.raises(StoreError, match="not a Pedigree store"):
        Ledger.open(tmp_path / "empty")
    with pytest.raises(StoreError, match="cannot use the store at postgresql"):
        Ledger.open(tmp_path, "postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="unsupported database URL"):
        Ledger.open(tmp_path, "mysql://x/y")


def test_migrations_build_exactly_the_declared_schema(store_args: dict[str, str | None]) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pedigree.store.engine import HEAD_REVISION, alembic_head, current_revision

    ledger, _ = Ledger.init(store_args["store"], store_args["database_url"])
    with ledger, ledger.engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION == alembic_head()
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
        assert diff == []


def test_a_store_behind_the_code_asks_for_an_upgrade(tmp_path: Path) -> None:
    Ledger.init(tmp_path / "s")[0].close()
    conn = sqlite3.connect(tmp_path / "s" / "pedigree.db")
    conn.execute("UPDATE alembic_version SET version_num = '0000'")
    conn.commit()
    with pytest.raises(StoreError, match="run `pedigree init` to upgrade"):
        Ledger.open(tmp_path / "s")


# --- appending ----------------------------------------------------------------------------------


def test_records_read_back_as_written(ledger: Ledger) -> None:
    pipe = record_pipeline(ledger)
    assert ledger.size == 8
    entry = ledger.entry(4)
    assert entry.schema == "pedigree.run/2" and entry.actor == "tester"
    assert entry.body == pipe.generate
    assert entry.to_json()["seq"] == 4
    assert [e.seq for e in ledger.entries(types=["run"])] == [4, 6, 8]


def test_old_schema_submissions_are_upgraded_before_they_are_written(ledger: Ledger) -> None:
    version = DatasetVersion(name="d", version="1")
    ledger.append(version)
    old_run = {
        "schema": "pedigree.run/1",
        "body": {
            "job": {"name": "j"},
            "kind": "transform",
            "intent": "old",
            "seed": 3,
            "run_id": str(uuid.uuid4()),
            "inputs": [{"name": "d", "version": "1"}],
        },
    }
    appended = ledger.append(old_run)
    entry = ledger.entry(appended.seq)
    assert entry.schema == "pedigree.run/2"  # the ledger writes the current version
    assert entry.body.seeds == {"global": 3}  # type: ignore[attr-defined]
    assert entry.to_json()["body"]["intent"]["text"] == "old"
    with pytest.raises(SchemaVersionError):
        ledger.append({"schema": "pedigree.run/7", "body": {}})


def test_the_same_version_twice_is_a_no_op_but_other_content_conflicts(ledger: Ledger) -> None:
    v = DatasetVersion(name="d", fingerprint=digest("x"), row_count=3)
    first = ledger.append(v)
    again = ledger.append(v)
    assert again.existing and again.seq == first.seq and ledger.size == 1
    with pytest.raises(ConflictError, match="already recorded .* with different content"):
        ledger.append(DatasetVersion(name="d", fingerprint=digest("x"), row_count=4))
    with pytest.raises(ConflictError, match="recorded as a dataset, not a model"):
        ledger.append(ModelVersion(name="d", version="m1"))
    assert ledger.size == 1


@pytest.mark.parametrize(
    ("bad", "error", "fragment"),
    [
        (
            Run(job="j", kind="train", inputs=[{"name": "ghost", "version": "1"}]),
            DanglingReferenceError,
            "run input default:ghost@1 is not recorded",
        ),
        (
            Run(job="j", kind="train", agents=[{"agent": "bob"}]),
            DanglingReferenceError,
            "agent 'bob'",
        ),
        (
            Run(job="j", kind="train", parent_run_id=uuid.uuid4()),
            DanglingReferenceError,
            "parent run",
        ),
        (
            DatasetVersion(name="d2", version="1", derived_from=[{"name": "nope", "version": "1"}]),
            DanglingReferenceError,
            "derived_from version",
        ),
        (
            Annotation(target=Target(type="dataset", name="nope"), kind="tag"),
            DanglingReferenceError,
            "annotation target dataset",
        ),
        (
            Annotation(target=Target(type="run", id=str(uuid.uuid4())), kind="tag"),
            DanglingReferenceError,
            "annotation target run",
        ),
        (
            Annotation(
                target=Target(type="dataset", name="d"), kind="tag", supersedes=uuid.uuid4()
            ),
            DanglingReferenceError,
            "supersedes",
        ),
        ({"schema": "pedigree.run/2", "body": {"job": "j"}}, RecordError, "kind: Field required"),
        (
            {
                "schema": "pedigree.agent/1",
                "body": {"agent_id": "x", "kind": "person", "facets": {"n": float("nan")}},
            },
            RecordError,
            "RFC 8785",
        ),
    ],
)
def test_bad_records_are_refused_and_nothing_is_written(
    ledger: Ledger, bad, error, fragment: str
) -> None:  # type: ignore[no-untyped-def]
    ledger.append(DatasetVersion(name="d", version="1"))
    before = counts(ledger)
    head = ledger.head()
    good = DatasetVersion(name="fine", version="1")
    with pytest.raises(error, match=fragment) as info:
        ledger.append_many([good, bad])
    assert str(info.value).startswith("item 2 of 2: ")
    assert counts(ledger) == before
    assert ledger.head() == head


def test_rows_written_alongside_commit_with_the_records_or_not_at_all(ledger: Ledger) -> None:
    def meta(key: str) -> list[str]:
        with ledger.engine.connect() as conn:
            return list(conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalars())

    seen: list[list[int]] = []

    def note(conn: Any, results: list[Appended]) -> None:
        seen.append([r.seq for r in results])
        conn.execute(t.meta.insert().values(key="alongside-1", value="kept"))

    first = ledger.append_many(
        [DatasetVersion(name="s", version="1"), DatasetVersion(name="s", version="2")],
        alongside=note,
    )
    assert seen == [[r.seq for r in first]] and meta("alongside-1") == ["kept"]

    def refuse(conn: Any, results: list[Appended]) -> None:
        conn.execute(t.meta.insert().values(key="alongside-2", value="lost"))
        raise RecordError("refused alongside")

    size = ledger.size
    with pytest.raises(RecordError, match="refused alongside"):
        ledger.append_many([DatasetVersion(name="s", version="3")], alongside=refuse)
    with pytest.raises(RecordError, match="refused alongside"):
        ledger.append_derived(
            lambda conn: [DatasetVersion(name="s", version="3")], alongside=refuse
        )
    assert ledger.size == size and meta("alongside-2") == []
    assert ledger.audit().ok


def test_an_append_sent_in_parts_is_still_one_atomic_append(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a large append sends its writes every ``SEND_EVERY`` records (or
    ``SEND_BYTES``), before the rest is checked: a record refused in a later part still
    leaves nothing written, and what is written reads back, audits and reindexes as if
    sent at once."""
    monkeypatch.setattr(ledger_module, "SEND_EVERY", 4)
    sent: list[int] = []

    def counted(conn: Any, table: Any, rows: list) -> None:
        sent.extend([len(rows)] if table is t.records and rows else [])
        real_bulk_insert(conn, table, rows)

    real_bulk_insert = ledger_module.bulk_insert
    monkeypatch.setattr(ledger_module, "bulk_insert", counted)
    steps = []
    for n in range(10):
        src = DatasetVersion(name=f"src{n % 3}", version=str(n))
        out = DatasetVersion(name=f"out{n % 3}", version=str(n))
        steps += [
            src,
            out,
            Run(job=f"j{n % 3}", kind="transform", inputs=[src.io()], outputs=[out.io()]),
        ]
    assert [r.seq for r in ledger.append_many(steps)] == list(range(1, 31))
    postgresql = ledger.engine.dialect.name == "postgresql"
    assert sent == ([4] * 7 + [2] if postgresql else [30])
    before, head = counts(ledger), ledger.head()
    assert before["datasets"] == 6 and before["runs"] == 10 and before["edges"] == 20

    late = [DatasetVersion(name="late", version=str(n)) for n in range(9)]
    unknown = DatasetVersion(name="never", version="1")
    with pytest.raises(DanglingReferenceError, match="item 10 of 10: run input"):
        ledger.append_many([*late, Run(job="j", kind="transform", inputs=[unknown.io()])])
    cycle = [
        *late[:6],
        Run(job="a", kind="transform", inputs=[late[0].io()], outputs=[late[1].io()]),
        Run(job="b", kind="transform", inputs=[late[1].io()], outputs=[late[0].io()]),
    ]
    with pytest.raises(LineageCycleError, match="item 8 of 8"):
        ledger.append_many(cycle)
    assert counts(ledger) == before and ledger.head() == head
    # a part also ends at SEND_BYTES of log rows (large records)
    monkeypatch.setattr(ledger_module, "SEND_EVERY", 1000)
    monkeypatch.setattr(ledger_module, "SEND_BYTES", 1)
    sent.clear()
    ledger.append_many(late[:3])
    assert sent == ([1, 1, 1] if postgresql else [3])
    assert ledger.audit().ok
    upstream, after = ledger.trace("out2", direction="up").to_json(), counts(ledger)
    assert ledger.reindex() == 33
    assert counts(ledger) == after and after["records"] == 33
    assert ledger.trace("out2", direction="up").to_json() == upstream


def test_lineage_cycles_are_refused(ledger: Ledger) -> None:
    a = DatasetVersion(name="a", version="1")
    b = DatasetVersion(name="b", version="1")
    c = DatasetVersion(name="c", version="1")
    ledger.append_many(
        [a, b, c, Run(job="ab", kind="transform", inputs=[a.io()], outputs=[b.io()])]
    )
    ledger.append(Run(job="bc", kind="transform", inputs=[b.io()], outputs=[c.io()]))
    with pytest.raises(LineageCycleError, match="both uses and generates"):
        ledger.append(Run(job="aa", kind="transform", inputs=[a.io()], outputs=[a.io()]))
    with pytest.raises(LineageCycleError, match="circular"):
        ledger.append(Run(job="ca", kind="transform", inputs=[c.io()], outputs=[a.io()]))
    # within one batch, before anything is flushed
    d = DatasetVersion(name="d", version="1")
    with pytest.raises(LineageCycleError):
        ledger.append_many(
            [
                d,
                Run(job="cd", kind="transform", inputs=[c.io()], outputs=[d.io()]),
                Run(job="da", kind="transform", inputs=[d.io()], outputs=[a.io()]),
            ]
        )
    assert ledger.size == 5
    # a cycle through versions new in the batch, after part of it was already written
    # (a flush in between: here the walk for run "bf", whose output b is not new)
    f, g, h = (DatasetVersion(name=n, version="1") for n in "fgh")
    with pytest.raises(LineageCycleError, match="circular"):
        ledger.append_many(
            [
                f,
                g,
                h,
                Run(job="fg", kind="transform", inputs=[f.io()], outputs=[g.io()]),
                Run(job="hb", kind="transform", inputs=[h.io()], outputs=[b.io()]),
                Run(job="gf", kind="transform", inputs=[g.io()], outputs=[f.io()]),
            ]
        )
    assert ledger.size == 5
    # regenerating an existing version from unrelated input is fine
    e = DatasetVersion(name="e", version="1")
    ledger.append_many([e, Run(job="eb", kind="transform", inputs=[e.io()], outputs=[b.io()])])


def test_a_run_recorded_twice_is_superseded_and_keeps_its_job(ledger: Ledger) -> None:
    src = DatasetVersion(name="src", version="1")
    out = DatasetVersion(name="out", version="1")
    running = Run(job="j", kind="transform", status="running", inputs=[src.io()])
    ledger.append_many([src, out, running])
    mid = ledger.size
    done = running.model_copy(update={"status": "completed", "outputs": [out.io()]})
    ledger.append(done)
    assert ledger.append(done).existing  # a retried identical record adds nothing
    now = ledger.trace("out@1", direction="up")
    assert {n.type for n in now.nodes.values()} == {"dataset_version", "run"}
    run_node = next(n for n in now.nodes.values() if n.type == "run")
    assert run_node.status == "completed"
    before = ledger.trace("src", direction="down", as_of=mid)
    assert [n.status for n in before.nodes.values() if n.type == "run"] == ["running"]
    assert not any(n.name == "out" for n in before.nodes.values())
    with pytest.raises(ConflictError, match="cannot change its job or kind"):
        ledger.append(done.model_copy(update={"kind": "train"}))


def test_agents_and_annotations_supersede(ledger: Ledger) -> None:
    ledger.append(Agent(agent_id="svc", kind="service", version="1"))
    ledger.append(Agent(agent_id="svc", kind="service", version="2"))
    ledger.append(DatasetVersion(name="d", version="1"))
    note = Annotation(
        target=Target(type="version", name="d", version="1"), kind="tag", body={"tag": "pii"}
    )
    ledger.append(note)
    fixed = Annotation(
        target=note.target, kind="tag", body={"tag": "no-pii"}, supersedes=note.annotation_id
    )
    ledger.append(fixed)
    details = ledger.show("d@1")
    assert [a.body.body for a in details.annotations] == [{"tag": "no-pii"}]  # type: ignore[attr-defined]
    assert len(details.history) == 3
    with pytest.raises(ConflictError, match="annotation .* already recorded"):
        ledger.append(note.model_copy(update={"body": {"tag": "other"}}))


# --- lineage ------------------------------------------------------------------------------------


def test_trace_up_from_the_model_names_every_step(ledger: Ledger) -> None:
    record_pipeline(ledger)
    graph = ledger.trace("models/readmission", direction="up")
    names = {n.name for n in graph.nodes.values()}
    assert names == {
        "models/readmission",
        "models/train",
        "synthetic/patients-masked",
        "synth/mask",
        "synthetic/patients",
        "synth/generate",
        "warehouse/patients",
    }
    kinds = sorted(e.kind for e in graph.edges)
    assert kinds == ["generated", "generated", "generated", "trained_on", "used", "used"]
    data = graph.to_json()
    assert data["roots"] == ["model:default:models/readmission@v1"]
    assert {"source", "target", "kind"} <= set(data["edges"][0])
    shallow = ledger.trace("models/readmission", direction="up", depth=2)
    assert {n.name for n in shallow.nodes.values()} == {
        "models/readmission",
        "models/train",
        "synthetic/patients-masked",
    }


def test_upstream_names_exact_input_versions_as_of_any_time(ledger: Ledger) -> None:
    first = record_pipeline(ledger, tag="-1")
    cut = ledger.size
    second = record_pipeline(ledger, tag="-2")
    up1 = ledger.trace(f"models/readmission@{first.model.version}", direction="up")
    versions = {n.version for n in up1.nodes.values() if n.name == "warehouse/patients"}
    assert versions == {first.real.version}  # not the newer source version
    then = ledger.trace("models/readmission", direction="up", as_of=cut)
    assert {n.version for n in then.nodes.values() if n.version} == {
        first.model.version,
        first.masked.version,
        first.synthetic.version,
        first.real.version,
    }
    now = ledger.trace("warehouse/patients", direction="down")
    assert {n.version for n in now.nodes.values() if n.name == "models/readmission"} == {
        "v1-1",
        "v1-2",
    }
    assert second.model.version == "v1-2"
    with pytest.raises(Exception, match="nothing recorded matches"):
        ledger.trace("models/readmission", as_of=0)


def test_as_of_accepts_times(ledger: Ledger) -> None:
    ledger.append(DatasetVersion(name="early", version="1"))
    stamp = ledger.entry(1).to_json()["time"]
    ledger.append(DatasetVersion(name="late", version="1"))
    assert ledger.as_of(stamp) == 1
    assert ledger.as_of("2000-01-01T00:00:00Z") == 0
    with pytest.raises(Exception, match="neither a record number nor an ISO time"):
        ledger.as_of("yesterday")


def test_path_and_impact(ledger: Ledger) -> None:
    pipe = record_pipeline(ledger)
    forward = ledger.path("warehouse/patients", "models/readmission")
    assert forward is not None
    assert [e.kind for e in forward.edges] == [
        "used",
        "generated",
        "used",
        "generated",
        "trained_on",
        "generated",
    ]
    backward = ledger.path("models/readmission", "warehouse/patients")
    assert backward is not None and backward.selection.ref.startswith(
        "dataset:default:warehouse/patients"
    )
    ledger.append(DatasetVersion(name="island", version="1"))
    assert ledger.path("island", "models/readmission") is None
    ledger.append(
        Annotation(
            target=pipe.synthetic.ref().target(), kind="lifecycle", body={"state": "withdrawn"}
        )
    )
    impact = ledger.impact("warehouse/patients")
    statuses = {n.name: n.status for n in impact.nodes.values()}
    assert statuses["synthetic/patients"] == "withdrawn"
    assert statuses["synth/mask"] == "completed"
    assert len(impact.nodes) == 7
    earlier = ledger.impact("warehouse/patients", as_of=ledger.size - 1)
    assert {n.name: n.status for n in earlier.nodes.values()}["synthetic/patients"] == "active"


def test_references_resolve_by_name_namespace_prefix_and_run_id(ledger: Ledger) -> None:
    pipe = record_pipeline(ledger)
    ledger.append(DatasetVersion(namespace="postgres://u@db:5432", name="public.t", version="7"))
    assert ledger.resolve("postgres://u@db:5432:public.t").type == "dataset"
    assert ledger.resolve("public.t@7").ref == "dataset:postgres://u@db:5432:public.t@7"
    short = pipe.real.version.split(":")[1][:10]
    assert ledger.resolve(f"warehouse/patients@{short}").node_ids == (2,)
    assert ledger.resolve("warehouse/patients@latest").node_ids == (2,)
    assert ledger.resolve(f"run:{str(pipe.generate.run_id)[:8]}").type == "run"
    assert ledger.resolve(str(pipe.generate.run_id)).type == "run"
    assert ledger.resolve("job:synth/mask").type == "job"
    assert ledger.resolve("synth/mask").type == "job"
    assert ledger.resolve("model:models/readmission").type == "model"
    ledger.append(DatasetVersion(namespace="other", name="warehouse/patients", version="1"))
    with pytest.raises(Exception, match="ambiguous"):
        ledger.resolve("warehouse/patients")
    assert ledger.resolve("other:warehouse/patients").ref == "dataset:other:warehouse/patients"


def test_show_and_log_filters(ledger: Ledger) -> None:
    pipe = record_pipeline(ledger)
    details = ledger.show("synthetic/patients")
    assert details.current is not None and details.current.body == pipe.synthetic
    assert [n.name for _, n in details.upstream] == ["synth/generate"]
    assert [n.name for _, n in details.downstream] == ["synth/mask"]
    run = ledger.show(f"run:{pipe.generate.run_id}")
    assert run.current is not None and run.current.body == pipe.generate
    assert [e.seq for e in ledger.entries(job="synth/mask")] == [6]
    assert [e.seq for e in ledger.entries(dataset="synthetic/patients")] == [3, 4, 6]
    assert [e.seq for e in ledger.entries(since=7)] == [7, 8]
    assert [e.seq for e in ledger.entries(limit=2, newest_first=True)] == [8, 7]
    assert [e.seq for e in ledger.entries(types=["agent", "model_version"])] == [1, 7]


def test_reindex_rebuilds_identical_answers(ledger: Ledger) -> None:
    pipe = record_pipeline(ledger, tag="-1")
    record_pipeline(ledger, tag="-2")
    ledger.append(
        Annotation(
            target=pipe.synthetic.ref().target(), kind="lifecycle", body={"state": "deprecated"}
        )
    )
    ledger.append(pipe.mask.model_copy(update={"status": "failed", "error": "boom"}))

    def answers() -> list:
        return [
            ledger.trace("models/readmission", direction="up").to_json(),
            ledger.trace("warehouse/patients", direction="down", as_of=10).to_json(),
            ledger.impact("warehouse/patients").to_json(),
            ledger.show("synthetic/patients").to_json(),
            (ledger.path("warehouse/patients", "models/readmission") or pytest.fail()).to_json(),
            [e.to_json() for e in ledger.entries(dataset="synthetic/patients")],
        ]

    def tables() -> dict[str, list]:
        with ledger.engine.connect() as conn:
            return {
                tbl.name: sorted(
                    tuple(r)
                    for r in conn.execute(
                        select(*[c for c in tbl.c if c.name != "id" or tbl is not t.edges])
                    )
                )
                for tbl in t.PROJECTIONS
            }

    before, rows = answers(), tables()
    assert ledger.reindex() == ledger.size
    assert answers() == before
    assert tables() == rows
    assert ledger.audit().ok


# --- checkpoints, proofs, keys -----------------------------------------------------------------


def test_checkpoints_and_proofs_verify_offline(ledger: Ledger) -> None:
    record_pipeline(ledger)
    first = ledger.checkpoint()
    assert first.size == 8 and [c.size for c in ledger.checkpoints()] == [0, 8]
    for i in range(300):  # enough to need stored Merkle nodes (level >= 8)
        ledger.append(Agent(agent_id=f"agent-{i}", kind="service"))
    public = ledger.location.public_key_path.read_text()
    for seq in (1, 8, 100, 256, 257, 308):
        verify_evidence(ledger.prove(seq), public)
    verify_evidence(ledger.prove(3, tree_size=8), public)
    verify_evidence(ledger.prove_consistency(8), public)
    verify_evidence(ledger.prove_consistency(0, 8), public)
    with pytest.raises(Exception, match="no signed checkpoint of size 9"):
        ledger.prove(3, tree_size=9)
    with pytest.raises(Exception, match="not in the signed tree"):
        ledger.prove(309)


def test_a_wrong_or_exposed_signing_key_is_refused(
    store_args: dict[str, str | None], tmp_path: Path
) -> None:
    ledger, _ = Ledger.init(store_args["store"], store_args["database_url"])
    ledger.close()
    key = Path(str(store_args["store"])) / "ledger.key"
    os.chmod(key, 0o644)
    with (
        Ledger.open(store_args["store"], store_args["database_url"]) as reopened,
        pytest.raises(SigningKeyError, match="accessible by other users"),
    ):
        reopened.append(DatasetVersion(name="d", version="1"))
    os.chmod(key, 0o600)
    other, _ = Ledger.init(tmp_path / "other")
    other.close()
    key.write_bytes((tmp_path / "other" / "ledger.key").read_bytes())
    with Ledger.open(store_args["store"], store_args["database_url"]) as reopened:
        with pytest.raises(SigningKeyError, match="is not this ledger's key"):
            reopened.append(DatasetVersion(name="d", version="1"))
        assert reopened.size == 0


def test_append_derived_reads_under_the_lock_and_appends_all_or_nothing(ledger: Ledger) -> None:
    """``derive`` sees the head it extends (the write lock is held); what it returns is
    appended in the same transaction; an error it raises appends nothing."""

    def derive(conn):  # type: ignore[no-untyped-def]
        size = conn.execute(select(t.ledger_state.c.size)).scalar_one()
        return [Agent(agent_id=f"after-{size}", kind="service")]

    before = ledger.size
    (appended,) = ledger.append_derived(derive, actor="deriver")
    assert appended.seq == before + 1 and not appended.existing
    entry = ledger.entry(appended.seq)
    assert entry.actor == "deriver" and entry.body == Agent(
        agent_id=f"after-{before}", kind="service"
    )

    def refuse(conn):  # type: ignore[no-untyped-def]
        raise RecordError("the state says no")

    with pytest.raises(RecordError, match="the state says no"):
        ledger.append_derived(refuse)
    with pytest.raises(DanglingReferenceError):  # the second record refers to a missing run
        ledger.append_derived(
            lambda conn: [
                Agent(agent_id="never", kind="service"),
                Annotation(target=Target(type="run", id=str(uuid.uuid4())), kind="note"),
            ]
        )
    assert ledger.append_derived(lambda conn: []) == []
    assert ledger.size == before + 1 and ledger.audit().ok


@pytest.mark.parametrize("count", [2, 60], ids=["one-part", "three-parts"])
def test_idempotency_keys_replay_what_they_appended_and_refuse_other_content(
    ledger: Ledger, count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module, "SEND_EVERY", 25)  # (parts of an append: PostgreSQL)
    records = [DatasetVersion(name="keyed", version=str(n)) for n in range(count)]
    keys = [f"delivery-{n}" for n in range(count)]
    first = ledger.append_many(records, idempotency_keys=keys)
    size = ledger.size
    again = ledger.append_many(records, idempotency_keys=keys)
    assert [a.seq for a in again] == [a.seq for a in first]
    assert all(a.existing for a in again) and ledger.size == size
    other = [*records[:-1], DatasetVersion(name="keyed", version="other")]
    with pytest.raises(ConflictError, match=f"idempotency key 'delivery-{count - 1}' was used"):
        ledger.append_many(other, idempotency_keys=keys)
    assert ledger.size == size
    assert ledger.audit().ok
