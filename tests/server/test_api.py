"""What the API answers, on a real server on both backends: the Marquez graph, our
lineage and log endpoints, redaction per role, proofs that verify, the access log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from pedigree.ledger import ConsistencyEvidence, RecordEvidence, verify_evidence
from pedigree.store.engine import HEAD_REVISION
from tests.server.conftest import SECRET, Site

CONFIDENTIAL = {"redacted": True, "reason": "confidential"}
SUMMARY = {"redacted": True, "reason": "summary"}


def test_health_readiness_and_openapi(site: Site) -> None:
    assert site.get(None, "/healthz").json() == {"status": "ok"}
    ready = site.get(None, "/readyz").json()
    assert ready["status"] == "ready" and ready["schema_revision"] == HEAD_REVISION
    assert ready["backend"] == site.backend
    spec = site.get(None, "/openapi.json").json()
    assert "/api/v1/lineage" in spec["paths"] and "/api/v1/records" in spec["paths"]
    assert "HTTPBearer" in json.dumps(spec["components"]["securitySchemes"])
    assert "swagger" in site.get(None, "/docs").text.lower()


def test_marquez_lineage_graph_shape(site: Site) -> None:
    response = site.get(
        "viewer",
        "/api/v1/lineage",
        params={"nodeId": "dataset:clinic:synthetic/patients", "depth": 4},
    )
    assert response.status_code == 200
    graph = response.json()["graph"]
    by_id = {node["id"]: node for node in graph}
    assert set(by_id) == {
        "dataset:clinic:warehouse/patients",
        "job:clinic:synth/generate",
        "dataset:clinic:synthetic/patients",
        "job:finance:etl/load",
        "dataset:finance:ledger/rollup",
    }
    for node in graph:
        assert set(node) == {"id", "type", "data", "inEdges", "outEdges"}
        assert node["type"] == ("JOB" if node["id"].startswith("job:") else "DATASET")
        for edge in node["outEdges"]:
            assert edge["origin"] == node["id"]
            assert edge in by_id[edge["destination"]]["inEdges"]
        for edge in node["inEdges"]:
            assert edge["destination"] == node["id"]
    synthetic = by_id["dataset:clinic:synthetic/patients"]
    assert synthetic["inEdges"] == [
        {"origin": "job:clinic:synth/generate", "destination": "dataset:clinic:synthetic/patients"}
    ]
    assert synthetic["outEdges"] == [
        {"origin": "dataset:clinic:synthetic/patients", "destination": "job:finance:etl/load"}
    ]
    assert synthetic["data"]["id"] == {"namespace": "clinic", "name": "synthetic/patients"}
    assert synthetic["data"]["kind"] == "dataset" and synthetic["data"]["currentVersion"]
    job = by_id["job:clinic:synth/generate"]["data"]
    assert job["latestRun"]["state"] == "COMPLETED" and job["type"] == "BATCH"
    shallow = site.get(
        "viewer",
        "/api/v1/lineage",
        params={"nodeId": "dataset:clinic:synthetic/patients", "depth": 1},
    ).json()["graph"]
    assert {n["id"] for n in shallow} == {
        "dataset:clinic:synthetic/patients",
        "job:clinic:synth/generate",
        "job:finance:etl/load",
    }
    job_graph = site.get(
        "viewer", "/api/v1/lineage", params={"nodeId": "job:clinic:synth/generate"}
    )
    assert job_graph.status_code == 200
    missing = site.get("viewer", "/api/v1/lineage", params={"nodeId": "dataset:clinic:ghost"})
    assert missing.status_code == 404 and "nothing recorded matches" in missing.json()["detail"]


def test_lineage_endpoints_match_the_store(site: Site) -> None:
    node = "clinic:synthetic/patients"
    trace = site.get("analyst", "/api/v1/trace", params={"node": node, "direction": "up"}).json()
    assert trace == {**site.ledger.trace(node).to_json(), "hidden_nodes": 0}
    impact = site.get(
        "analyst", "/api/v1/impact", params={"node": "clinic:warehouse/patients"}
    ).json()
    assert {n["name"] for n in impact["nodes"]} >= {"synthetic/patients", "ledger/rollup"}
    path = site.get(
        "analyst",
        "/api/v1/path",
        params={"source": "clinic:warehouse/patients", "target": "finance:ledger/rollup"},
    ).json()
    assert path["connected"] and len(path["edges"]) == 4
    apart = site.get(
        "analyst",
        "/api/v1/path",
        params={"source": "finance:ledger/rollup", "target": "job:clinic:synth/generate"},
    ).json()
    assert apart["connected"] is True  # either direction counts, as on the command line
    as_of = site.get("analyst", "/api/v1/trace", params={"node": node, "as_of": "1"})
    assert as_of.status_code == 404  # not recorded yet at record 1

    shown = site.get("analyst", "/api/v1/show", params={"node": node}).json()
    assert shown["type"] == "dataset" and len(shown["members"]) == 1
    assert [a["body"]["kind"] for a in shown["annotations"]] == ["evaluation"]
    assert {u["node"] for u in shown["upstream"]} == {
        n["id"] for n in trace["nodes"] if n["type"] == "run"
    }

    versions = site.get("viewer", "/api/v1/versions", params={"dataset": node}).json()
    assert [v["name"] for v in versions["versions"]] == ["synthetic/patients"]
    datasets = site.get("viewer", "/api/v1/datasets", params={"q": "PATIENTS"}).json()
    assert {d["name"] for d in datasets["datasets"]} == {"warehouse/patients", "synthetic/patients"}
    assert site.get("viewer", "/api/v1/datasets", params={"kind": "model"}).json()["total"] == 0
    jobs = site.get("viewer", "/api/v1/jobs").json()
    assert {j["id"] for j in jobs["jobs"]} >= {"job:clinic:synth/generate", "job:finance:etl/load"}
    runs = site.get("viewer", "/api/v1/runs", params={"job": "clinic:synth/generate"}).json()
    assert runs["total"] == 1 and runs["runs"][0]["kind"] == "generate"
    search = site.get("viewer", "/api/v1/search", params={"q": "etl"}).json()
    assert [j["name"] for j in search["jobs"]] == ["etl/load"] and search["datasets"] == []

    log = site.get("analyst", "/api/v1/records", params={"type": "run"}).json()
    assert [r["body"]["kind"] for r in log["records"]][:2] == ["generate", "transform"]
    page = site.get("analyst", "/api/v1/records", params={"limit": 2}).json()
    assert [r["seq"] for r in page["records"]] == [1, 2] and page["next_since"] == 3
    nxt = site.get("analyst", "/api/v1/records", params={"limit": 2, "since": 3}).json()
    assert [r["seq"] for r in nxt["records"]] == [3, 4]
    about = site.get("analyst", "/api/v1/records", params={"dataset": node}).json()
    assert {r["schema"].split("/")[0] for r in about["records"]} == {
        "pedigree.dataset_version",
        "pedigree.run",
        "pedigree.annotation",
    }
    evaluations = site.get("viewer", "/api/v1/evaluations").json()["evaluations"]
    assert len(evaluations) == 1 and evaluations[0]["body"]["kind"] == "evaluation"
    assert site.get("viewer", "/api/v1/certificates").json() == {"certificates": []}
    assert site.get("viewer", "/api/v1/annotations", params={"kind": "lifecycle"}).json() == {
        "annotations": []
    }


def _run_record(site: Site, who: str) -> dict:
    log = site.get(who, "/api/v1/records", params={"type": "run", "job": "clinic:synth/generate"})
    (record,) = log.json()["records"]
    return record


@pytest.mark.parametrize("role", ["analyst", "engineer", "analyst@clinic"])
def test_confidential_fields_are_redacted_in_place(site: Site, role: str) -> None:
    run = _run_record(site, role)["body"]
    assert run["parameters"] == {
        "method": "gaussian_copula",
        "db_password": CONFIDENTIAL,
        "rows": 100,
    }
    assert run["environment"]["variables"] == {"PEDIGREE_RUN": CONFIDENTIAL}
    assert run["environment"]["packages"] == {"google-auth": "2.0"}  # names are not secrets
    assert run["intent"]["text"] == "a shareable stand-in"
    shown = site.get(role, "/api/v1/show", params={"node": "clinic:synthetic/patients"}).json()
    assert shown["record"]["body"]["uri"] == CONFIDENTIAL
    assert shown["record"]["body"]["row_count"] == 100
    assert shown["annotations"][0]["body"]["body"] == {
        "passed": True,
        "fidelity": 0.93,
        "api_token": CONFIDENTIAL,
    }
    for path, params in (
        ("/api/v1/records", {"limit": 1000}),
        ("/api/v1/show", {"node": "job:clinic:synth/generate"}),
        ("/api/v1/evaluations", {}),
    ):
        text_ = site.get(role, path, params=params).text
        assert SECRET not in text_ and "confidential:sha256:" not in text_


@pytest.mark.parametrize("role", ["steward", "auditor", "admin"])
def test_stewards_auditors_and_admins_see_confidential_fields(site: Site, role: str) -> None:
    run = _run_record(site, role)["body"]
    assert run["parameters"]["db_password"] == SECRET
    assert run["environment"]["variables"] == {"PEDIGREE_RUN": SECRET}
    shown = site.get(role, "/api/v1/show", params={"node": "clinic:synthetic/patients"}).json()
    assert shown["record"]["body"]["uri"] == site.disclosure.commitment  # type: ignore[union-attr]


def test_viewers_see_summaries(site: Site) -> None:
    run = _run_record(site, "viewer")
    body = run["body"]
    assert body["job"] == {"namespace": "clinic", "name": "synth/generate"}
    assert body["kind"] == "generate" and body["inputs"][0]["name"] == "warehouse/patients"
    for withheld in ("parameters", "environment", "intent"):
        assert body[withheld] == SUMMARY
    assert run["seq"] and run["actor"] == "seeder"
    evaluation = site.get("viewer", "/api/v1/evaluations").json()["evaluations"][0]
    assert evaluation["body"]["kind"] == "evaluation" and evaluation["body"]["body"] == SUMMARY
    assert SECRET not in site.get("viewer", "/api/v1/records", params={"limit": 1000}).text


def test_proofs_verify_offline(site: Site) -> None:
    head = site.get("viewer", "/api/v1/checkpoints/latest").json()
    size = head["checkpoint"]["size"]
    for seq in (1, 4, size):
        document = site.get("auditor", f"/api/v1/proofs/inclusion/{seq}").json()
        evidence = RecordEvidence.model_validate(document)
        verify_evidence(evidence, site.ledger.public_key)
        assert evidence.proof.seq == seq
    stored = site.get("viewer", "/api/v1/checkpoints").json()
    assert stored["key_id"] == site.ledger.key_id
    first = stored["checkpoints"][1]["checkpoint"]["size"]  # signed by seed()
    pinned = site.get("steward", "/api/v1/proofs/inclusion/2", params={"tree_size": first}).json()
    verify_evidence(RecordEvidence.model_validate(pinned), site.ledger.public_key)
    consistency = site.get("viewer", "/api/v1/proofs/consistency", params={"first": first}).json()
    verify_evidence(ConsistencyEvidence.model_validate(consistency), site.ledger.public_key)
    unsigned = site.get("viewer", "/api/v1/proofs/consistency", params={"first": first + 1})
    assert unsigned.status_code in (200, 404)
    beyond = site.get("auditor", f"/api/v1/proofs/inclusion/{10**9}")
    assert beyond.status_code == 404
    signed = site.post("admin", "/api/v1/checkpoints").json()
    assert signed["checkpoint"]["size"] >= size


def test_audit_endpoint(site: Site) -> None:
    report = site.post("auditor", "/api/v1/audit").json()
    assert report["ok"] is True and report["records"] >= 7


def test_access_log_records_every_call_and_is_append_only(site: Site) -> None:
    site.get("analyst", "/api/v1/show", params={"node": "clinic:synthetic/patients"})
    site.get("viewer", "/api/v1/access-log")  # refused, and logged as refused
    site.get(None, "/api/v1/datasets")  # no token: logged as anonymous
    entries = site.get("auditor", "/api/v1/access-log", params={"limit": 1000}).json()["entries"]
    mine = [
        e
        for e in entries
        if e["token_id"] == site.ids["analyst"] and e["path"].startswith("/api/v1/show")
    ]
    assert mine and mine[0]["node"] == "clinic:synthetic/patients" and mine[0]["status"] == 200
    assert (
        mine[0]["method"] == "GET"
        and mine[0]["role"] == "analyst"
        and mine[0]["actor"] == "token:test-analyst"
    )
    refused = [
        e
        for e in entries
        if e["token_id"] == site.ids["viewer"] and e["path"] == "/api/v1/access-log"
    ]
    assert refused and refused[0]["status"] == 403
    assert any(e["actor"] == "anonymous" and e["status"] == 401 for e in entries)
    filtered = site.get(
        "admin", "/api/v1/access-log", params={"token_id": site.ids["viewer"], "status": 403}
    ).json()["entries"]
    assert filtered and all(
        e["token_id"] == site.ids["viewer"] and e["status"] == 403 for e in filtered
    )
    oldest = site.get("admin", "/api/v1/access-log", params={"after_id": 0, "limit": 2}).json()[
        "entries"
    ]
    assert [e["id"] for e in oldest] == sorted(e["id"] for e in oldest)
    assert site.get("auditor", "/api/v1/access-log", params={"since": "nope"}).status_code == 400

    verified = site.get("auditor", "/api/v1/access-log/verify").json()
    assert verified["ok"] is True and verified["rows"] >= len(entries)

    for statement in ("UPDATE access_log SET status = 200", "DELETE FROM access_log"):
        with pytest.raises(Exception, match="append-only"), site.ledger.engine.begin() as conn:
            conn.execute(text(statement))
    assert site.get("auditor", "/api/v1/access-log/verify").json()["ok"] is True
    spec = site.get(None, "/openapi.json").json()["paths"]
    assert set(spec["/api/v1/access-log"]) == {"get"}  # nothing alters it
