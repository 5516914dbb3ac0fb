"""Where captured records go: the embedded store found the way the CLI finds it, or a
Pedigree server.

Opening a store costs a few milliseconds, so the ledger is opened once per process and
location (``$PEDIGREE_HOME``, ``$PEDIGREE_DATABASE_URL`` and the working directory) and
reused by every run. ``configure`` points capture at another store, hands it an open
``Ledger``, or names a server (``url=``); with ``$PEDIGREE_URL`` (and ``$PEDIGREE_TOKEN``)
set, runs are delivered to that server through a durable spool (``capture.remote``).

A run hands over one ``Batch``: its versions, where its outputs were written, the run
record, its annotations and the values behind its commitments. Which versions still need
recording is decided only when the batch reaches the ledger, so local and remote delivery
write the same records.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pedigree.ledger.commitments import Disclosure
from pedigree.model import Annotation, EntityVersion, RecordBody, Run, VersionRef
from pedigree.store import Ledger

if TYPE_CHECKING:
    from pedigree.capture.remote import RemoteLedger


@dataclass
class Batch:
    """What one run delivers, before knowing which of its versions are recorded already."""

    versions: list[EntityVersion]
    locations: list[Annotation]
    """A ``location`` annotation per output written to a file, used when its version is
    recorded already (a version is its content; a new copy of it is a fact about it)."""
    run: Run
    annotations: list[Annotation] = field(default_factory=list)
    disclosures: list[Disclosure] = field(default_factory=list)

    def refs(self) -> list[VersionRef]:
        return [v.ref() for v in self.versions]

    def records(self, recorded: set[VersionRef]) -> list[RecordBody]:
        """The records to append, given the versions the ledger holds already."""
        out: list[RecordBody] = [v for v in self.versions if v.ref() not in recorded]
        out += [a for a in self.locations if _located(a) in recorded]
        return [*out, self.run, *self.annotations]


def _located(annotation: Annotation) -> VersionRef:
    target = annotation.target
    return VersionRef(namespace=target.namespace, name=target.name, version=target.version)  # type: ignore[arg-type]


class Destination(Protocol):
    """A local ``Ledger`` or a ``RemoteLedger``: what a run needs of where it records."""

    @property
    def log_id(self) -> str: ...

    def commit(self, value: Any) -> Disclosure: ...


def deliver(destination: Ledger | RemoteLedger, batch: Batch) -> None:
    """Append a run's batch to a local ledger at once, or hand it to the remote spool."""
    if isinstance(destination, Ledger):
        records = batch.records(destination.recorded(batch.refs()))
        destination.append_many(records, disclosures=batch.disclosures)
    else:
        destination.deliver(batch)


_lock = threading.Lock()
_opened: dict[tuple[str | None, ...], Ledger] = {}
_remotes: dict[tuple[str | None, ...], RemoteLedger] = {}
_configured: Ledger | RemoteLedger | None = None


def configure(
    store: str | os.PathLike[str] | None = None,
    database_url: str | None = None,
    *,
    ledger: Ledger | None = None,
    actor: str | None = None,
    url: str | None = None,
    token: str | None = None,
) -> Ledger | RemoteLedger:
    """Record into this store (or this open ``ledger``, or the server at ``url``) from now
    on; returns where records go.

    Raises ``StoreError`` at once when the store does not exist, so a pipeline fails
    before doing any work rather than at its end.
    """
    global _configured
    if url is not None:
        from pedigree.capture.remote import RemoteLedger

        remote = RemoteLedger(url, token if token is not None else os.environ.get("PEDIGREE_TOKEN"))
        with _lock:
            _configured = remote
        return remote
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
        _remotes.clear()
        _configured = None


def current_ledger() -> Ledger:
    """The configured local ledger, else the store found from the environment and cwd
    (for what reads the ledger, such as ``pedigree.evaluate``)."""
    destination = current_destination()
    if not isinstance(destination, Ledger):
        from pedigree.errors import StoreError

        raise StoreError(
            "this needs a local store, and capture is configured to deliver to a server "
            "($PEDIGREE_URL): pass ledger= explicitly"
        )
    return destination


def current_destination() -> Ledger | RemoteLedger:
    """Where runs record: the configured destination, else the server named by
    ``$PEDIGREE_URL``, else the store found from the environment and cwd."""
    if _configured is not None:
        return _configured
    if os.environ.get("PEDIGREE_URL"):
        from pedigree.capture.remote import RemoteLedger

        url = os.environ["PEDIGREE_URL"]
        key_remote = ("remote", url, os.environ.get("PEDIGREE_TOKEN"))
        with _lock:
            if key_remote not in _remotes:
                _remotes[key_remote] = RemoteLedger(url, os.environ.get("PEDIGREE_TOKEN"))
            return _remotes[key_remote]
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
