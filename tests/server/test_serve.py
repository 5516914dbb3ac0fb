"""``pedigree serve`` as users run it: a subprocess with several uvicorn workers (and
TLS), concurrent writers through it, one linear log that audits clean."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from pedigree.server import access_log, tokens
from pedigree.store import Ledger

SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _store_options(store_args: dict[str, str | None]) -> list[str]:
    options = ["--store", str(store_args["store"])]
    if store_args["database_url"]:
        options += ["--database-url", str(store_args["database_url"])]
    return options


def _spawn(command: list[str]) -> subprocess.Popen[str]:
    """A server process in a session of its own (so the test can signal its workers too)."""
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _wait_ready(server: subprocess.Popen[str], base: str, verify: bool | ssl.SSLContext) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/readyz", verify=verify, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, server.communicate()[1]
        assert time.monotonic() < deadline, "server did not become ready"
        time.sleep(0.2)


def test_serve_with_workers_writes_one_linear_log(
    store_args: dict[str, str | None], tmp_path: Path
) -> None:
    ledger, _ = Ledger.init(store_args["store"], store_args["database_url"])
    token, _ = tokens.create(ledger, role="engineer")
    port = _free_port()
    tls: list[str] = []
    verify: bool | ssl.SSLContext = True
    scheme = "http"
    if store_args["database_url"] is None:  # one of the two runs also serves HTTPS
        cert, key = _self_signed(tmp_path)
        tls = ["--tls-cert", str(cert), "--tls-key", str(key)]
        verify, scheme = ssl.create_default_context(cafile=str(cert)), "https"
    command = [sys.executable, "-m", "pedigree", "serve", "--port", str(port), "--workers", "2"]
    server = _spawn([*command, "--log-level", "warning", *tls, *_store_options(store_args)])
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        _wait_ready(server, base, verify)
        assert (
            httpx.get(base + "/openapi.json", verify=verify).json()["info"]["title"] == "Pedigree"
        )

        errors: list[str] = []

        def write(number: int) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=headers, verify=verify, timeout=60) as client:
                for i in range(6):
                    body = {"namespace": "w", "name": f"writer-{number}", "version": str(i)}
                    payload = {
                        "records": [
                            {
                                "idempotency_key": f"{number}-{i}",
                                "schema": "pedigree.dataset_version/1",
                                "body": body,
                            }
                        ]
                    }
                    response = client.post("/api/v1/records", json=payload)
                    if response.status_code != 200:
                        errors.append(response.text)
                    event = {
                        "eventType": "START",
                        "eventTime": f"2026-12-03T10:00:0{i}Z",
                        "producer": "https://example.com/producer",
                        "schemaURL": SCHEMA_URL,
                        "run": {"runId": str(uuid.UUID(int=number * 100 + i + 1, version=4))},
                        "job": {"namespace": "w", "name": f"job-{number}"},
                    }
                    response = client.post("/api/v1/lineage", json=event)
                    if response.status_code != 201:
                        errors.append(response.text)
                    if client.get("/api/v1/whoami").status_code != 200:  # (a read's row)
                        errors.append("whoami failed")

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors[:3]
        assert ledger.size == 48
        report = ledger.audit()
        assert report.ok, report.first
        os.killpg(server.pid, signal.SIGTERM)  # (its read rows are written at shutdown)
        server.wait(timeout=30)
        # Every worker's rows, each one's writes and reads, form one chain
        rows = access_log.query(ledger, limit=1000)
        counts = Counter((r["method"], r["path"]) for r in rows)
        assert counts[("POST", "/api/v1/records")] == 24
        assert counts[("POST", "/api/v1/lineage")] == 24
        assert counts[("GET", "/api/v1/whoami")] == 24
        assert access_log.verify(ledger)["ok"] is True
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        ledger.close()


def test_serve_refuses_bad_options(tmp_path: Path) -> None:
    Ledger.init(tmp_path / "s")[0].close()
    run = [sys.executable, "-m", "pedigree", "serve", "--store"]
    half_tls = subprocess.run(
        [*run, str(tmp_path / "s"), "--tls-cert", str(tmp_path / "c.pem")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert half_tls.returncode == 2 and "both --tls-cert and --tls-key" in half_tls.stderr
    missing = subprocess.run(
        [*run, str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "no Pedigree store" in missing.stderr


SERVE_WITH_SLOW_LOG = """
import sys, uvicorn
from pedigree.server import ServerSettings, create_app
settings = ServerSettings(access_log_interval=3600)  # reads: logged in an hour
app = create_app(sys.argv[1], database_url=sys.argv[2] or None, settings=settings)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""


def test_an_acknowledged_write_is_in_the_access_log_even_if_the_server_is_killed(
    store_args: dict[str, str | None],
) -> None:
    ledger, _ = Ledger.init(store_args["store"], store_args["database_url"])
    token, info = tokens.create(ledger, role="engineer")
    port = _free_port()
    where = [str(store_args["store"]), store_args["database_url"] or "", str(port)]
    server = _spawn([sys.executable, "-c", SERVE_WITH_SLOW_LOG, *where])
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(server, base, True)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            body = {"namespace": "w", "name": "killed", "version": "1"}
            record = {"schema": "pedigree.dataset_version/1", "body": body}
            assert client.post("/api/v1/records", json={"records": [record]}).status_code == 200
            bad = client.post("/api/v1/records", json={"records": [{"schema": "nope"}]})
            assert bad.status_code == 422
            event = {
                "eventType": "START",
                "eventTime": "2026-12-02T10:00:00Z",
                "producer": "https://example.com/producer",
                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                "run": {"runId": "0191f3a4-5b6c-7d8e-9f00-112233445566"},
                "job": {"namespace": "w", "name": "killed_job"},
            }
            assert client.post("/api/v1/lineage", json=event).status_code == 201
            assert client.post("/api/v1/lineage", json={**event, "run": {}}).status_code == 400
            assert client.get("/api/v1/whoami").status_code == 200
        os.killpg(server.pid, signal.SIGKILL)  # right after the answers, no shutdown
        server.wait(timeout=30)
        rows = access_log.query(ledger, token_id=info.id, after_id=0)
        # Every write is there once, refused ones included (the accepted event's row
        # committed with its records); the read was still queued.
        assert [(r["method"], r["path"], r["status"]) for r in rows] == [
            ("POST", "/api/v1/records", 200),
            ("POST", "/api/v1/records", 422),
            ("POST", "/api/v1/lineage", 201),
            ("POST", "/api/v1/lineage", 400),
        ]
        assert rows[0]["node"] == "records 1" and rows[2]["node"] == "job:w:killed_job"
        assert access_log.verify(ledger)["ok"] is True
        assert ledger.size > 1
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        ledger.close()
