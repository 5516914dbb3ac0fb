"""RFC 9162 Merkle tree: roots, inclusion and consistency proofs, for every size and index.

The recursive definitions of the RFC are written out here, independently of the
iterative code under test, and roots are also checked against pymerkle.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pedigree.ledger import merkle

MAX = 300


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = merkle.split_point(len(leaves))
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = merkle.split_point(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = merkle.split_point(n)
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


LEAVES = [merkle.leaf_hash(f"record {i}".encode()) for i in range(MAX)]


def perfect(leaves: list[bytes]):  # type: ignore[no-untyped-def]
    def fetch(parts: list[merkle.Perfect]) -> dict[merkle.Perfect, bytes]:
        return {(lvl, idx): mth(leaves[idx << lvl : (idx + 1) << lvl]) for lvl, idx in parts}

    return fetch


def test_leaf_and_node_hashing_follow_rfc9162() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root([]) == hashlib.sha256(b"").digest()


def test_roots_match_pymerkle() -> None:
    from pymerkle import InmemoryTree

    tree = InmemoryTree(algorithm="sha256")
    for n in range(1, 70):
        tree.append_entry(f"record {n - 1}".encode())
        assert tree.get_root() == merkle.root(LEAVES[:n]), n


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proofs_verify_for_any_size_and_index(case: tuple[int, int]) -> None:
    n, m = case
    leaves = LEAVES[:n]
    proof = merkle.resolve_ranges(merkle.inclusion_ranges(m, n), perfect(leaves))
    assert proof == path(m, leaves)
    root = merkle.root(leaves)
    assert root == mth(leaves)
    assert merkle.verify_inclusion(leaves[m], m, n, proof, root)
    assert not merkle.verify_inclusion(LEAVES[(m + 1) % MAX], m, n, proof, root)
    if m ^ 1 < n:
        assert not merkle.verify_inclusion(leaves[m], m ^ 1, n, proof, root)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_proofs_verify_for_any_pair_of_sizes(case: tuple[int, int]) -> None:
    m, n = case
    leaves = LEAVES[:n]
    proof = merkle.resolve_ranges(merkle.consistency_ranges(m, n), perfect(leaves))
    if m < n:
        assert proof == subproof(m, leaves, True)
    assert merkle.verify_consistency(m, n, proof, mth(leaves[:m]), mth(leaves))
    if m < n:
        other = LEAVES[1 : m + 1]  # a different history of the same size
        assert not merkle.verify_consistency(m, n, proof, mth(other), mth(leaves))


def test_every_index_and_pair_exhaustively_up_to_64() -> None:
    for n in range(1, 65):
        leaves = LEAVES[:n]
        root = mth(leaves)
        fetch = perfect(leaves)
        for m in range(n):
            assert merkle.verify_inclusion(
                leaves[m], m, n, merkle.resolve_ranges(merkle.inclusion_ranges(m, n), fetch), root
            )
        for m in range(0, n + 1):
            proof = merkle.resolve_ranges(merkle.consistency_ranges(m, n), fetch)
            assert merkle.verify_consistency(m, n, proof, mth(leaves[:m]), root)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_altered_byte_breaks_the_proof(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, MAX))
    m = data.draw(st.integers(0, n - 1))
    leaves = LEAVES[:n]
    proof = merkle.resolve_ranges(merkle.inclusion_ranges(m, n), perfect(leaves))
    root = mth(leaves)
    which = data.draw(st.sampled_from(["leaf", "root", "proof"]))
    position = data.draw(st.integers(0, 31))
    bit = 1 << data.draw(st.integers(0, 7))

    def flip(value: bytes) -> bytes:
        return value[:position] + bytes([value[position] ^ bit]) + value[position + 1 :]

    leaf = leaves[m]
    if which == "leaf":
        leaf = flip(leaf)
    elif which == "root":
        root = flip(root)
    else:
        i = data.draw(st.integers(0, len(proof) - 1))
        proof = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
    assert not merkle.verify_inclusion(leaf, m, n, proof, root)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_altered_consistency_proofs_fail(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, MAX))
    m = data.draw(st.integers(1, n - 1))
    leaves = LEAVES[:n]
    proof = merkle.resolve_ranges(merkle.consistency_ranges(m, n), perfect(leaves))
    i = data.draw(st.integers(0, len(proof) - 1))
    position = data.draw(st.integers(0, 31))
    bad = bytearray(proof[i])
    bad[position] ^= 1
    altered = [*proof[:i], bytes(bad), *proof[i + 1 :]]
    assert not merkle.verify_consistency(m, n, altered, mth(leaves[:m]), mth(leaves))


def test_frontier_append_reports_completed_subtrees() -> None:
    frontier: list[bytes] = []
    created = []
    for i, leaf in enumerate(LEAVES[:8]):
        created.append(merkle.append_leaf(frontier, i, leaf))
    assert [(lvl, idx) for lvl, idx, _ in created[7]] == [(0, 7), (1, 3), (2, 1), (3, 0)]
    assert frontier == [mth(LEAVES[:8])]
    # only the subtrees at or above a level, the same hashes
    high: list[bytes] = []
    above = [merkle.append_leaf(high, i, leaf, 2) for i, leaf in enumerate(LEAVES[:8])]
    assert above == [[c for c in made if c[0] >= 2] for made in created]
    assert high == frontier


@pytest.mark.parametrize(("m", "n"), [(-1, 3), (3, 3), (0, 0)])
def test_out_of_range_inclusion_is_refused(m: int, n: int) -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(m, n)
    assert not merkle.verify_inclusion(LEAVES[0], m, n, [], LEAVES[0])
