"""Selective disclosure: confidential values appear only as salted commitments, the
holder can reveal them later, and verification passes with or without the reveal."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pedigree
from pedigree.capture.run import json_safe
from pedigree.certify import Keyring
from pedigree.certify.certificate import certify
from pedigree.certify.verify import verify_bundle
from pedigree.errors import NotFoundError, ProofError, RecordError, SigningKeyError
from pedigree.ledger import commitments
from pedigree.ledger.commitments import Disclosure
from pedigree.store import Ledger
from tests.certify.test_certificate import conforms, table
from tests.cli.test_cli import pedigree as cli

SECRET_URI = "s3://hospital-warehouse/patients/2026-11.parquet"
SECRET_DSN = "postgresql://etl@db.internal:5432/clinical"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values, st.binary(min_size=16, max_size=16))
def test_a_commitment_opens_only_with_its_value_and_salt(value: Any, salt: bytes) -> None:
    disclosure = commitments.commit(value, salt=salt)
    assert commitments.is_commitment(disclosure.commitment)
    commitments.check(disclosure)
    commitments.check(Disclosure.from_json(json.loads(json.dumps(disclosure.to_json()))))
    with pytest.raises(ProofError):
        commitments.check(Disclosure(disclosure.commitment, bytes(16) + b"x", value))
    with pytest.raises(ProofError):
        commitments.check(Disclosure(disclosure.commitment, salt, [value]))


def test_same_value_gets_fresh_salts_but_one_store_commits_it_the_same_way(ledger: Ledger) -> None:
    assert commitments.commit(1).commitment != commitments.commit(1).commitment
    assert ledger.commit(SECRET_DSN) == ledger.commit(SECRET_DSN)
    assert ledger.commit(SECRET_DSN).commitment != ledger.commit(SECRET_DSN + " ").commitment


@pytest.fixture
def confidential(captured: Ledger, tmp_path: Path) -> dict[str, Any]:
    real, synthetic = table(0), table(1)
    real.to_parquet(tmp_path / "real.parquet")
    with pedigree.run("generate", kind="generate", intent="a shareable stand-in") as run:
        run.use(real, name="warehouse/patients", confidential=True)
        run.param("source_dsn", pedigree.confidential(SECRET_DSN))
        run.param(rows=200)
        run.produce(synthetic, name="synthetic/patients", path=tmp_path / "syn.parquet")
    ring = Keyring(tmp_path / "keys")
    ring.generate("release")
    bundle = certify(captured, "synthetic/patients", ring.load_signer("release"))
    trust = [ring.public_pem("release"), captured.location.public_key_path.read_text()]
    return {"bundle": bundle, "trust": trust, "ledger": captured, "dir": tmp_path, "real": real}


def test_confidential_values_are_only_commitments_in_records_and_certificates(
    confidential: dict[str, Any],
) -> None:
    ledger, bundle = confidential["ledger"], confidential["bundle"]
    everything = json.dumps([e.to_json() for e in ledger.entries()]) + json.dumps(bundle)
    fingerprint = pedigree_fp(confidential["real"])
    for secret in (SECRET_DSN, SECRET_URI, fingerprint, fingerprint.partition(":")[2]):
        assert secret not in everything
    report = verify_bundle(bundle, confidential["trust"])
    assert report.valid, report.to_json()
    conforms(report.statement)
    predicate = report.statement["predicate"]
    (source,) = predicate["sources"]
    assert source["confidential"] is True and commitments.is_commitment(source["fingerprint"])
    assert commitments.is_commitment(predicate["generation"][0]["parameters"]["source_dsn"])
    assert predicate["generation"][0]["parameters"]["rows"] == 200


def pedigree_fp(frame: Any) -> str:
    from pedigree.fingerprint import table_fingerprint

    return table_fingerprint(frame).fingerprint


def test_the_holder_reveals_a_value_and_anyone_checks_it_against_the_certificate(
    confidential: dict[str, Any],
) -> None:
    ledger, bundle, trust = confidential["ledger"], confidential["bundle"], confidential["trust"]
    report = verify_bundle(bundle, trust)
    dsn = report.statement["predicate"]["generation"][0]["parameters"]["source_dsn"]
    source = report.statement["predicate"]["sources"][0]["fingerprint"]

    revealed = ledger.disclosure(dsn)
    assert revealed.value == SECRET_DSN
    identity = ledger.disclosure(source)
    assert identity.value["fingerprint"] == pedigree_fp(confidential["real"])

    checked = pedigree.verify(bundle, trust, disclosures=[revealed.to_json(), identity])
    assert checked.valid, checked.to_json()
    assert SECRET_DSN in " ".join(c.detail for c in checked.checks)

    lie = Disclosure(dsn, revealed.salt, "postgresql://someone@else/db")
    foreign = commitments.commit("not in this certificate")
    bad = {
        c.name: c.detail
        for c in verify_bundle(bundle, trust, disclosures=[lie, foreign]).checks
        if not c.ok
    }
    assert any("do not match" in d for d in bad.values())
    assert any("holds no such commitment" in d for d in bad.values())


def test_values_are_sealed_at_rest_rotated_and_erasable(confidential: dict[str, Any]) -> None:
    ledger = confidential["ledger"]
    report = verify_bundle(confidential["bundle"], confidential["trust"])
    dsn = report.statement["predicate"]["generation"][0]["parameters"]["source_dsn"]
    key_file = ledger.location.path / "secrets.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    if ledger.location.backend == "sqlite":
        raw = b"".join(p.read_bytes() for p in ledger.location.path.glob("pedigree.db*"))
        assert SECRET_DSN.encode() not in raw and b"hospital" not in raw
    before = key_file.read_text()
    count, _ = ledger.rotate_secrets()
    assert count == 2 and key_file.read_text() != before  # the source identity, the DSN
    assert ledger.disclosure(dsn).value == SECRET_DSN

    key_file.write_text(before)  # the old key alone no longer opens them
    with pytest.raises(SigningKeyError, match="does not hold"):
        ledger.disclosure(dsn)
    os.chmod(key_file, 0o644)
    with pytest.raises(SigningKeyError, match="readable by others"):
        ledger.disclosure(dsn)


def test_erasing_a_value_leaves_the_log_and_the_certificate_verifiable(
    confidential: dict[str, Any],
) -> None:
    ledger, bundle, trust = confidential["ledger"], confidential["bundle"], confidential["trust"]
    dsn = verify_bundle(bundle, trust).statement["predicate"]["generation"][0]["parameters"][
        "source_dsn"
    ]
    ledger.erase_disclosure(dsn)
    with pytest.raises(NotFoundError, match="erased"):
        ledger.disclosure(dsn)
    with pytest.raises(NotFoundError):
        ledger.erase_disclosure(dsn)
    assert ledger.audit().ok
    assert verify_bundle(bundle, trust).valid


def test_a_confidential_version_cannot_be_certified(captured: Ledger, tmp_path: Path) -> None:
    with pedigree.run("load", kind="ingest") as run:
        run.produce(table(2), name="private/raw", confidential=True)
    ring = Keyring(tmp_path / "keys")
    ring.generate("k")
    with pytest.raises(RecordError, match="confidential"):
        certify(captured, "private/raw", ring.load_signer("k"))
    with pytest.raises(RecordError, match="inside a run"):
        json_safe(pedigree.confidential(1))


def test_cli_reveal_then_verify_with_the_disclosure(tmp_path: Path) -> None:
    store = tmp_path / "store"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, "--store", str(store), cwd=tmp_path)

    assert run("init").returncode == 0
    ledger = Ledger.open(store)
    pedigree.configure(ledger=ledger)
    try:
        with pedigree.run("generate", kind="generate") as step:
            step.use(table(0), name="warehouse/patients", confidential=True)
            step.param("source_dsn", pedigree.confidential(SECRET_DSN))
            step.produce(table(1), name="synthetic/patients", path=tmp_path / "syn.parquet")
    finally:
        pedigree.capture.delivery.reset()
        ledger.close()
    assert run("keys", "generate", "--name", "release").returncode == 0
    bundle = tmp_path / "bundle.json"
    got = run("certify", "synthetic/patients", "--key", "release", "-o", str(bundle))
    assert got.returncode == 0, got.stderr
    shown = cli("inspect", str(bundle), cwd=tmp_path)
    assert "confidential: fingerprint committed" in shown.stdout
    statement = json.loads(cli("inspect", str(bundle), "--json", cwd=tmp_path).stdout)
    dsn = statement["predicate"]["generation"][0]["parameters"]["source_dsn"]

    disclosure = tmp_path / "dsn.json"
    got = run("reveal", dsn, "-o", str(disclosure))
    assert got.returncode == 0, got.stderr
    assert disclosure.stat().st_mode & 0o777 == 0o600
    assert json.loads(disclosure.read_text())["value"] == SECRET_DSN
    trust = ["--trust", str(store / "keys/release.pub"), "--trust", str(store / "ledger.pub")]
    empty = tmp_path / "empty"
    empty.mkdir()
    got = cli("verify", str(bundle), *trust, "--disclosure", str(disclosure), "--json", cwd=empty)
    assert got.returncode == 0, got.stdout + got.stderr
    checks = json.loads(got.stdout)["checks"]
    assert any(c["check"].startswith("disclosure") and c["ok"] for c in checks)

    forged = json.loads(disclosure.read_text())
    forged["value"] = "postgresql://nobody@nowhere/x"
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    got = cli(
        "verify", str(bundle), *trust, "--disclosure", str(tmp_path / "forged.json"), cwd=empty
    )
    assert got.returncode == 1 and "do not match" in got.stdout

    bad = run("reveal", "nothex")
    assert bad.returncode == 2 and "not a commitment" in bad.stderr
    assert run("secrets", "rotate").returncode == 0
    assert run("secrets", "erase", dsn).returncode == 0
    got = run("reveal", dsn)
    assert got.returncode == 2 and "erased" in got.stderr


def test_rotation_with_the_key_in_the_environment(
    confidential: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    ledger = confidential["ledger"]
    dsn = verify_bundle(confidential["bundle"], confidential["trust"]).statement["predicate"][
        "generation"
    ][0]["parameters"]["source_dsn"]
    old = (ledger.location.path / "secrets.key").read_text().split()[0]
    monkeypatch.setenv("PEDIGREE_SECRETS_KEY", old)
    with pytest.raises(SigningKeyError, match="put a new key"):
        ledger.rotate_secrets()
    new = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("PEDIGREE_SECRETS_KEY", f"{new}\n{old}")
    count, _ = ledger.rotate_secrets()
    assert count == 2
    monkeypatch.setenv("PEDIGREE_SECRETS_KEY", new)  # the old key dropped
    assert ledger.disclosure(dsn).value == SECRET_DSN
