"""current_actor(): one answer for runs and for the store's envelopes."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import pytest

from pedigree.capture.actor import current_actor
from pedigree.store import Ledger


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEDIGREE_ACTOR", raising=False)
    monkeypatch.delenv("PEDIGREE_TOKEN_IDENTITY", raising=False)


def test_explicit_actor_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEDIGREE_TOKEN_IDENTITY", "svc-pipeline")
    monkeypatch.setenv("PEDIGREE_ACTOR", "alice")
    assert current_actor() == "alice"


def test_token_identity_before_the_os_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEDIGREE_TOKEN_IDENTITY", "svc-pipeline")
    assert current_actor() == "svc-pipeline"


def test_the_os_user_otherwise() -> None:
    assert current_actor() == getpass.getuser()


def test_the_store_stamps_the_same_actor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEDIGREE_TOKEN_IDENTITY", "svc-pipeline")
    ledger, _ = Ledger.init(tmp_path / "store")
    with ledger:
        assert ledger.actor == current_actor() == "svc-pipeline"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX uids")
def test_a_uid_without_passwd_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a container run with ``--user 54321``: no name for the uid anywhere."""
    import pwd

    unmapped = 54321
    while True:
        try:
            pwd.getpwuid(unmapped)
        except KeyError:
            break
        unmapped += 1
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "getuid", lambda: unmapped)
    assert current_actor() == f"uid:{unmapped}"
