"""Who may do what: 401 without a valid token, 403 for the wrong role or namespace,
on a real server, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from pedigree.server import ServerSettings, create_app, tokens
from tests.server.conftest import MAX_BODY, ROLES, Site

ALL = set(ROLES)
CONFIDENTIAL = {"steward", "auditor", "admin"}

READS = [
    "/api/v1/whoami",
    "/api/v1/datasets",
    "/api/v1/jobs",
    "/api/v1/runs",
    "/api/v1/search?q=patients",
    "/api/v1/versions?dataset=clinic:synthetic/patients",
    "/api/v1/show?node=clinic:synthetic/patients",
    "/api/v1/trace?node=clinic:synthetic/patients&direction=down&depth=3",
    "/api/v1/impact?node=clinic:warehouse/patients",
    "/api/v1/path?source=clinic:warehouse/patients&target=clinic:synthetic/patients",
    "/api/v1/records",
    "/api/v1/records/2",
    "/api/v1/annotations",
    "/api/v1/evaluations?node=clinic:synthetic/patients",
    "/api/v1/certificates",
    "/api/v1/checkpoints",
    "/api/v1/checkpoints/latest",
    "/api/v1/proofs/consistency?first=0",
    "/api/v1/lineage?nodeId=dataset:clinic:synthetic/patients&depth=2",
]

# (method, path, roles allowed)
MATRIX: list[tuple[str, str, set[str]]] = [
    *(("GET", path, ALL) for path in READS),
    ("GET", "/api/v1/proofs/inclusion/2", CONFIDENTIAL),
    ("GET", "/api/v1/access-log?limit=1", {"auditor", "admin"}),
    ("GET", "/api/v1/access-log/verify", {"auditor", "admin"}),
    ("POST", "/api/v1/audit", {"auditor", "admin"}),
    ("POST", "/api/v1/checkpoints", {"admin"}),
]


def _disclosure_path(site: Site) -> str:
    assert site.disclosure is not None
    return f"/api/v1/disclosures/{site.disclosure.commitment}"


@pytest.mark.parametrize(
    ("method", "path", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX]
)
def test_role_matrix(site: Site, method: str, path: str, allowed: set[str]) -> None:
    with site.client() as anonymous:
        response = anonymous.request(method, path)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    for role in ROLES:
        with site.client(role) as client:
            response = client.request(method, path)
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (role, response.text)
        if expected == 403:
            assert f"role {role} may not" in response.json()["detail"]


def test_disclosures_are_for_stewards_and_admins(site: Site) -> None:
    path = _disclosure_path(site)
    for role in ROLES:
        response = site.get(role, path)
        assert response.status_code == (200 if role in ("steward", "admin") else 403), role
    value = site.get("steward", path).json()
    assert value["value"] == "s3://clinic-private/patients.parquet"
    assert value["commitment"] == site.disclosure.commitment  # type: ignore[union-attr]
    assert site.get("steward@clinic", path).status_code == 200


def _record(name: str, namespace: str = "clinic") -> dict[str, Any]:
    return {
        "schema": "pedigree.dataset_version/1",
        "body": {"namespace": namespace, "name": name, "version": "1"},
    }


def _policy(name: str) -> dict[str, Any]:
    return {
        "schema": "pedigree.annotation/1",
        "body": {
            "target": {"type": "dataset", "namespace": "clinic", "name": name},
            "kind": "policy",
            "body": {"decision": "approved"},
        },
    }


def test_who_may_write_what(site: Site) -> None:
    for role in ROLES:
        name = f"auth/{site.backend}/{role}"
        response = site.post(role, "/api/v1/records", json={"records": [_record(name)]})
        assert response.status_code == (200 if role in ("engineer", "admin") else 403), (
            role,
            response.text,
        )
    site.post("admin", "/api/v1/records", json={"records": [_record("auth/policy-target")]})
    for role in ROLES:
        response = site.post(
            role, "/api/v1/records", json={"records": [_policy("auth/policy-target")]}
        )
        assert response.status_code == (200 if role in ("steward", "admin") else 403), role
        if response.status_code == 403 and role == "engineer":
            assert "may not write policy annotations (needs steward or admin)" in response.text


def test_namespace_scoped_tokens_see_and_write_only_their_namespaces(site: Site) -> None:
    listed = site.get("analyst@clinic", "/api/v1/datasets").json()
    assert {d["namespace"] for d in listed["datasets"]} == {"clinic"}
    assert "finance" in {
        d["namespace"] for d in site.get("analyst", "/api/v1/datasets").json()["datasets"]
    }
    assert {j["namespace"] for j in site.get("analyst@clinic", "/api/v1/jobs").json()["jobs"]} == {
        "clinic"
    }
    assert all(
        r["namespace"] == "clinic" for r in site.get("viewer@clinic", "/api/v1/runs").json()["runs"]
    )

    denied = site.get("analyst@clinic", "/api/v1/show", params={"node": "finance:ledger/rollup"})
    assert denied.status_code == 403
    assert "outside this token's namespaces (clinic)" in denied.json()["detail"]
    assert (
        site.get("analyst@clinic", "/api/v1/datasets", params={"namespace": "finance"}).status_code
        == 403
    )
    assert (
        site.get(
            "viewer@clinic", "/api/v1/lineage", params={"nodeId": "dataset:finance:ledger/rollup"}
        ).status_code
        == 403
    )

    down = site.get(
        "analyst@clinic",
        "/api/v1/trace",
        params={"node": "clinic:synthetic/patients", "direction": "down"},
    ).json()
    assert down["hidden_nodes"] >= 2
    assert all(n["namespace"] == "clinic" for n in down["nodes"])
    full = site.get(
        "analyst",
        "/api/v1/trace",
        params={"node": "clinic:synthetic/patients", "direction": "down"},
    )
    assert full.json()["hidden_nodes"] == 0
    assert any(n["namespace"] == "finance" for n in full.json()["nodes"])

    graph = site.get(
        "viewer@clinic", "/api/v1/lineage", params={"nodeId": "dataset:clinic:synthetic/patients"}
    )
    assert all(":finance:" not in n["id"] for n in graph.json()["graph"])

    records = site.get("analyst@clinic", "/api/v1/records", params={"limit": 1000}).json()[
        "records"
    ]
    seqs = {r["seq"] for r in records}
    finance = [
        r["seq"]
        for r in site.get("analyst", "/api/v1/records", params={"limit": 1000}).json()["records"]
        if "finance" in json.dumps(r["body"])
        and r["schema"].startswith(("pedigree.run", "pedigree.dataset"))
        and (
            r["body"].get("namespace") == "finance"
            or r["body"].get("job", {}).get("namespace") == "finance"
        )
    ]
    assert finance and not seqs & set(finance)
    assert site.get("analyst@clinic", f"/api/v1/records/{finance[0]}").status_code == 403

    ok = site.post(
        "engineer@clinic", "/api/v1/records", json={"records": [_record(f"scoped/{site.backend}")]}
    )
    assert ok.status_code == 200, ok.text
    refused = site.post(
        "engineer@clinic",
        "/api/v1/records",
        json={"records": [_record(f"scoped/{site.backend}", namespace="finance")]},
    )
    assert refused.status_code == 403
    assert "namespace 'finance' is outside" in refused.json()["detail"]
    # a run in the token's namespace reading from another namespace writes into it too
    run = {
        "schema": "pedigree.run/2",
        "body": {
            "job": {"namespace": "clinic", "name": "scoped/job"},
            "kind": "transform",
            "inputs": [{"namespace": "finance", "name": "ledger/rollup", "version": "1"}],
        },
    }
    assert (
        site.post("engineer@clinic", "/api/v1/records", json={"records": [run]}).status_code == 403
    )


def test_expired_revoked_malformed_and_unknown_tokens_get_401(site: Site) -> None:
    expired, _ = tokens.create(
        site.ledger, role="admin", expires=datetime.now(UTC) - timedelta(seconds=1), name="old"
    )
    revoked, info = tokens.create(site.ledger, role="admin", name="gone")
    tokens.revoke(site.ledger, info.id)
    good = site.tokens["admin"]
    cases = {
        expired: "expired at",
        revoked: "was revoked at",
        "not-a-token": "malformed token",
        good[:-4] + "AAAA": "unknown token",
    }
    for token, message in cases.items():
        response = site.get(None, "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert message in response.json()["detail"]
    basic = site.get(None, "/api/v1/whoami", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert basic.status_code == 401 and "missing bearer token" in basic.json()["detail"]


def _cli(*args: str, site: Site, cwd: Path) -> Result:
    """``pedigree …`` in-process (Typer's runner): the real command, minus a subprocess."""
    store = ["--store", str(site.ledger.location.path)]
    if site.ledger.location.database_url:
        store += ["--database-url", site.ledger.location.database_url]
    import pedigree.cli.server  # noqa: F401  (registers the commands)
    from pedigree.cli.app import app

    return CliRunner().invoke(
        app, [*args, *store], env={"COLUMNS": "200", "PEDIGREE_ACTOR": "ops-alice"}
    )


def test_tokens_cli_create_list_revoke(site: Site, tmp_path: Path) -> None:
    made = _cli(
        "tokens",
        "create",
        "--role",
        "analyst",
        "--namespace",
        "clinic",
        "--expires",
        "30d",
        "--name",
        "cli-made",
        "--json",
        site=site,
        cwd=tmp_path,
    )
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert created["token"].startswith("pdg_") and created["role"] == "analyst"
    assert created["namespaces"] == ["clinic"] and created["expires_at"] > created["created_at"]
    me = site.get(None, "/api/v1/whoami", headers={"Authorization": f"Bearer {created['token']}"})
    assert me.status_code == 200 and me.json()["role"] == "analyst"

    plain = _cli("tokens", "create", "--role", "viewer", site=site, cwd=tmp_path)
    assert plain.exit_code == 0 and plain.stdout.strip().startswith("pdg_")
    assert "shown only now" in plain.stderr

    listed = _cli("tokens", "list", "--json", site=site, cwd=tmp_path)
    rows = {row["id"]: row for row in json.loads(listed.stdout)}
    assert rows[created["id"]]["state"] == "active"
    assert created["token"] not in listed.stdout  # never listed
    table = _cli("tokens", "list", site=site, cwd=tmp_path)
    assert "cli-made" in table.stdout and created["token"] not in table.stdout

    revoked = _cli("tokens", "revoke", created["id"], site=site, cwd=tmp_path)
    assert revoked.exit_code == 0, revoked.output
    after = site.get(
        None, "/api/v1/whoami", headers={"Authorization": f"Bearer {created['token']}"}
    )
    assert after.status_code == 401 and "revoked" in after.json()["detail"]
    assert json.loads(_cli("tokens", "list", "--json", site=site, cwd=tmp_path).stdout)[-3]

    bad_role = _cli("tokens", "create", "--role", "superuser", site=site, cwd=tmp_path)
    assert bad_role.exit_code == 2
    bad_expiry = _cli(
        "tokens", "create", "--role", "viewer", "--expires", "yesterday", site=site, cwd=tmp_path
    )
    assert bad_expiry.exit_code == 2 and "neither a duration" in bad_expiry.stderr
    unknown = _cli("tokens", "revoke", "0000000000000000", site=site, cwd=tmp_path)
    assert unknown.exit_code == 2 and "no token with id" in unknown.stderr

    log = site.get("auditor", "/api/v1/access-log", params={"method": "CLI", "limit": 10}).json()[
        "entries"
    ]
    assert any(
        e["path"] == f"tokens revoke {created['id']}" and e["actor"] == "ops-alice" for e in log
    )


def test_expiry_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert tokens.parse_expiry("30d", now) == now + timedelta(days=30)
    assert tokens.parse_expiry("12h", now) == now + timedelta(hours=12)
    assert tokens.parse_expiry("never", now) is None
    assert tokens.parse_expiry("2027-01-01T00:00:00Z", now) == datetime(2027, 1, 1, tzinfo=UTC)
    for bad in ("0d", "2020-01-01T00:00:00Z", "soon"):
        with pytest.raises(tokens.TokenError):
            tokens.parse_expiry(bad, now)


def _whoami(url: str, token: str) -> httpx.Response:
    return httpx.get(f"{url}/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})


def _revoke_in_another_process(site: Site, token_id: str) -> None:
    """``pedigree tokens revoke`` as an operator runs it: its own process, not this one."""
    command = [sys.executable, "-m", "pedigree", "tokens", "revoke", token_id]
    command += ["--store", str(site.ledger.location.path)]
    if site.ledger.location.database_url:
        command += ["--database-url", site.ledger.location.database_url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_remembered_token_is_refused_once_revoked_elsewhere_within_the_cache_time(
    site: Site, start_server
) -> None:  # type: ignore[no-untyped-def]
    ttl = 0.5
    live = start_server(
        create_app(
            site.ledger, settings=ServerSettings(max_body_bytes=MAX_BODY, token_cache_seconds=ttl)
        )
    )
    token, info = tokens.create(site.ledger, role="analyst", name="remembered")
    assert _whoami(live.url, token).status_code == 200  # now remembered
    _revoke_in_another_process(site, info.id)
    time.sleep(ttl)  # what this server remembered has aged out
    refused = _whoami(live.url, token)
    assert refused.status_code == 401 and "was revoked at" in refused.json()["detail"]
    # with no cache, a revocation elsewhere holds from the very next request
    uncached = start_server(
        create_app(
            site.ledger, settings=ServerSettings(max_body_bytes=MAX_BODY, token_cache_seconds=0)
        )
    )
    other, other_info = tokens.create(site.ledger, role="analyst", name="uncached")
    assert _whoami(uncached.url, other).status_code == 200
    _revoke_in_another_process(site, other_info.id)
    assert _whoami(uncached.url, other).status_code == 401


def test_a_remembered_token_expires_on_time_and_is_kept_only_as_a_hash(
    site: Site, start_server
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        site.ledger, settings=ServerSettings(max_body_bytes=MAX_BODY, token_cache_seconds=3600)
    )
    live = start_server(app)
    expires = datetime.now(UTC) + timedelta(seconds=3)  # (room for a slow machine)
    token, _ = tokens.create(site.ledger, role="viewer", expires=expires, name="brief")
    assert _whoami(live.url, token).status_code == 200
    assert token not in repr(app.state.authenticator._known)  # the SHA-256 is the key
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    expired = _whoami(live.url, token)
    assert expired.status_code == 401 and "expired at" in expired.json()["detail"]
