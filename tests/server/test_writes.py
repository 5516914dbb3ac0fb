"""The remote SDK's write endpoint on a real server: idempotent retries, conflicts,
disclosures, and concurrent writers through two servers making one linear log."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from pedigree.ledger.commitments import commit
from pedigree.server import create_app
from pedigree.store import Ledger
from tests.server.conftest import LiveServer, Site


def _version(name: str, version: str = "1", **extra: Any) -> dict[str, Any]:
    return {
        "schema": "pedigree.dataset_version/1",
        "body": {"namespace": "clinic", "name": name, "version": version, **extra},
    }


def test_retried_deliveries_return_the_same_seq(site: Site) -> None:
    tag = uuid.uuid4().hex[:8]
    payload = {
        "records": [
            {"idempotency_key": f"{tag}-a", **_version(f"w/{tag}/a")},
            {"idempotency_key": f"{tag}-b", **_version(f"w/{tag}/b")},
        ]
    }
    before = site.ledger.size
    first = site.post("engineer", "/api/v1/records", json=payload)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["existing"] for r in results] == [False, False]
    assert [r["seq"] for r in results] == [before + 1, before + 2]
    again = site.post("engineer", "/api/v1/records", json=payload).json()["results"]
    assert [(r["seq"], r["existing"]) for r in again] == [(before + 1, True), (before + 2, True)]
    assert site.ledger.size == before + 2

    # a key reused for other content is a conflict, and nothing is written
    other = {"records": [{"idempotency_key": f"{tag}-a", **_version(f"w/{tag}/other")}]}
    conflict = site.post("engineer", "/api/v1/records", json=other)
    assert conflict.status_code == 409 and conflict.json()["error"] == "conflict"
    assert "idempotency key" in conflict.json()["detail"]
    assert site.ledger.size == before + 2

    # a batch that fails part-way writes nothing
    broken = {
        "records": [
            _version(f"w/{tag}/c"),
            {
                "schema": "pedigree.run/2",
                "body": {
                    "job": {"namespace": "clinic", "name": "w/job"},
                    "kind": "transform",
                    "inputs": [{"namespace": "clinic", "name": "w/ghost", "version": "1"}],
                },
            },
        ]
    }
    failed = site.post("engineer", "/api/v1/records", json=broken)
    assert failed.status_code == 400 and failed.json()["detail"].startswith("item 2 of 2:")
    assert site.ledger.size == before + 2


def test_records_are_written_under_the_tokens_actor(site: Site) -> None:
    name = f"w/actor/{uuid.uuid4().hex[:8]}"
    seq = site.post("engineer", "/api/v1/records", json={"records": [_version(name)]}).json()[
        "results"
    ][0]["seq"]
    assert site.ledger.entry(seq).actor == "token:test-engineer"


def test_disclosures_travel_with_their_records(site: Site) -> None:
    secret = commit({"path": "/data/private.csv"})
    name = f"w/disclosed/{uuid.uuid4().hex[:8]}"
    record = _version(name, uri=secret.commitment)
    response = site.post(
        "engineer",
        "/api/v1/records",
        json={"records": [record], "disclosures": [secret.to_json()]},
    )
    assert response.status_code == 200, response.text
    opened = site.get("steward", f"/api/v1/disclosures/{secret.commitment}").json()
    assert opened["value"] == {"path": "/data/private.csv"}

    stray = commit("nobody holds this")
    refused = site.post(
        "engineer",
        "/api/v1/records",
        json={"records": [_version(name + "-2")], "disclosures": [stray.to_json()]},
    )
    assert refused.status_code == 400 and "no record in this request holds it" in refused.text
    forged = {**commit("other").to_json(), "commitment": stray.commitment}
    mismatch = site.post(
        "engineer",
        "/api/v1/records",
        json={"records": [_version(name + "-3", uri=stray.commitment)], "disclosures": [forged]},
    )
    assert mismatch.status_code == 400 and "do not match" in mismatch.text


def test_concurrent_writers_through_two_servers_make_one_linear_log(
    site: Site, start_server: Callable[..., LiveServer]
) -> None:
    location = site.ledger.location
    second = Ledger.open(location.path, location.database_url)
    try:
        servers = [site.url, start_server(create_app(second)).url]
        before = site.ledger.size
        writers, batches, per_batch = 6, 5, 3
        errors: list[str] = []
        seqs: dict[str, int] = {}
        lock = threading.Lock()
        tag = uuid.uuid4().hex[:8]

        def write(number: int) -> None:
            import httpx

            url = servers[number % len(servers)]
            headers = {"Authorization": f"Bearer {site.tokens['engineer']}"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                for batch in range(batches):
                    payload = {
                        "records": [
                            {
                                "idempotency_key": f"{tag}-{number}-{batch}-{i}",
                                **_version(f"c/{tag}/{number}", f"{batch}.{i}"),
                            }
                            for i in range(per_batch)
                        ]
                    }
                    for _attempt in range(2):  # every batch is delivered twice (a retry)
                        response = client.post("/api/v1/records", json=payload)
                        if response.status_code != 200:
                            errors.append(response.text)
                            return
                    with lock:
                        for item in response.json()["results"]:
                            seqs[item["idempotency_key"]] = item["seq"]

        threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors[:3]
        total = writers * batches * per_batch
        assert len(seqs) == total
        assert sorted(seqs.values()) == list(range(before + 1, before + total + 1))
        assert site.ledger.size == before + total
        report = site.ledger.audit()
        assert report.ok, report.first
    finally:
        second.close()
