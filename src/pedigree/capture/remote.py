"""Remote delivery: runs recorded by a Pedigree server, through a durable on-disk spool.

A run's batch is first written to the spool (one JSON file, written to a temporary name,
fsynced, then renamed, so an entry is whole or absent), then the spool drains to the
server in order. When the server is unreachable the pipeline carries on and the entries
wait; the next run, or ``pedigree spool flush``, sends them. The first time an entry is
sent, it asks the server which of its versions are recorded already and fixes the exact
records to append, each with an idempotency key, and rewrites the entry with them; every
retry then sends exactly those records with the same keys, so a delivery whose answer was
lost is never appended twice. An entry the server refuses (a 4xx other than 401/403/408/429)
can never succeed: it moves to ``rejected/`` with the server's reason, for a person to
look at, and the rest of the spool drains.

The spool lives in ``$PEDIGREE_SPOOL`` or ``~/.cache/pedigree/spool``, one folder per
server URL. Confidential values are committed with salts keyed by a secrets key kept in
that folder (0600), so a confidential source keeps one version across runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pedigree.errors import PedigreeError, StoreError
from pedigree.ledger import commitments
from pedigree.ledger.commitments import Disclosure
from pedigree.model import body_to_json

if TYPE_CHECKING:
    from pedigree.capture.delivery import Batch

TIMEOUT = 10.0
"""Seconds to wait for the server while a pipeline runs (flushing by hand waits as long)."""
BATCH_LIMIT = 1000
"""Records per request, well below the server's limit."""
RETRYABLE = {401, 403, 408, 425, 429}
"""Answers that may change without the entry changing (a token fixed, a pause)."""


def spool_root() -> Path:
    base = os.environ.get("PEDIGREE_SPOOL")
    if base:
        return Path(base)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "pedigree" / "spool"


@dataclass(frozen=True)
class SpoolStatus:
    url: str
    path: Path
    pending: int
    pending_records: int
    rejected: list[dict[str, Any]]
    oldest: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "spool": str(self.path),
            "pending_entries": self.pending,
            "pending_records": self.pending_records,
            "oldest_pending_age_seconds": None
            if self.oldest is None
            else round(time.time() - self.oldest, 1),
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class FlushResult:
    sent: int
    records: int
    rejected: int
    pending: int
    error: str | None = None


class RemoteLedger:
    """Where runs record when capture is pointed at a server (``$PEDIGREE_URL``)."""

    def __init__(self, url: str, token: str | None = None, *, spool: Path | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise StoreError(f"not a server URL: {url!r} (http://… or https://…)")
        self.url = url.rstrip("/")
        self.token = token
        self.path = spool or spool_root() / hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.log_id = f"remote:{self.url}"
        self._warned = False
        self._ready = False

    # --- what a run needs ------------------------------------------------------------------

    def commit(self, value: Any) -> Disclosure:
        """A commitment with a salt keyed by the spool's own secrets key."""
        from pedigree.store.disclosures import SecretsKeys

        self._ensure()
        keys = SecretsKeys.load(self.path)
        return commitments.commit(value, salt=keys.salt_for(value))

    def deliver(self, batch: Batch) -> None:
        """Spool the batch durably, then try to drain the spool; never raises for the
        server being away (the entry waits), only for a spool that cannot be written."""
        entry = {
            "id": str(uuid.uuid4()),
            "created": time.time(),
            "batch": {
                "versions": [_submission(v) for v in batch.versions],
                "locations": [_submission(a) for a in batch.locations],
                "records": [_submission(batch.run), *(_submission(a) for a in batch.annotations)],
                "disclosures": [d.to_json() for d in batch.disclosures],
            },
            "built": None,
        }
        self._ensure()
        name = f"{time.time_ns():020d}-{entry['id']}.json"
        _write_atomic(self.path / name, entry)
        result = self.flush(wait=False)
        if result.error and not self._warned:
            self._warned = True
            warnings.warn(
                f"pedigree: {result.error}; {result.pending} run(s) wait in the spool "
                f"{self.path} (sent later, or by `pedigree spool flush`)",
                RuntimeWarning,
                stacklevel=3,
            )

    # --- the spool --------------------------------------------------------------------------

    def _ensure(self) -> None:
        if self._ready:
            return
        try:
            (self.path / "rejected").mkdir(parents=True, exist_ok=True, mode=0o700)
            (self.path / "url").write_text(self.url + "\n", encoding="utf-8")
        except OSError as exc:
            raise StoreError(f"cannot write the spool {self.path}: {exc.strerror}") from None
        self._ready = True

    def pending(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.glob("*.json") if not p.name.startswith("."))

    def status(self) -> SpoolStatus:
        pending = self.pending()
        records = 0
        for path in pending:
            entry = _read(path)
            if entry is not None:
                built = entry.get("built")
                batch = entry["batch"]
                records += (
                    len(built["records"])
                    if built
                    else len(batch["versions"]) + len(batch["records"])
                )
        rejected = []
        for path in sorted((self.path / "rejected").glob("*.json")) if self.path.is_dir() else []:
            entry = _read(path) or {}
            rejected.append({"entry": path.name, "reason": entry.get("rejected", "?")})
        oldest = (_read(pending[0]) or {}).get("created") if pending else None
        return SpoolStatus(self.url, self.path, len(pending), records, rejected, oldest)

    @contextlib.contextmanager
    def _locked(self, wait: bool) -> Iterator[bool]:
        """One drainer at a time (other processes skip, or wait when flushing by hand)."""
        self._ensure()
        with open(self.path / ".lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def flush(self, *, wait: bool = True) -> FlushResult:
        """Send pending entries in order until done or the server is unavailable."""
        import httpx

        sent = records = rejected = 0
        error: str | None = None
        with self._locked(wait) as mine:
            if not mine:
                return FlushResult(0, 0, 0, len(self.pending()), None)
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            with httpx.Client(base_url=self.url, headers=headers, timeout=TIMEOUT) as client:
                for path in self.pending():
                    entry = _read(path)
                    if entry is None:  # unreadable: keep it aside rather than lose or loop
                        path.rename(self.path / "rejected" / path.name)
                        rejected += 1
                        continue
                    try:
                        count = self._send(client, path, entry)
                    except _Rejected as exc:
                        entry["rejected"] = str(exc)
                        _write_atomic(self.path / "rejected" / path.name, entry)
                        path.unlink()
                        rejected += 1
                        continue
                    except _Unavailable as exc:
                        error = str(exc)
                        break
                    path.unlink()
                    sent += 1
                    records += count
        return FlushResult(sent, records, rejected, len(self.pending()), error)

    def _send(self, client: Any, path: Path, entry: dict[str, Any]) -> int:
        if entry.get("built") is None:
            batch = entry["batch"]
            recorded = self._recorded(client, batch["versions"])
            chosen = [v for v in batch["versions"] if _ref(v["body"]) not in recorded]
            chosen += [a for a in batch["locations"] if _target(a["body"]) in recorded]
            chosen += batch["records"]
            entry["built"] = {
                "records": [
                    {**item, "idempotency_key": f"{entry['id']}:{n}"}
                    for n, item in enumerate(chosen)
                ],
                "disclosures": batch["disclosures"],
            }
            _write_atomic(path, entry)  # from now on, every retry sends exactly these
        built = entry["built"]
        items = built["records"]
        for start in range(0, len(items), BATCH_LIMIT):
            part = items[start : start + BATCH_LIMIT]
            held = set().union(*(commitments.commitments_in(i["body"]) for i in part))
            disclosures = [d for d in built["disclosures"] if d["commitment"] in held]
            self._post(client, "/api/v1/records", {"records": part, "disclosures": disclosures})
        return len(items)

    def _recorded(self, client: Any, versions: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
        if not versions:
            return set()
        answer = self._post(
            client,
            "/api/v1/versions/recorded",
            {"versions": [_ref_json(v["body"]) for v in versions]},
        )
        return {(r["namespace"], r["name"], r["version"]) for r in answer.get("recorded", [])}

    def _post(self, client: Any, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        import httpx

        try:
            response = client.post(path, json=payload)
        except httpx.HTTPError as exc:
            raise _Unavailable(f"the server {self.url} is unreachable ({exc})") from None
        if response.status_code == 200:
            return response.json()
        detail = _detail(response)
        if response.status_code >= 500 or response.status_code in RETRYABLE:
            raise _Unavailable(f"the server {self.url} answered {response.status_code}: {detail}")
        raise _Rejected(f"{response.status_code}: {detail}")


class _Unavailable(PedigreeError):
    pass


class _Rejected(PedigreeError):
    pass


def _submission(body: Any) -> dict[str, Any]:
    return {"schema": body.schema_id(), "body": body_to_json(body)}


def _ref_json(body: dict[str, Any]) -> dict[str, str]:
    return {
        "namespace": body.get("namespace", "default"),
        "name": body["name"],
        "version": body["version"],
    }


def _ref(body: dict[str, Any]) -> tuple[str, str, str]:
    ref = _ref_json(body)
    return ref["namespace"], ref["name"], ref["version"]


def _target(body: dict[str, Any]) -> tuple[str, str, str]:
    target = body["target"]
    return target.get("namespace", "default"), target["name"], target["version"]


def _detail(response: Any) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail if detail is not None else response.text[:300])


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "batch" in data else None


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Whole or absent: a temporary file in the same folder, fsynced, renamed over."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    with contextlib.suppress(OSError):  # the rename itself, durable
        dirfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


__all__ = ["FlushResult", "RemoteLedger", "SpoolStatus", "spool_root"]
