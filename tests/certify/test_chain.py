"""Cross-organisation chains: a certificate for data derived from another organisation's
certified data carries theirs, and verification walks the chain with each one's key."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pedigree
from pedigree.capture import delivery
from pedigree.certify import Keyring
from pedigree.certify.certificate import certify
from pedigree.certify.chain import accept
from pedigree.certify.verify import verify_bundle
from pedigree.errors import ProofError
from pedigree.store import Ledger
from tests.certify.test_certificate import conforms, table
from tests.cli.test_cli import pedigree as cli


def _organisation(root: Path, name: str) -> tuple[Ledger, Keyring]:
    ledger, _ = Ledger.init(root / name / "store", actor=name)
    ring = Keyring(root / name / "keys")
    ring.generate("release")
    return ledger, ring


def _trust(ledger: Ledger, ring: Keyring) -> list[str]:
    return [ring.public_pem("release"), ledger.location.public_key_path.read_text()]


@pytest.fixture
def chain(tmp_path: Path) -> Any:
    """Org A certifies a dataset; org B accepts it, derives from it and certifies that."""
    a, a_keys = _organisation(tmp_path, "a")
    b, b_keys = _organisation(tmp_path, "b")
    shared, other = table(0), table(9)
    try:
        delivery.configure(ledger=a)
        with pedigree.run("publish", kind="generate") as run:
            run.produce(shared, name="released/people")
            run.produce(other, name="released/other")
        upstream = certify(a, "released/people", a_keys.load_signer("release"))
        unrelated = certify(a, "released/other", a_keys.load_signer("release"))

        accept(b, upstream, _trust(a, a_keys), name="partner/people")
        delivery.configure(ledger=b)
        with pedigree.run("augment", kind="transform", intent="add a derived column") as run:
            data = run.use(shared, name="partner/people")
            run.produce(data.assign(decade=data.age // 10), name="ours/people")
        ours = certify(b, "ours/people", b_keys.load_signer("release"))
        yield {
            "bundle": ours,
            "upstream": upstream,
            "unrelated": unrelated,
            "a": _trust(a, a_keys),
            "b": _trust(b, b_keys),
            "ledger": b,
        }
    finally:
        delivery.reset()
        a.close()
        b.close()


def failures(bundle: dict[str, Any], trust: list[str]) -> dict[str, str]:
    return {c.name: c.detail for c in verify_bundle(bundle, trust).checks if not c.ok}


def test_a_chain_verifies_with_each_organisations_key(chain: Any) -> None:
    report = verify_bundle(chain["bundle"], chain["a"] + chain["b"])
    assert report.valid, report.to_json()
    conforms(report.statement)
    (source,) = report.statement["predicate"]["sources"]
    assert source["dataset"] == "default:partner/people" and source["certificate"]
    upstream = next(c for c in report.checks if c.name.startswith("upstream"))
    assert "for exactly the content used" in upstream.detail
    assert len(chain["bundle"]["upstream"]) == 1


def test_a_broken_chain_is_rejected_with_its_reason(chain: Any) -> None:
    bundle, trust = chain["bundle"], chain["a"] + chain["b"]
    assert "untrusted" in failures(bundle, chain["b"])["upstream default:partner/people"]

    tampered = copy.deepcopy(bundle)
    tampered["upstream"][0]["closure"][0]["record"]["actor"] = "mallory"
    assert "does not verify" in failures(tampered, trust)["upstream default:partner/people"]

    swapped = copy.deepcopy(bundle)
    swapped["upstream"] = [chain["unrelated"]]  # a valid certificate, of other data
    assert "not in the bundle" in failures(swapped, trust)["upstream default:partner/people"]

    dropped = copy.deepcopy(bundle)
    del dropped["upstream"]
    assert "not in the bundle" in failures(dropped, trust)["upstream default:partner/people"]


def test_accept_refuses_a_certificate_that_does_not_verify(chain: Any) -> None:
    with pytest.raises(ProofError, match="untrusted"):
        accept(chain["ledger"], chain["upstream"], chain["b"])
    forged = copy.deepcopy(chain["upstream"])
    forged["closure"].pop()
    with pytest.raises(ProofError, match="do not match"):
        accept(chain["ledger"], forged, chain["a"])


def test_cli_accept_records_an_upstream_certificate(chain: Any, tmp_path: Path) -> None:
    work = tmp_path / "c"
    work.mkdir()
    (work / "upstream.json").write_text(json.dumps(chain["upstream"]))
    for i, pem in enumerate(chain["a"]):
        (work / f"a{i}.pub").write_text(pem)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return cli(*args, cwd=work)

    assert run("init").returncode == 0
    trust = ["--trust", "a0.pub", "--trust", "a1.pub"]
    done = run("accept", "upstream.json", *trust, "--as", "partner/people")
    assert done.returncode == 0, done.stderr
    assert "partner/people" in done.stdout
    shown = json.loads(run("show", "partner/people", "--json").stdout)
    assert "upstream_certificate" in json.dumps(shown)
    refused = run("accept", "upstream.json", "--trust", "a0.pub")
    assert refused.returncode == 2 and "not accepted" in refused.stderr
