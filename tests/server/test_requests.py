"""Request hygiene on a real server: bad JSON, wrong content type, oversized bodies,
unknown fields and parameters, hostile strings — always a clear 4xx, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx

from pedigree.server import create_app
from tests.server.conftest import MAX_BODY, LiveServer, Site

GOOD = {
    "records": [
        {
            "schema": "pedigree.dataset_version/1",
            "body": {"namespace": "clinic", "name": "x", "version": "1"},
        }
    ]
}


def _post_raw(
    site: Site, content: bytes | Iterator[bytes], content_type: str | None
) -> tuple[int, dict]:
    headers = {"Content-Type": content_type} if content_type else {}
    with site.client("admin") as client:
        response = client.post("/api/v1/records", content=content, headers=headers)
    return response.status_code, response.json()


def test_malformed_json_is_400(site: Site) -> None:
    status, body = _post_raw(site, b'{"records": [', "application/json")
    assert status == 400 and body["error"] == "malformed_json"
    assert body["detail"].startswith("request body is not valid JSON")


def test_content_type_must_be_json(site: Site) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        status, body = _post_raw(site, json.dumps(GOOD).encode(), content_type)
        assert status == 415, content_type
        assert "must be JSON" in body["detail"]
    status, _ = _post_raw(site, json.dumps(GOOD).encode(), "application/json; charset=utf-8")
    assert status == 200


def test_oversized_bodies_are_413_naming_the_limit(site: Site) -> None:
    big = json.dumps({"records": [{"schema": "x", "body": {"pad": "a" * MAX_BODY}}]}).encode()
    status, body = _post_raw(site, big, "application/json")
    assert status == 413
    assert f"limit of {MAX_BODY} bytes" in body["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(MAX_BODY // 1024 + 8):
            yield b" " * 1024

    status, body = _post_raw(site, chunks(), "application/json")
    assert status == 413 and str(MAX_BODY) in body["detail"]


def test_unknown_fields_are_named(site: Site) -> None:
    with site.client("admin") as client:
        top = client.post("/api/v1/records", json={**GOOD, "extra": 1})
        item = client.post("/api/v1/records", json={"records": [{**GOOD["records"][0], "seq": 5}]})
        inner = client.post(
            "/api/v1/records",
            json={
                "records": [
                    {
                        "schema": "pedigree.dataset_version/1",
                        "body": {"name": "x", "version": "1", "colour": "red"},
                    }
                ]
            },
        )
        missing = client.post("/api/v1/records", json={"records": [{"schema": "pedigree.run/2"}]})
        empty = client.post("/api/v1/records", json={"records": []})
        schema = client.post(
            "/api/v1/records", json={"records": [{"schema": "pedigree.nope/1", "body": {}}]}
        )
    assert top.status_code == 422 and top.json()["detail"] == "unexpected field extra"
    assert item.status_code == 422 and item.json()["detail"] == "unexpected field records.0.seq"
    assert inner.status_code == 400 and "colour" in inner.json()["detail"]
    assert missing.status_code == 422 and "missing field records.0.body" in missing.json()["detail"]
    assert empty.status_code == 422
    assert schema.status_code == 400 and "unknown record type" in schema.json()["detail"]


def test_unknown_query_parameters_and_bad_values(site: Site) -> None:
    typo = site.get(
        "analyst", "/api/v1/trace", params={"node": "clinic:synthetic/patients", "dpth": 2}
    )
    assert typo.status_code == 400 and "unknown query parameter(s): dpth" in typo.json()["detail"]
    assert (
        site.get("analyst", "/api/v1/trace", params={"node": "x", "depth": -1}).status_code == 422
    )
    assert (
        site.get(
            "analyst", "/api/v1/trace", params={"node": "x", "direction": "sideways"}
        ).status_code
        == 422
    )
    as_of = site.get(
        "analyst", "/api/v1/show", params={"node": "clinic:synthetic/patients", "as_of": "tuesday"}
    )
    assert (
        as_of.status_code == 400
        and "neither a record number nor an ISO time" in as_of.json()["detail"]
    )
    assert site.get("analyst", "/api/v1/records/0").status_code == 422
    assert site.get("analyst", "/api/v1/records/999999").status_code == 404
    assert site.get("analyst", "/api/v1/nowhere").status_code == 404
    assert site.post("analyst", "/api/v1/datasets").status_code == 405


def test_hostile_and_unicode_strings(site: Site) -> None:
    hostile = [
        "' OR 1=1 --",
        "x'; DROP TABLE records; --",
        '"; DELETE FROM access_log; --',
        "%",
        "_",
        "../../etc/passwd",
        "\\",
        "données/📊",
        "名前:表",
        "a" * 2000,
    ]
    with site.client("analyst") as client:
        _probe(client, hostile)
    for raw in (
        "/api/v1/records/1;DROP",
        "/api/v1/disclosures/..%2F..%2Fetc",
        "/api/v1/proofs/inclusion/-1",
    ):
        assert site.get("steward", raw).status_code in (404, 422), raw
    assert (
        site.get("analyst", "/api/v1/records", params={"limit": 1}).status_code == 200
    )  # still there

    name = f"données/{site.backend}/📊-表"
    written = site.post(
        "admin",
        "/api/v1/records",
        json={
            "records": [
                {
                    "schema": "pedigree.dataset_version/1",
                    "body": {"namespace": "clinic", "name": name, "version": "ü1"},
                }
            ]
        },
    )
    assert written.status_code == 200, written.text
    shown = site.get("analyst", "/api/v1/show", params={"node": f"clinic:{name}@ü1"})
    assert shown.status_code == 200 and shown.json()["record"]["body"]["name"] == name
    found = site.get("analyst", "/api/v1/search", params={"q": "📊"}).json()
    assert [d["name"] for d in found["datasets"]] == [name]
    like = site.get("analyst", "/api/v1/datasets", params={"q": "_"}).json()  # a literal underscore
    assert all("_" in d["name"] or "_" in d["namespace"] for d in like["datasets"])


def test_unexpected_errors_are_a_bare_500_logged_not_shown(
    site: Site, start_server: Callable[..., LiveServer], caplog
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(site.ledger)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("the secret internals of the server")

    live = start_server(app)
    response = httpx.get(live.url + "/api/v1/boom", timeout=10)
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal" and "incident" in body["detail"]
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert any("secret internals" in str(r.exc_info) for r in caplog.records if r.exc_info)


def _probe(client: httpx.Client, hostile: list[str]) -> None:
    for text in hostile:
        for path, params in (
            ("/api/v1/show", {"node": text}),
            ("/api/v1/trace", {"node": text}),
            ("/api/v1/lineage", {"nodeId": text}),
            ("/api/v1/datasets", {"q": text[:512]}),
            ("/api/v1/search", {"q": text[:512]}),
            ("/api/v1/records", {"dataset": text}),
        ):
            response = client.get(path, params=params)
            assert response.status_code in (200, 404), (path, text, response.text)
            if path in ("/api/v1/datasets", "/api/v1/search"):
                assert response.status_code == 200
                assert response.json()["total"] == 0
