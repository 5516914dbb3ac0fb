"""File digests: SHA-256 of the bytes, and the size (streamed, constant memory)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileFingerprint:
    sha256: str
    size: int

    @property
    def version(self) -> str:
        """The version id a file gets when nothing else names it: ``sha256:<hex>``."""
        return f"sha256:{self.sha256}"


def file_fingerprint(path: str | Path) -> FileFingerprint:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileFingerprint(digest.hexdigest(), size)
