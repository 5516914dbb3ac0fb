"""Record types: validation, shorthands, schema ids, upgrades and JSON Schemas."""

from __future__ import annotations

import uuid

import pytest
from jsonschema import Draft202012Validator

from pedigree.errors import RecordError, SchemaVersionError
from pedigree.model import (
    Annotation,
    DatasetVersion,
    LogEntry,
    ModelVersion,
    Run,
    Target,
    body_to_json,
    load_body,
    parse_submission,
    record_class,
)
from pedigree.model.registry import validate
from pedigree.model.schemas import all_schemas, json_schema


def test_schema_ids_are_versioned() -> None:
    assert Run.schema_id() == "pedigree.run/2"
    assert DatasetVersion.schema_id() == "pedigree.dataset_version/1"
    assert record_class("run") is Run
    assert record_class("pedigree.model_version/1") is ModelVersion


def test_version_defaults_to_fingerprint_or_single_file() -> None:
    v = DatasetVersion(name="d", fingerprint="sha256:" + "a" * 64)
    assert v.version == v.fingerprint
    f = DatasetVersion(name="d", files=[{"path": "x.csv", "sha256": "b" * 64, "size": 3}])
    assert f.version == "sha256:" + "b" * 64
    with pytest.raises(ValueError, match="needs `version`"):
        DatasetVersion(name="d")


def test_run_shorthands_and_defaults() -> None:
    run = Run(job="synth/generate", kind="generate", intent="why")
    assert run.job.namespace == "default" and run.job.name == "synth/generate"
    assert run.intent is not None and run.intent.text == "why"
    assert run.status == "completed"
    assert isinstance(run.run_id, uuid.UUID)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"job": "j"}, "kind: Field required"),
        ({"job": "j", "kind": "Not A Token"}, "kind: String should match pattern"),
        ({"job": "j", "kind": "train", "status": "done"}, "status: Input should be"),
        ({"job": "j", "kind": "train", "typo": 1}, "typo: Extra inputs are not permitted"),
        ({"job": "", "kind": "train"}, "job.name"),
        (
            {
                "job": "j",
                "kind": "train",
                "started_at": "2026-01-02T00:00:00Z",
                "ended_at": "2026-01-01T00:00:00Z",
            },
            "ended_at is before started_at",
        ),
        ({"job": "j", "kind": "train", "intent": {}}, "needs `text` or at least one `expect`"),
    ],
)
def test_malformed_runs_name_the_field(data: dict, fragment: str) -> None:
    with pytest.raises(RecordError) as info:
        validate(Run, data)
    message = str(info.value)
    assert message.startswith("malformed run record:")
    assert fragment in message
    assert "\n" not in message


def test_targets_require_their_fields() -> None:
    assert Target(type="dataset", name="d").namespace == "default"
    with pytest.raises(ValueError, match="exactly id"):
        Target(type="run", name="x")
    with pytest.raises(ValueError):
        Target(type="run", id="not-a-uuid")
    with pytest.raises(ValueError, match="lifecycle annotation needs body.state"):
        Annotation(
            target=Target(type="dataset", name="d"), kind="lifecycle", body={"state": "gone"}
        )


def test_body_to_json_drops_unset_fields_but_keeps_free_form_values() -> None:
    run = Run(job="j", kind="train", parameters={"alpha": None, "layers": []})
    data = body_to_json(run)
    assert "intent" not in data and "inputs" not in data
    assert data["parameters"] == {"alpha": None, "layers": []}
    assert load_body(run.schema_id(), data) == run


def test_old_run_schema_is_upgraded_on_read() -> None:
    """pedigree.run/1 held intent as text and a single seed; it reads as run/2."""
    old = {
        "run_id": str(uuid.uuid4()),
        "job": {"name": "j"},
        "kind": "generate",
        "intent": "because",
        "seed": 42,
    }
    body = load_body("pedigree.run/1", old)
    assert isinstance(body, Run)
    assert body.intent is not None and body.intent.text == "because"
    assert body.seeds == {"global": 42}


def test_old_record_in_the_log_reads_through_its_upgrade() -> None:
    canonical = (
        b'{"actor":"a","body":{"intent":"legacy","job":{"name":"j","namespace":"default"},'
        b'"kind":"train","run_id":"3d5d4d6b-2bfb-44b1-9ef9-f717aaf3fed0","seed":1},'
        b'"schema":"pedigree.run/1","seq":1,"time":"2026-01-01T00:00:00.000000Z"}'
    )
    entry = LogEntry.from_canonical(canonical, b"")
    assert entry.schema == "pedigree.run/1"  # the stored record is untouched
    assert entry.body.intent.text == "legacy"  # type: ignore[attr-defined]
    assert entry.to_json()["body"]["seed"] == 1


def test_stored_numbers_and_escapes_read_back_as_written() -> None:
    """Reading a stored record keeps every value: an integral float beyond 64 bits (RFC
    8785 writes 1e20 as digits) reads as that float, and its canonical form is the bytes
    stored; an escaped lone surrogate, which the fast parser refuses, still reads."""
    from pedigree.ledger.canonical import canonical_json

    def stored(parameters: bytes) -> bytes:
        return (
            b'{"actor":"a","body":{"job":{"name":"j","namespace":"default"},"kind":"train",'
            b'"parameters":' + parameters + b',"run_id":"3d5d4d6b-2bfb-44b1-9ef9-f717aaf3fed0"},'
            b'"schema":"pedigree.run/2","seq":1,"time":"2026-01-01T00:00:00.000000Z"}'
        )

    big = LogEntry.from_canonical(stored(b'{"big":100000000000000000000,"n":-7,"x":0.25}'), b"")
    assert big.body.parameters == {"big": 1e20, "n": -7, "x": 0.25}  # type: ignore[attr-defined]
    assert canonical_json(big.body.parameters) == (  # type: ignore[attr-defined]
        b'{"big":100000000000000000000,"n":-7,"x":0.25}'
    )
    odd = LogEntry.from_canonical(stored(b'{"s":"\\ud800"}'), b"")
    assert odd.body.parameters == {"s": "\ud800"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ("pedigree.run/3", "unknown schema version pedigree.run/3"),
        ("pedigree.run/0", "unknown schema version"),
        ("pedigree.nope/1", "unknown record type"),
        ("pedigree.run", "malformed schema id"),
    ],
)
def test_unknown_schemas_are_refused(schema: str, fragment: str) -> None:
    with pytest.raises(SchemaVersionError, match=fragment):
        parse_submission({"schema": schema, "body": {"job": "j", "kind": "x"}})


def test_submissions_may_not_carry_ledger_fields() -> None:
    with pytest.raises(RecordError, match="unexpected field"):
        parse_submission({"schema": "pedigree.run/2", "body": {}, "seq": 4})
    with pytest.raises(RecordError, match="missing `schema`"):
        parse_submission({"body": {}})
    with pytest.raises(RecordError, match="body must be a JSON object"):
        parse_submission({"schema": "pedigree.run/2", "body": [1]})


def test_json_schemas_are_valid_and_accept_real_records() -> None:
    schemas = all_schemas()
    assert "pedigree.run/2" in schemas and "pedigree.record/1" in schemas
    for schema in schemas.values():
        Draft202012Validator.check_schema(schema)
    run = Run(job="j", kind="train", intent="x", parameters={"a": 1})
    Draft202012Validator(json_schema("run")).validate(body_to_json(run))
    bad = {"job": {"name": "j"}, "kind": "train", "unknown": True}
    assert list(Draft202012Validator(json_schema("run")).iter_errors(bad))
