"""Serving the UI build (SPA fallback, 503 without a build) and ``POST /api/v1/verify``
(no browser needed)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from pedigree.server import create_app
from pedigree.server.ui import STATIC_DIR
from pedigree.store import Ledger
from tests.ui.conftest import Demo, require


def _client(demo: Demo, role: str | None = "analyst") -> httpx.Client:
    headers = {"Authorization": f"Bearer {demo.tokens[role]}"} if role else {}
    return httpx.Client(base_url=demo.url, headers=headers, timeout=60)


def test_every_app_path_answers_the_app(demo: Demo) -> None:
    require((STATIC_DIR / "index.html").is_file(), f"the web UI is not built in {STATIC_DIR}")
    with _client(demo, None) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert '<div id="root">' in index.text
        assert "default-src 'self'" in index.headers["content-security-policy"]
        assert index.headers["cache-control"] == "no-cache"
        for path in (
            "/lineage?node=model:demo:x&depth=3",
            "/dataset?ref=a",
            "/verify",
            "/deep/link/x.y",
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.text == index.text
        asset = next(p for p in (STATIC_DIR / "assets").iterdir() if p.suffix == ".js").name
        script = client.get(f"/assets/{asset}")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        assert "immutable" in script.headers["cache-control"]
        assert client.get("/assets/gone-0000.js").status_code == 404
        assert client.get("/favicon.svg").headers["content-type"].startswith("image/svg")
        # the API keeps its own answers
        missing = client.get("/api/v1/no-such-endpoint")
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        assert client.get("/api/v1/verify").status_code == 405
        assert client.get("/api/v1/whoami").status_code == 401
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/../../etc/passwd").text == index.text  # never a file outside


def test_without_a_build_the_ui_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEDIGREE_UI_DIR", str(tmp_path / "empty"))
    ledger, _ = Ledger.init(tmp_path / "store", actor="tester")
    try:
        client = TestClient(create_app(ledger))
        page = client.get("/lineage", headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert "make ui" in page.text and "<html" in page.text
        data = client.get("/")
        assert data.status_code == 503
        assert data.json()["error"] == "ui_not_built"
        assert client.get("/healthz").status_code == 200
    finally:
        ledger.close()


def test_verify_a_bundle_and_its_data(demo: Demo) -> None:
    assert demo.cert is not None
    with _client(demo, "viewer") as client:
        answer = client.post(
            "/api/v1/verify",
            files={
                "bundle": ("cert.json", demo.cert.read_bytes(), "application/json"),
                "data": (
                    "synthetic.parquet",
                    (demo.directory / "data/synthetic.parquet").read_bytes(),
                ),
            },
        )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["valid"] is True
    names = [c["check"] for c in report["checks"]]
    for check in (
        "signature",
        "checkpoint",
        "revocation",
        "inclusion",
        "closure",
        "data synthetic.parquet",
    ):
        assert check in names
    assert report["issued_here"] is True
    assert report["recorded"]["target"]["name"] == "synthetic/turnout"
    assert report["subject"][0]["name"] == "demo:synthetic/turnout"
    keys = [(k["kind"], k["name"]) for k in report["trusted_keys"]]
    assert keys[0] == ("ledger", "ledger")
    assert ("keyring", "release") in keys
    assert all("pem" not in k for k in report["trusted_keys"])


def test_verify_names_what_is_wrong(demo: Demo) -> None:
    assert demo.cert is not None
    bundle = json.loads(demo.cert.read_text())
    bundle["closure"][0]["record"]["body"]["name"] = "tampered"
    with _client(demo) as client:
        tampered = client.post(
            "/api/v1/verify", files={"bundle": ("cert.json", json.dumps(bundle).encode())}
        ).json()
        assert tampered["valid"] is False
        assert any(
            not c["ok"] and c["check"] in ("inclusion", "closure") for c in tampered["checks"]
        )
        other = client.post(
            "/api/v1/verify",
            files={
                "bundle": ("cert.json", demo.cert.read_bytes()),
                "data": ("train.parquet", (demo.directory / "data/train.parquet").read_bytes()),
            },
        ).json()
        assert other["valid"] is False
        assert "differs from the certified version" in other["checks"][-1]["detail"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\xff\xfe not text", "not UTF-8"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "no dsse_envelope"),
        (b'{"dsse_envelope": "x"}', "dsse_envelope is not an object"),
    ],
)
def test_a_malformed_bundle_is_a_400_naming_why(demo: Demo, content: bytes, message: str) -> None:
    with _client(demo) as client:
        response = client.post("/api/v1/verify", files={"bundle": ("b.json", content)})
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    "bundle",
    [
        {"dsse_envelope": {"payload": 5}, "closure": 3, "checkpoint": "x"},
        {
            "dsse_envelope": {},
            "closure": [{"record": None}],
            "checkpoint": {"checkpoint": 1},
            "ledger": [],
        },
        {
            "dsse_envelope": {"payload": "!!", "payloadType": 1, "signatures": [{}]},
            "ledger": {"public_key": "x"},
        },
    ],
)
def test_a_bundle_of_the_wrong_shape_is_never_a_500(demo: Demo, bundle: dict) -> None:
    with _client(demo) as client:
        response = client.post(
            "/api/v1/verify", files={"bundle": ("b.json", json.dumps(bundle).encode())}
        )
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.json()["valid"] is False


def test_verify_needs_a_token_and_a_bundle(demo: Demo) -> None:
    assert demo.cert is not None
    with _client(demo, None) as client:
        assert (
            client.post(
                "/api/v1/verify", files={"bundle": ("cert.json", demo.cert.read_bytes())}
            ).status_code
            == 401
        )
    with _client(demo) as client:
        missing = client.post("/api/v1/verify", files={"data": ("x.csv", b"a\n1\n")})
        assert missing.status_code == 422
        assert "bundle" in missing.json()["detail"]
