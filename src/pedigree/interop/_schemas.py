"""Validating OpenLineage events against the spec's JSON Schemas (vendored in ``schemas/``).

Validators are compiled once per process and cached: the HTTP endpoint validates many
events a second. An event is checked in two steps, so that each error names one problem:

1. its skeleton against the core schema's ``RunEvent``, ``DatasetEvent`` or ``JobEvent``
   (classified first: the core's ``oneOf`` only says "not valid under any of the given
   schemas"). In this step every facet only has to be a JSON object (the core's
   ``BaseFacet`` rules are lifted), so a custom facet is never rejected: Pedigree keeps it
   verbatim;
2. each *standard* facet against its own schema, chosen by key and by where it sits (the
   ``ownership`` of a job and of a dataset are different facets). Standard facets must
   carry ``_producer`` and ``_schemaURL`` as the spec says. A facet marked
   ``"_deleted": true`` is a deletion marker and is not checked further. (What a mismatch
   means, refusal or a flag, is decided by the caller.)

Each check runs first in ``jsonschema-rs`` (compiled Rust, ~1 µs an event), and only an
event it finds invalid is validated again by ``jsonschema`` to name the problem: the
Python validator alone costs ~0.7 ms an event, most of an ingest.

Date-time and URI formats are not enforced (real emitters send naive times; the spec's own
examples do), except what Pedigree needs to read: run ids are UUIDs, ``eventTime`` is ISO 8601
(checked by the mapping in ``openlineage.py``).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

CORE_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
EVENT_TYPES = ("RunEvent", "DatasetEvent", "JobEvent")

FacetPlace = str
"""Where a facet sits: ``run``, ``job``, ``dataset`` (a dataset's ``facets``), ``input``
(an input's ``inputFacets``) or ``output`` (an output's ``outputFacets``)."""

_BASES: dict[str, FacetPlace] = {
    "RunFacet": "run",
    "JobFacet": "job",
    "DatasetFacet": "dataset",
    "InputDatasetFacet": "input",
    "OutputDatasetFacet": "output",
}
_MESSAGE_LIMIT = 200


@functools.cache
def _documents() -> tuple[dict[str, Any], tuple[dict[str, Any], ...]]:
    """The core schema and the standard facet schemas, read from the package."""
    root = resources.files("pedigree.interop") / "schemas"
    core = json.loads((root / "OpenLineage.json").read_text(encoding="utf-8"))
    facets = tuple(
        json.loads(item.read_text(encoding="utf-8"))
        for item in sorted((root / "facets").iterdir(), key=lambda p: p.name)
        if item.name.endswith(".json")
    )
    if core.get("$id") != CORE_ID:  # pragma: no cover - guards a careless update
        raise RuntimeError(f"vendored OpenLineage.json is not {CORE_ID}")
    return core, facets


@functools.cache
def _schema_set(*, relaxed: bool) -> tuple[dict[str, Any], ...]:
    core, facets = _documents()
    if relaxed:  # in the skeleton, a facet is any JSON object
        core = copy.deepcopy(core)
        for name in ("BaseFacet", *_BASES):
            core["$defs"][name] = {"type": "object"}
    return (core, *facets)


@functools.cache
def _registry(*, relaxed: bool) -> Registry:
    docs = _schema_set(relaxed=relaxed)
    return Registry().with_resources(  # type: ignore[no-any-return]
        (doc["$id"], Resource.from_contents(doc)) for doc in docs
    )


@functools.cache
def _fast_registry(*, relaxed: bool) -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry([(doc["$id"], doc) for doc in _schema_set(relaxed=relaxed)])


@dataclass(frozen=True, slots=True)
class Checker:
    """One schema compiled twice: ``fast`` says whether an instance is valid, ``full``
    explains why not."""

    fast: Any
    full: Draft202012Validator


def _checker(uri: str, *, relaxed: bool) -> Checker:
    schema = {"$ref": uri}
    return Checker(
        fast=jsonschema_rs.validator_for(schema, registry=_fast_registry(relaxed=relaxed)),
        full=Draft202012Validator(schema, registry=_registry(relaxed=relaxed)),
    )


@functools.cache
def event_validator(event_type: str) -> Checker:
    """The checker of one event type's skeleton (facets need only be objects)."""
    return _checker(f"{CORE_ID}#/$defs/{event_type}", relaxed=True)


def _places(defs: Mapping[str, Any], name: str) -> Iterator[tuple[FacetPlace, str]]:
    """(place, definition) pairs of a facet definition, following ``anyOf``/``oneOf``
    alternatives (``lineage`` is a dataset or a job facet, ``subset`` input or output)."""
    definition = defs[name]
    found = False
    for part in definition.get("allOf", ()):
        ref = part.get("$ref", "")
        if ref.startswith(CORE_ID) and ref.rpartition("/")[2] in _BASES:
            found = True
            yield _BASES[ref.rpartition("/")[2]], name
    if not found:
        for part in (*definition.get("anyOf", ()), *definition.get("oneOf", ())):
            ref = part.get("$ref", "")
            if ref.startswith("#/$defs/"):
                yield from _places(defs, ref.removeprefix("#/$defs/"))


@functools.cache
def standard_facets() -> dict[tuple[FacetPlace, str], str]:
    """(place, facet key) -> the JSON pointer URI of that standard facet's schema."""
    out: dict[tuple[FacetPlace, str], str] = {}
    for doc in _documents()[1]:
        for key, prop in doc.get("properties", {}).items():
            ref = prop.get("$ref", "")
            if not ref.startswith("#/$defs/"):
                continue
            for place, definition in _places(doc["$defs"], ref.removeprefix("#/$defs/")):
                out[(place, key)] = f"{doc['$id']}#/$defs/{definition}"
    return out


@functools.cache
def facet_validator(place: FacetPlace, key: str) -> Checker | None:
    """The checker of a standard facet at ``place``, or ``None`` for a custom facet."""
    uri = standard_facets().get((place, key))
    return None if uri is None else _checker(uri, relaxed=False)


def first_error(checker: Checker, instance: Any) -> ValidationError | None:
    """The most relevant error, or ``None``. Should the two validators ever disagree,
    ``jsonschema`` (the reference implementation) decides."""
    try:
        if checker.fast.is_valid(instance):
            return None
    except (TypeError, ValueError, OverflowError):  # not plain JSON data: let jsonschema judge
        pass
    error = best_match(checker.full.iter_errors(instance))
    # The core wraps every facets object in a one-branch ``anyOf``: its error says only "not
    # valid under any of the given schemas"; the branch's own error says what is wrong.
    while (
        error is not None
        and error.validator in ("anyOf", "oneOf")
        and len(error.validator_value) == 1  # type: ignore[arg-type]
        and error.context
    ):
        error = best_match(error.context)
    return error


def path_text(parts: Iterator[Any] | Any) -> str:
    """``run.facets.parent`` / ``inputs[0].name`` from a JSON path."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def describe(error: ValidationError, prefix: str = "") -> str:
    """One short line: ``run.runId is required``, ``rowCount: 'x' is not of type 'integer'``."""
    where = path_text(error.absolute_path)
    if prefix:
        where = f"{prefix}.{where}" if where else prefix
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = next(
            (p for p in error.validator_value if p not in error.instance),  # type: ignore[union-attr]
            None,
        )
        if missing is not None:
            return f"{where}.{missing} is required" if where else f"{missing} is required"
    message = error.message
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 1] + "…"
    return f"{where}: {message}" if where else message
