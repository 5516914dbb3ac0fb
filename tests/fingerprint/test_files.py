"""File fingerprints: SHA-256 of the bytes and the size, streamed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pedigree.fingerprint import file_fingerprint
from pedigree.fingerprint.files import CHUNK


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=4096))
def test_fingerprint_is_sha256_and_size(tmp_path_factory, data: bytes) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("f") / "x.bin"
    path.write_bytes(data)
    fp = file_fingerprint(path)
    assert fp.sha256 == hashlib.sha256(data).hexdigest() and fp.size == len(data)
    assert fp.version == f"sha256:{fp.sha256}"


def test_files_larger_than_one_chunk(tmp_path: Path) -> None:
    data = bytes(range(256)) * (CHUNK // 256 * 3 + 7)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert file_fingerprint(path).sha256 == hashlib.sha256(data).hexdigest()
