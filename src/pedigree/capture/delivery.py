"""Where captured records go: the embedded store found the way the CLI finds it.

Opening a store costs a few milliseconds, so the ledger is opened once per process and
location (``$PEDIGREE_HOME``, ``$PEDIGREE_DATABASE_URL`` and the working directory) and
reused by every run. ``configure`` points capture at another store, or hands it an open
``Ledger``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from pedigree.store import Ledger

_lock = threading.Lock()
_opened: dict[tuple[str | None, ...], Ledger] = {}
_configured: Ledger | None = None


def configure(
    store: str | os.PathLike[str] | None = None,
    database_url: str | None = None,
    *,
    ledger: Ledger | None = None,
    actor: str | None = None,
) -> Ledger:
    """Record into this store (or this open ``ledger``) from now on; returns the ledger.

    Raises ``StoreError`` at once when the store does not exist, so a pipeline fails
    before doing any work rather than at its end.
    """
    global _configured
    if ledger is None:
        ledger = Ledger.open(store, database_url, actor=actor)
    with _lock:
        _configured = ledger
    return ledger


def reset() -> None:
    """Forget the configured store and close the ledgers opened here (tests, notebooks)."""
    global _configured
    with _lock:
        for ledger in _opened.values():
            ledger.close()
        _opened.clear()
        _configured = None


def current_ledger() -> Ledger:
    """The configured ledger, else the store found from the environment and cwd."""
    if _configured is not None:
        return _configured
    key = (
        os.environ.get("PEDIGREE_HOME"),
        os.environ.get("PEDIGREE_DATABASE_URL"),
        os.environ.get("PEDIGREE_ACTOR"),
        str(Path.cwd()),
    )
    with _lock:
        ledger = _opened.get(key)
        if ledger is None:
            ledger = _opened[key] = Ledger.open()
        return ledger
