"""The Merkle tree of the log, as RFC 9162 (Certificate Transparency 2.0) defines it.

leaf = SHA-256(0x00 || record), node = SHA-256(0x01 || left || right), and the tree of
n leaves splits at the largest power of two below n. Everything here is pure: callers
supply the hashes of perfect (complete, aligned) subtrees, from memory or from a store.

A perfect subtree is addressed as ``(level, index)``: it covers leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 is a leaf hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256

Perfect = tuple[int, int]
"""(level, index) of a perfect subtree."""


def leaf_hash(data: bytes) -> bytes:
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree hashes, largest first, into the hash of their range."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def range_parts(start: int, end: int) -> list[Perfect]:
    """The perfect subtrees, largest first, whose fold is MTH(D[start:end]).

    Valid for the ranges the RFC's recursion produces, which start aligned to their
    largest part.
    """
    parts: list[Perfect] = []
    pos, remaining = start, end - start
    for level in range(remaining.bit_length() - 1, -1, -1):
        if remaining >> level & 1:
            if pos % (1 << level):
                raise ValueError(f"range [{start}, {end}) is not aligned for level {level}")
            parts.append((level, pos >> level))
            pos += 1 << level
    return parts


def frontier_levels(size: int) -> list[int]:
    """Levels of the perfect subtrees that make up a tree of ``size`` leaves, largest first."""
    return [lvl for lvl in range(size.bit_length() - 1, -1, -1) if size >> lvl & 1]


def append_leaf(
    frontier: list[bytes], size: int, leaf: bytes, min_level: int = 0
) -> list[tuple[int, int, bytes]]:
    """Add leaf number ``size`` to ``frontier`` (modified in place).

    ``frontier`` holds the perfect-subtree hashes of a tree of ``size`` leaves, largest
    first. Returns the perfect subtrees completed by this leaf as (level, index, hash),
    the leaf itself included at level 0, leaving out those below ``min_level`` (the
    store keeps only the higher ones; most leaves complete none of those).
    """
    created = [(0, size, leaf)] if min_level == 0 else []
    acc, level, index = leaf, 0, size
    while index & 1:  # the new subtree has a left sibling of the same level: merge
        acc = _sha256(NODE_PREFIX + frontier.pop() + acc).digest()
        level, index = level + 1, index >> 1
        if level >= min_level:
            created.append((level, index, acc))
    frontier.append(acc)
    return created


def root(leaves: Iterable[bytes]) -> bytes:
    """MTH of a sequence of leaf hashes (in memory)."""
    frontier: list[bytes] = []
    for size, leaf in enumerate(leaves):
        append_leaf(frontier, size, leaf)
    return fold(frontier)


# --- proofs: which ranges, in proof order ----------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[size]) (RFC 9162 2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(first, D[second]) (RFC 9162 2.1.4.1)."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, second, first, True
    while True:
        if m == end - start:
            if not complete:
                ranges.append((start, end))
            break
        k = split_point(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    ranges.reverse()
    return ranges


def resolve_ranges(
    ranges: Sequence[tuple[int, int]], perfect: Callable[[list[Perfect]], dict[Perfect, bytes]]
) -> list[bytes]:
    """Hash each range, asking ``perfect`` once for every perfect subtree needed."""
    parts = [range_parts(s, e) for s, e in ranges]
    known = perfect(sorted({p for ps in parts for p in ps}))
    return [fold([known[p] for p in ps]) for ps in parts]


# --- proofs: verification (RFC 9162 2.1.3.2 and 2.1.4.2) --------------------------------------


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, path: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path and first_root == EMPTY_ROOT
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:  # exact power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
