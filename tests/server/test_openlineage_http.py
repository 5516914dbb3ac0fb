"""The OpenLineage endpoints over HTTP: auth, scope, content type, size limit, and
invalid events answered 400 (what counts as valid is tested in tests/interop)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.server.conftest import MAX_BODY, Site

pytest.importorskip("pedigree.interop.openlineage")

PRODUCER = "https://example.com/pedigree-tests"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def event(
    namespace: str = "clinic", job: str = "ol/job", event_type: str = "COMPLETE", **extra: Any
) -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventTime": "2026-01-02T03:04:05Z",
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": namespace, "name": job},
        "inputs": [{"namespace": namespace, "name": "ol/in"}],
        "outputs": [{"namespace": namespace, "name": f"ol/out-{uuid.uuid4().hex[:6]}"}],
        **extra,
    }


def test_events_are_recorded_by_writers_only(site: Site) -> None:
    assert site.post(None, "/api/v1/lineage", json=event()).status_code == 401
    for role in ("viewer", "analyst", "steward", "auditor"):
        refused = site.post(role, "/api/v1/lineage", json=event())
        assert refused.status_code == 403, role
    before = site.ledger.size
    accepted = site.post("engineer", "/api/v1/lineage", json=event(job="ol/accepted"))
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert body["accepted"] == 1 and len(body["results"]) == 1
    assert site.ledger.size > before
    run = site.get("analyst", "/api/v1/runs", params={"job": "clinic:ol/accepted"}).json()
    assert run["total"] == 1 and run["runs"][0]["status"] == "completed"
    assert site.ledger.entry(site.ledger.size).actor == "token:test-engineer"


def test_batches_are_atomic(site: Site) -> None:
    good = [event(job="ol/batch-1"), event(job="ol/batch-2")]
    response = site.post("engineer", "/api/v1/lineage/batch", json=good)
    assert response.status_code == 201 and response.json()["accepted"] == 2
    before = site.ledger.size
    broken = [event(job="ol/batch-3"), {**event(job="ol/batch-4"), "eventTime": "not a time"}]
    refused = site.post("engineer", "/api/v1/lineage/batch", json=broken)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_record"
    assert site.ledger.size == before
    assert site.post("engineer", "/api/v1/lineage/batch", json=[]).status_code == 422
    assert site.post("engineer", "/api/v1/lineage/batch", json=event()).status_code == 422


def test_invalid_events_are_400_with_one_line(site: Site) -> None:
    for bad in ({"eventType": "COMPLETE"}, {**event(), "run": {"runId": "not-a-uuid"}}):
        response = site.post("engineer", "/api/v1/lineage", json=bad)
        assert response.status_code == 400, response.text
        assert "\n" not in response.json()["detail"]
    malformed = site.post(
        "engineer",
        "/api/v1/lineage",
        content=b'{"eventType": ',
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400 and malformed.json()["error"] == "malformed_json"
    assert site.post("engineer", "/api/v1/lineage", json=[event()]).status_code == 422


def test_content_type_and_size_limits(site: Site) -> None:
    text = site.post(
        "engineer",
        "/api/v1/lineage",
        content=json.dumps(event()).encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert text.status_code == 415
    huge = event(job="ol/huge")
    huge["run"]["facets"] = {
        "pad": {"_producer": PRODUCER, "_schemaURL": SCHEMA_URL, "x": "a" * MAX_BODY}
    }
    too_big = site.post("engineer", "/api/v1/lineage", json=huge)
    assert too_big.status_code == 413 and str(MAX_BODY) in too_big.json()["detail"]


def test_scoped_writers_stay_in_their_namespaces(site: Site) -> None:
    assert site.post("engineer@clinic", "/api/v1/lineage", json=event()).status_code == 201
    outside = site.post("engineer@clinic", "/api/v1/lineage", json=event(namespace="finance"))
    assert outside.status_code == 403 and "'finance'" in outside.json()["detail"]
    mixed = event()
    mixed["inputs"] = [{"namespace": "finance", "name": "ledger/rollup"}]
    assert site.post("engineer@clinic", "/api/v1/lineage", json=mixed).status_code == 403
    batch = site.post(
        "engineer@clinic", "/api/v1/lineage/batch", json=[event(), event(namespace="finance")]
    )
    assert batch.status_code == 403 and batch.json()["detail"].startswith("event 2:")


@pytest.mark.parametrize("compression", [None, "gzip"])
def test_the_openlineage_python_client_posts_to_it(site: Site, compression: str | None) -> None:
    """An unmodified emitter: the official client with its `api_key` auth (a bearer token),
    plain and with its gzip compression."""
    ol = pytest.importorskip("openlineage.client")
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )

    client = ol.OpenLineageClient(
        config={
            "transport": {
                "type": "http",
                "url": site.url,
                "auth": {"type": "api_key", "apiKey": site.tokens["engineer@clinic"]},
                **({"compression": compression} if compression else {}),
            }
        }
    )
    job = f"ol/client-{compression or 'plain'}"
    run_id = str(uuid.uuid4())
    for state in (RunState.START, RunState.COMPLETE):
        client.emit(
            RunEvent(
                eventType=state,
                eventTime="2026-01-02T03:04:05Z",
                run=Run(runId=run_id),
                job=Job(namespace="clinic", name=job),
                producer=PRODUCER,
                inputs=[InputDataset(namespace="clinic", name="ol/client-in")],
                outputs=[OutputDataset(namespace="clinic", name="ol/client-out")],
            )
        )
    graph = site.get("viewer", "/api/v1/lineage", params={"nodeId": f"job:clinic:{job}"})
    ids = {node["id"] for node in graph.json()["graph"]}
    assert ids == {
        "dataset:clinic:ol/client-in",
        f"job:clinic:{job}",
        "dataset:clinic:ol/client-out",
    }
    runs = site.get("viewer", "/api/v1/runs", params={"job": f"clinic:{job}"}).json()
    assert runs["runs"][0]["status"] == "completed"


def test_gzip_bodies_are_inflated_within_the_limit(site: Site) -> None:
    import gzip

    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    packed = gzip.compress(json.dumps(event()).encode())
    ok = site.post("engineer", "/api/v1/lineage", content=packed, headers=headers)
    assert ok.status_code == 201, ok.text
    bomb = gzip.compress(b'{"pad": "' + b"0" * (MAX_BODY * 4) + b'"}')
    assert len(bomb) < MAX_BODY
    refused = site.post("engineer", "/api/v1/lineage", content=bomb, headers=headers)
    assert refused.status_code == 413 and str(MAX_BODY) in refused.json()["detail"]
    broken = site.post("engineer", "/api/v1/lineage", content=b"not gzip", headers=headers)
    assert broken.status_code == 400 and "gzip" in broken.json()["detail"]
    truncated = site.post("engineer", "/api/v1/lineage", content=packed[:-8], headers=headers)
    assert truncated.status_code == 400 and "gzip" in truncated.json()["detail"]
    other = site.post(
        "engineer",
        "/api/v1/lineage",
        content=packed,
        headers={**headers, "Content-Encoding": "br"},
    )
    assert other.status_code == 415 and "br" in other.json()["detail"]
