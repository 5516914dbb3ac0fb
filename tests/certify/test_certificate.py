"""Certificates end to end: issue, bundle, offline verification, and each attack rejected."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pedigree
from pedigree.certify import Keyring
from pedigree.certify.certificate import certify
from pedigree.certify.verify import load_bundle, verify_bundle
from pedigree.errors import PedigreeError
from pedigree.model import Annotation
from pedigree.store import Ledger
from tests.cli.test_cli import pedigree as cli


def table(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"age": rng.integers(18, 90, 200), "group": rng.choice(["a", "b"], 200)})


@pytest.fixture
def issued(captured: Ledger, tmp_path: Path) -> dict[str, Any]:
    """A two-step lineage, a certificate for its output, and the keys to trust."""
    real, synthetic = table(0), table(1)
    with pedigree.run("ingest", kind="ingest") as run:
        run.produce(real, name="real/people", path=tmp_path / "real.parquet")
    with pedigree.run(
        "generate", kind="generate", intent="stand-in", expect="row_count() > 10"
    ) as run:
        run.use(real)
        pedigree.seed(3)
        run.produce(synthetic, name="synthetic/people", path=tmp_path / "syn.parquet")
    captured.append(
        Annotation(
            target={"type": "dataset", "name": "synthetic/people"},
            kind="intended_use",
            body={"purpose": "testing"},
        )
    )
    ring = Keyring(tmp_path / "keys")
    ring.generate("release")
    bundle = certify(captured, "synthetic/people", ring.load_signer("release"))
    return {
        "bundle": bundle,
        "trust": [ring.public_pem("release"), captured.location.public_key_path.read_text()],
        "ledger": captured,
        "dir": tmp_path,
    }


PREDICATE_SCHEMA = json.loads(
    (Path(__file__).parents[2] / "docs" / "provenance-predicate.schema.json").read_text()
)


def conforms(statement: dict[str, Any]) -> None:
    """The predicate matches the JSON Schema documented in docs/."""
    import jsonschema

    jsonschema.Draft202012Validator(
        PREDICATE_SCHEMA, format_checker=jsonschema.FormatChecker()
    ).validate(statement["predicate"])


def reasons(bundle: dict[str, Any], trust: list[str], data: list[Path] = ()) -> dict[str, str]:  # type: ignore[assignment]
    report = verify_bundle(bundle, trust, data)
    return {c.name: c.detail for c in report.checks if not c.ok}


def test_a_fresh_certificate_verifies_and_is_recorded(issued: dict[str, Any]) -> None:
    bundle, trust = issued["bundle"], issued["trust"]
    report = verify_bundle(bundle, trust, [issued["dir"] / "syn.parquet"])
    assert report.valid, report.to_json()
    conforms(report.statement)
    predicate = report.statement["predicate"]
    assert predicate["dataset"]["name"] == "synthetic/people"
    assert [s["dataset"] for s in predicate["sources"]] == ["default:real/people"]
    assert {"random": 3, "numpy": 3}.items() <= predicate["generation"][0]["seeds"].items()
    assert predicate["intended_use"] == {"purpose": "testing"} and predicate["lifecycle"] is None
    assert predicate["evaluation"] is None  # never invented
    (issued["dir"] / "b.json").write_text(json.dumps(bundle))
    (issued["dir"] / "ledger.pub").write_text(trust[1])
    again = pedigree.verify(issued["dir"] / "b.json", [trust[0], issued["dir"] / "ledger.pub"])
    assert again.valid and [c.name for c in again.checks][:2] == ["signature", "checkpoint"]
    kinds = [e.body.kind for e in issued["ledger"].entries() if isinstance(e.body, Annotation)]
    assert kinds[-1] == "certificate"


def test_attacks_are_rejected_each_with_its_reason(issued: dict[str, Any], tmp_path: Path) -> None:
    bundle, trust = issued["bundle"], issued["trust"]

    altered = copy.deepcopy(bundle)
    statement = json.loads(base64.b64decode(altered["dsse_envelope"]["payload"]))
    statement["subject"][0]["digest"] = {"ptf1": "0" * 64}  # swapped subject digest
    altered["dsse_envelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    assert "bad signature" in reasons(altered, trust)["signature"]

    forged = copy.deepcopy(bundle)
    sig = bytearray(base64.b64decode(forged["dsse_envelope"]["signatures"][0]["sig"]))
    sig[5] ^= 1
    forged["dsse_envelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    assert "bad signature" in reasons(forged, trust)["signature"]

    stranger = Keyring(tmp_path / "other")
    stranger.generate("mallory")
    resigned = copy.deepcopy(bundle)
    from pedigree.certify import dsse

    payload = base64.b64decode(bundle["dsse_envelope"]["payload"])
    resigned["dsse_envelope"] = dsse.sign(
        payload, "application/vnd.in-toto+json", stranger.load_signer("mallory")
    )
    assert "untrusted" in reasons(resigned, trust)["signature"]
    assert "ledger's key is not trusted" in reasons(bundle, trust[:1])["checkpoint"]

    changed = copy.deepcopy(bundle)
    changed["closure"][0]["record"]["actor"] = "someone else"  # an altered record
    got = reasons(changed, trust)
    assert "proof does not verify" in got["inclusion"] and "do not match" in got["closure"]

    truncated = copy.deepcopy(bundle)
    truncated["closure"].pop()
    assert "do not match the statement" in reasons(truncated, trust)["closure"]

    reordered = copy.deepcopy(bundle)
    reordered["closure"].reverse()
    assert "do not match the statement" in reasons(reordered, trust)["closure"]

    other_size = copy.deepcopy(bundle)
    other_size["closure"][0]["inclusion_proof"]["tree_size"] -= 1
    assert "proof does not verify" in reasons(other_size, trust)["inclusion"]

    edited = table(1)
    edited.loc[7, "age"] = 999  # one changed cell
    edited.to_parquet(tmp_path / "edited.parquet")
    assert reasons(bundle, trust, [tmp_path / "edited.parquet"])["data edited.parquet"].endswith(
        "in columns: age"
    )


def test_malformed_and_oversized_bundles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(PedigreeError, match="not JSON"):
        load_bundle(tmp_path / "junk.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(PedigreeError, match="not a Pedigree bundle"):
        load_bundle(tmp_path / "other.json")
    monkeypatch.setattr("pedigree.certify.verify.MAX_BUNDLE_BYTES", 3)
    with pytest.raises(PedigreeError, match="more than a bundle may be"):
        load_bundle(tmp_path / "other.json")
    assert not verify_bundle({"dsse_envelope": {}}, []).valid  # never a crash


def test_cli_certify_then_verify_offline_in_an_empty_directory(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    assert cli("init", cwd=work).returncode == 0
    table(0).to_parquet(work / "data.parquet")
    record = cli(
        "record",
        "-",
        cwd=work,
        stdin=json.dumps(
            {
                "schema": "pedigree.dataset_version/1",
                "body": {
                    "name": "people",
                    "fingerprint": pedigree_fingerprint(work / "data.parquet"),
                },
            }
        ),
    )
    assert record.returncode == 0, record.stderr
    assert cli("keys", "generate", "--name", "release", cwd=work).returncode == 0
    done = cli(
        "certify", "people", "--key", "release", "-o", str(tmp_path / "bundle.json"), cwd=work
    )
    assert done.returncode == 0, done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    keys = [
        "--trust",
        str(work / ".pedigree/keys/release.pub"),
        "--trust",
        str(work / ".pedigree/ledger.pub"),
    ]
    ok = cli(
        "verify",
        str(tmp_path / "bundle.json"),
        *keys,
        "--data",
        str(work / "data.parquet"),
        cwd=empty,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("VALID"), ok.stdout + ok.stderr
    assert not (empty / ".pedigree").exists()
    table(5).to_parquet(tmp_path / "other.parquet")
    bad = cli(
        "verify",
        str(tmp_path / "bundle.json"),
        *keys,
        "--data",
        str(tmp_path / "other.parquet"),
        "--json",
        cwd=empty,
    )
    assert bad.returncode == 1 and json.loads(bad.stdout)["valid"] is False
    shown = cli("inspect", str(tmp_path / "bundle.json"), cwd=empty)
    assert shown.returncode == 0 and "Certificate for default:people" in shown.stdout
    missing = cli("verify", str(tmp_path / "nope.json"), *keys, cwd=empty)
    assert missing.returncode == 2 and "no bundle at" in missing.stderr


def pedigree_fingerprint(path: Path) -> str:
    from pedigree.fingerprint import fingerprint_path

    fp = fingerprint_path(path).fingerprint
    assert fp is not None
    return fp


def test_revocation_is_reported_by_the_issuing_ledger(issued: dict[str, Any]) -> None:
    from pedigree.certify.revocation import revoke, statement_digest
    from pedigree.errors import NotFoundError, RecordError

    bundle, trust, ledger = issued["bundle"], issued["trust"], issued["ledger"]
    before = verify_bundle(bundle, trust, ledger=ledger)
    assert before.valid and "not revoked" in {c.name: c.detail for c in before.checks}["revocation"]
    with pytest.raises(NotFoundError, match="no certificate"):
        revoke(ledger, "0" * 64, "typo")
    revoke(ledger, statement_digest(bundle), "source withdrawn by its owner")
    with pytest.raises(RecordError, match="already revoked"):
        revoke(ledger, statement_digest(bundle), "again")
    assert not reasons(bundle, trust)  # offline, the bundle alone cannot know
    revoked = verify_bundle(bundle, trust, ledger=ledger)
    why = {c.name: c.detail for c in revoked.checks if not c.ok}
    assert list(why) == ["revocation"]
    assert "revoked at record" in why["revocation"] and "source withdrawn" in why["revocation"]


def test_cli_revoke_then_verify_against_the_ledger(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    assert cli("init", cwd=work).returncode == 0
    table(0).to_parquet(work / "data.parquet")
    body = {"name": "people", "fingerprint": pedigree_fingerprint(work / "data.parquet")}
    stdin = json.dumps({"schema": "pedigree.dataset_version/1", "body": body})
    assert cli("record", "-", cwd=work, stdin=stdin).returncode == 0
    assert cli("keys", "generate", "--name", "release", cwd=work).returncode == 0
    assert cli("certify", "people", "--key", "release", "-o", "b.json", cwd=work).returncode == 0
    keys = ["--trust", ".pedigree/keys/release.pub", "--trust", ".pedigree/ledger.pub"]
    assert cli("verify", "b.json", *keys, "--ledger", ".pedigree", cwd=work).returncode == 0
    done = cli("revoke", "b.json", "--reason", "wrong source", cwd=work)
    assert done.returncode == 0, done.stderr
    checked = cli("verify", "b.json", *keys, "--ledger", ".pedigree", cwd=work)
    assert (
        checked.returncode == 1 and "revoked" in checked.stdout and "wrong source" in checked.stdout
    )
    assert cli("verify", "b.json", *keys, cwd=work).returncode == 0  # offline: still valid


def test_verify_against_the_issuing_server(
    issued: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`verify --ledger URL`: the revocation status fetched from a real server on loopback."""
    from pedigree.certify.revocation import check_revocation, revoke, statement_digest
    from pedigree.server import tokens
    from pedigree.server.app import create_app
    from tests.server.conftest import LiveServer

    bundle, trust, ledger = issued["bundle"], issued["trust"], issued["ledger"]
    token, _ = tokens.create(ledger, role="viewer", name="verifier")
    with LiveServer(create_app(ledger)) as live:
        monkeypatch.delenv("PEDIGREE_TOKEN", raising=False)
        anonymous = verify_bundle(bundle, trust, ledger=live.url)
        assert "401" in {c.name: c.detail for c in anonymous.checks}["revocation"]
        monkeypatch.setenv("PEDIGREE_TOKEN", token)
        fine = pedigree.verify(bundle, trust, ledger=live.url)
        assert fine.valid and "not revoked" in fine.checks[2].detail, fine.to_json()

        revoke(ledger, statement_digest(bundle), "superseded by a corrected release")
        revoked = pedigree.verify(bundle, trust, ledger=live.url)
        why = {c.name: c.detail for c in revoked.checks if not c.ok}
        assert list(why) == ["revocation"] and "superseded" in why["revocation"]

        # A server that hides the revocation, or rewrote history, cannot pass the check.
        from pedigree.certify.revocation import fetch_revocation_status

        pem = bundle["ledger"]["public_key"]
        issued_size = bundle["checkpoint"]["checkpoint"]["size"]
        honest = fetch_revocation_status(live.url, statement_digest(bundle), issued_size)
        assert honest["revocations"] and not check_revocation(bundle, honest, pem)[0]
        # Known limit: leaving a revocation out is not provable absence (docs/certificates.md).
        assert check_revocation(bundle, {**honest, "revocations": []}, pem)[0]
        moved = copy.deepcopy(honest)
        moved["revocations"][0]["record"]["body"]["body"]["statement_sha256"] = "0" * 64
        assert not check_revocation(bundle, moved, pem)[0]
        forged = copy.deepcopy(honest)
        forged["consistency"]["second"]["checkpoint"]["size"] += 1
        ok, why_forged = check_revocation(bundle, forged, pem)
        assert not ok and "revocation" in why_forged
    unreachable = verify_bundle(bundle, trust, ledger=live.url)
    assert "cannot reach" in {c.name: c.detail for c in unreachable.checks}["revocation"]
