"""Schema ids, versions and upgrades: how a stored body becomes a current record.

A schema id is ``<name>/<version>`` (``pedigree.run/2``). Records in the log are never
rewritten: a body written under an older version is upgraded when it is read, by the
chain of upgrade functions registered here, then validated as the current model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from pedigree.errors import RecordError, SchemaVersionError
from pedigree.model.records import RECORD_TYPES, RecordBody
from pedigree.model.types import parse_time

CURRENT: dict[str, type[RecordBody]] = {cls.SCHEMA: cls for cls in RECORD_TYPES}
"""Schema name -> the model class of its current version."""

SHORT_NAMES: dict[str, str] = {name.removeprefix("pedigree."): name for name in CURRENT}
"""``run`` -> ``pedigree.run``: the names users type on the command line."""

M = TypeVar("M", bound=BaseModel)

Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


def _run_1_to_2(body: dict[str, Any]) -> dict[str, Any]:
    """``pedigree.run/1`` held the intent as plain text and a single ``seed``."""
    body = dict(body)
    intent = body.pop("intent", None)
    if intent is not None:
        body["intent"] = {"text": intent}
    seed = body.pop("seed", None)
    if seed is not None:
        body["seeds"] = {"global": seed}
    return body


UPGRADES: dict[tuple[str, int], Upgrade] = {
    ("pedigree.run", 1): _run_1_to_2,
}
"""(schema name, version) -> function turning that version's body into the next version's."""


def split_schema_id(schema_id: str) -> tuple[str, int]:
    name, sep, version = schema_id.rpartition("/")
    if not sep or not version.isdigit():
        raise SchemaVersionError(f"malformed schema id {schema_id!r} (expected NAME/VERSION)")
    return name, int(version)


def known_versions(name: str) -> list[int]:
    current = CURRENT[name].VERSION
    return sorted({current} | {v for (n, v) in UPGRADES if n == name})


def record_class(schema: str) -> type[RecordBody]:
    """The current class for a schema name, short name (``run``) or schema id."""
    name = schema.split("/")[0]
    name = SHORT_NAMES.get(name, name)
    if name not in CURRENT:
        raise SchemaVersionError(
            f"unknown record type {schema!r} (known: {', '.join(sorted(SHORT_NAMES))})"
        )
    return CURRENT[name]


def upgrade(schema_id: str, body: dict[str, Any]) -> tuple[type[RecordBody], dict[str, Any]]:
    """Bring ``body`` written under ``schema_id`` up to the current version of its type."""
    name, version = split_schema_id(schema_id)
    cls = record_class(name)
    if version not in known_versions(name):
        raise SchemaVersionError(
            f"unknown schema version {schema_id} (this Pedigree reads "
            + ", ".join(f"{name}/{v}" for v in known_versions(name))
            + ")"
        )
    while version < cls.VERSION:
        body = UPGRADES[(name, version)](body)
        version += 1
    return cls, body


def describe_validation_error(title: str, error: ValidationError) -> str:
    """One line naming each bad field, e.g. ``run: job: field required; kind: ...``."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"]) or "record"
        parts.append(f"{where}: {item['msg']}")
    return f"malformed {title} record: " + "; ".join(parts)


def load_body(schema_id: str, body: Any) -> RecordBody:
    """Validate a stored or submitted body, upgrading it first if it is of an older version."""
    if not isinstance(body, dict):
        raise RecordError(f"malformed {schema_id} record: the body must be a JSON object")
    cls, body = upgrade(schema_id, body)
    return validate(cls, body)


def validate(cls: type[M], data: Any) -> M:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        title = getattr(cls, "SCHEMA", cls.__name__).removeprefix("pedigree.")
        raise RecordError(describe_validation_error(title, exc)) from None


def body_to_json(body: RecordBody) -> dict[str, Any]:
    """The JSON-ready form that gets canonicalised.

    Unset (``None``) fields and empty top-level collections are left out: they equal the
    defaults, so reading the record back gives the same model, and records stay small.
    Values inside free-form fields (``parameters``, ``facets``…) are kept exactly.
    """
    data = body.model_dump(mode="json", exclude_none=True)
    return {key: value for key, value in data.items() if value or type(value) not in _EMPTIED}


_EMPTIED = frozenset({list, dict})
"""Types whose empty values ``body_to_json`` leaves out (a type test costs less than
comparing every value with ``[]`` and ``{}``)."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One record as read back from the log: its envelope and its (upgraded) body."""

    seq: int
    time: datetime
    actor: str
    schema: str
    body: RecordBody
    canonical: bytes
    leaf_hash: bytes

    @property
    def type(self) -> str:
        return split_schema_id(self.schema)[0].removeprefix("pedigree.")

    def to_json(self) -> dict[str, Any]:
        """The stored envelope exactly as written (the body in its original version)."""
        return json.loads(self.canonical)

    @classmethod
    def from_canonical(cls, canonical: bytes, leaf_hash: bytes) -> LogEntry:
        """Parse stored canonical bytes; an older body is upgraded, the bytes stay as they are."""
        try:
            data = _loads(canonical)
            schema = data["schema"]
            seq, time, actor, body = data["seq"], data["time"], data["actor"], data["body"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RecordError(f"stored record is not a Pedigree envelope: {exc}") from None
        return cls(
            seq=seq,
            time=parse_time(time),
            actor=actor,
            schema=schema,
            body=load_body(schema, body),
            canonical=canonical,
            leaf_hash=leaf_hash,
        )


def _loads(canonical: bytes) -> Any:
    """Stored JSON parsed by ``orjson``, a few times faster than ``json``: the same values,
    except that an integer beyond 64 bits, which only an integral float can have been
    (RFC 8785 writes ``1e20`` as digits), is read as that float, as ``parse_json`` does.
    What it refuses (lone surrogates) goes to ``json``."""
    try:
        return orjson.loads(canonical)
    except orjson.JSONDecodeError:
        return json.loads(canonical)


def parse_submission(data: Any) -> RecordBody:
    """A record submitted as JSON: ``{"schema": "pedigree.run/2", "body": {...}}``.

    ``seq``, ``time`` and ``actor`` are the ledger's to assign, so they are refused here.
    """
    if not isinstance(data, dict):
        raise RecordError("malformed record: expected a JSON object with `schema` and `body`")
    unexpected = sorted(set(data) - {"schema", "body"})
    if unexpected:
        raise RecordError(
            f"malformed record: unexpected field(s) {', '.join(unexpected)} "
            "(a submission holds only `schema` and `body`; the ledger assigns seq, time, actor)"
        )
    if "schema" not in data or not isinstance(data["schema"], str):
        raise RecordError('malformed record: missing `schema` (e.g. "pedigree.run/2")')
    return load_body(data["schema"], data.get("body"))
