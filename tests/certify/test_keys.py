"""The keyring: file modes, passphrases, key ids, clear errors, and the ``pedigree keys`` CLI."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from typer.testing import CliRunner

from pedigree.certify import Keyring, dsse, key_id, trusted_keys
from pedigree.certify.keys import check_name
from pedigree.cli.app import app
from pedigree.errors import SigningKeyError
from pedigree.ledger.checkpoint import key_id as ledger_key_id

ALGORITHMS = ["ed25519", "ecdsa-p256"]


@pytest.fixture
def ring(tmp_path: Path) -> Keyring:
    return Keyring(tmp_path / "keys")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_generate_writes_private_0600_and_public_pem(ring: Keyring, algorithm: str) -> None:
    info = ring.generate("signer", algorithm)
    assert info.algorithm == algorithm and not info.encrypted
    assert info.private_path == ring.path / "signer.key"
    assert mode(info.private_path) == 0o600
    assert (
        mode(info.public_path) & 0o022 == 0
    )  # 0644 under the usual umask, never writable by others
    assert mode(ring.path) == 0o700
    assert info.private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert ring.public_pem("signer") == info.public_path.read_text()
    assert not list(ring.path.glob(".*"))  # no temporary files left behind


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_key_id_is_sha256_of_der_spki(ring: Keyring, algorithm: str) -> None:
    info = ring.generate("k", algorithm)
    public = serialization.load_pem_public_key(ring.public_pem("k").encode())
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert info.key_id == hashlib.sha256(der).hexdigest() == key_id(public)  # type: ignore[arg-type]
    assert ring.load_signer("k").key_id == info.key_id
    if isinstance(public, Ed25519PublicKey):
        assert info.key_id == ledger_key_id(public)  # the same rule as the ledger's key


def test_passphrase_round_trip_and_errors(ring: Keyring) -> None:
    info = ring.generate("secret", "ecdsa-p256", passphrase=b"correct horse")
    assert info.encrypted
    assert info.private_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert mode(info.private_path) == 0o600
    signer = ring.load_signer("secret", b"correct horse")
    assert signer.key_id == info.key_id and signer.algorithm == "ecdsa-p256"
    with pytest.raises(SigningKeyError, match="wrong passphrase for key 'secret'"):
        ring.load_signer("secret", b"battery staple")
    with pytest.raises(SigningKeyError, match="is encrypted: a passphrase is needed"):
        ring.load_signer("secret")
    ring.generate("plain")
    with pytest.raises(SigningKeyError, match="'plain' is not encrypted"):
        ring.load_signer("plain", b"anything")
    with pytest.raises(SigningKeyError, match="empty passphrase"):
        ring.generate("empty", passphrase=b"")


def test_refuses_to_overwrite_and_bad_names_and_algorithms(ring: Keyring) -> None:
    first = ring.generate("k")
    before = first.private_path.read_bytes()
    with pytest.raises(SigningKeyError, match="a key named 'k' already exists"):
        ring.generate("k", "ecdsa-p256")
    assert first.private_path.read_bytes() == before
    for bad in ("", "a/b", "../x", "x" * 65, "sp ace", "é", "k\n"):
        with pytest.raises(SigningKeyError, match="invalid key name"):
            check_name(bad)
    check_name("a.B_c-9" + "x" * 57)
    with pytest.raises(SigningKeyError, match="unknown algorithm 'rsa'"):
        ring.generate("r", "rsa")
    assert not (ring.path / "r.key").exists()


def test_missing_corrupt_and_exposed_keys_are_clear_errors(ring: Keyring) -> None:
    with pytest.raises(SigningKeyError, match="no key named 'ghost'.*holds no keys"):
        ring.load_signer("ghost")
    info = ring.generate("k")
    with pytest.raises(SigningKeyError, match=r"no key named 'ghost'.*keys here: k"):
        ring.public_pem("ghost")

    info.private_path.chmod(0o644)
    with pytest.raises(SigningKeyError, match="accessible by other users"):
        ring.load_signer("k")
    info.private_path.chmod(0o600)

    info.private_path.write_bytes(
        b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(SigningKeyError, match="'k'.*is corrupt"):
        ring.load_signer("k")

    other = ring.generate("other")
    info.private_path.write_bytes(other.private_path.read_bytes())
    with pytest.raises(SigningKeyError, match="k.pub is not the public half of k.key"):
        ring.load_signer("k")

    info.public_path.write_text("garbage")
    with pytest.raises(SigningKeyError, match="corrupt"):
        ring.public_pem("k")


def test_list_keys(ring: Keyring) -> None:
    assert ring.list_keys() == []
    ring.generate("b", "ecdsa-p256", b"pw")
    ring.generate("a")
    keys = ring.list_keys()
    assert [(k.name, k.algorithm, k.encrypted) for k in keys] == [
        ("a", "ed25519", False),
        ("b", "ecdsa-p256", True),
    ]
    assert all(k.created.tzinfo is not None for k in keys)
    assert json.loads(json.dumps(keys[0].to_json()))["key_id"] == keys[0].key_id


def test_default_keyring_is_in_the_store(tmp_path: Path) -> None:
    assert Keyring.default(tmp_path / "store").path == tmp_path / "store" / "keys"


def test_exported_public_key_verifies_signatures(ring: Keyring) -> None:
    ring.generate("k", "ecdsa-p256")
    envelope = dsse.sign(b"{}", "application/vnd.in-toto+json", ring.load_signer("k"))
    trusted = trusted_keys([ring.public_pem("k")])
    assert dsse.verify(envelope, trusted).payload == b"{}"


# --- the command line, as a real process ------------------------------------------------


def pedigree(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pedigree", *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200", "PEDIGREE_HOME": str(cwd / "store"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stdout == ""


def test_cli_generate_list_export(tmp_path: Path) -> None:
    result = pedigree("keys", "generate", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    default = json.loads(result.stdout)
    assert default["name"] == "default" and default["algorithm"] == "ed25519"
    assert mode(Path(default["private_key"])) == 0o600
    assert Path(default["private_key"]).parent == tmp_path / "store" / "keys"

    result = pedigree(
        "keys", "generate", "--name", "org", "--algorithm", "ecdsa-p256",
        "--passphrase-env", "ORG_PASS", "--json",
        cwd=tmp_path, env={"ORG_PASS": "s3cret"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    org = json.loads(result.stdout)
    assert org["encrypted"] is True and "s3cret" not in result.stdout
    assert (
        Keyring(tmp_path / "store" / "keys").load_signer("org", b"s3cret").key_id == org["key_id"]
    )

    listed = json.loads(pedigree("keys", "list", "--json", cwd=tmp_path).stdout)
    assert [(k["name"], k["key_id"], k["encrypted"]) for k in listed] == [
        ("default", default["key_id"], False),
        ("org", org["key_id"], True),
    ]
    table = pedigree("keys", "list", cwd=tmp_path)
    assert table.returncode == 0 and org["key_id"] in table.stdout.replace("\n", "")

    exported = pedigree("keys", "export", "org", "--public", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == (tmp_path / "store" / "keys" / "org.pub").read_text()
    assert exported.stdout.startswith("-----BEGIN PUBLIC KEY-----")


def test_cli_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    Keyring(tmp_path / "store" / "keys").generate("k")
    assert_one_line_error(
        pedigree("keys", "generate", "--name", "k", cwd=tmp_path), "already exists"
    )
    assert_one_line_error(
        pedigree("keys", "export", "ghost", "--public", cwd=tmp_path), "no key named 'ghost'"
    )


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    import pedigree.cli.keys  # noqa: F401  (registers `keys`)

    return CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--name", "a/b"], "invalid key name"),
        (["generate", "--name", "x", "--algorithm", "rsa"], "unknown algorithm"),
        (
            ["generate", "--name", "x", "--passphrase-env", "UNSET_VAR_PEDIGREE"],
            "UNSET_VAR_PEDIGREE is not set",
        ),
        (
            ["generate", "--name", "x", "--passphrase-env", "EMPTY_VAR_PEDIGREE"],
            "EMPTY_VAR_PEDIGREE is empty",
        ),
        (["export", "k"], "add --public"),
    ],
)
def test_cli_input_errors(runner: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(
        app, ["keys", *args, "--keyring", str(tmp_path)], env={"EMPTY_VAR_PEDIGREE": ""}
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "x.key").exists()


def test_cli_keyring_option(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "list", "--json", "--keyring", str(tmp_path / "none")])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    result = runner.invoke(app, ["keys", "list", "--keyring", str(tmp_path / "none")])
    assert "No keys in" in result.stdout
