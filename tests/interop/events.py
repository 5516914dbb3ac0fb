"""Building OpenLineage events for tests, and loading the dbt streams as dbt-ol sends them."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.26.0/integration/dbt"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PLACEHOLDER = "{{ any(result) }}"
ADAPTER_VERSION = "1.26.0"


def facet(**fields: Any) -> dict[str, Any]:
    """A facet with the base fields every standard facet carries."""
    return {
        "_producer": PRODUCER,
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/Facet.json",
        **fields,
    }


def dataset(
    name: str, namespace: str = "postgres://db:5432", *, facets: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"namespace": namespace, "name": name}
    if facets is not None:
        out["facets"] = facets
    return out


def run_event(
    event_type: str | None,
    run_id: uuid.UUID | str,
    job: str = "etl.load",
    *,
    namespace: str = "scheduler",
    time: str = "2026-01-02T03:04:05Z",
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    run_facets: dict[str, Any] | None = None,
    job_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "eventTime": time,
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(run_id), "facets": run_facets or {}},
        "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }
    if event_type is not None:
        event["eventType"] = event_type
    return event


def parent_facet(run_id: uuid.UUID | str, job: str, namespace: str = "scheduler") -> dict[str, Any]:
    return facet(run={"runId": str(run_id)}, job={"namespace": namespace, "name": job})


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def stream_run_id(stream: str, job: str) -> str:
    """The run id substituted for a ``{{ any(result) }}`` placeholder: one per job name."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pedigree-test:{stream}:{job}"))


def load_stream(folder: Path, name: str) -> list[dict[str, Any]]:
    """A dbt stream of the upstream integration tests, as dbt-ol really sends it.

    The files are the harness's *expected* events: values it does not compare are
    ``{{ any(result) }}`` (run ids: one UUID per job name here; the adapter version), and it
    matches subsets, so they leave out what every real event has — ``producer``,
    ``schemaURL``, each facet's ``_producer`` and ``_schemaURL`` — and write ``null`` where
    the client sends nothing (it drops nulls). Those are filled in and dropped here.
    """
    events = load_json(folder / "streams" / name)
    out = []
    for raw in events:
        event = _without_nulls(copy.deepcopy(raw))
        event.setdefault("producer", PRODUCER)
        event.setdefault("schemaURL", SCHEMA_URL)
        run = event["run"]
        if run["runId"] == PLACEHOLDER:
            run["runId"] = stream_run_id(name, event["job"]["name"])
        facets = run.get("facets", {})
        parent = facets.get("parent")
        if parent and parent["run"]["runId"] == PLACEHOLDER:
            parent["run"]["runId"] = stream_run_id(name, parent["job"]["name"])
        engine = facets.get("processing_engine")
        if engine and engine.get("openlineageAdapterVersion") == PLACEHOLDER:
            engine["openlineageAdapterVersion"] = ADAPTER_VERSION
        groups = [facets, event["job"].get("facets", {})]
        for side in ("inputs", "outputs"):
            for data in event.get(side, []):
                groups += [data.get(k, {}) for k in ("facets", "inputFacets", "outputFacets")]
        for group in groups:
            for value in group.values():
                value.setdefault("_producer", PRODUCER)
                value.setdefault(
                    "_schemaURL", "https://openlineage.io/spec/facets/1-0-0/Facet.json"
                )
        assert PLACEHOLDER not in json.dumps(event), "an unhandled placeholder"
        out.append(event)
    return out


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
