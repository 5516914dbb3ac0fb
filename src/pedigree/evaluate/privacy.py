"""Privacy risk of a synthetic table: how much it gives away about the rows it was
trained on, measured against a real hold-out the generator never saw.

Distance-based figures use SDMetrics' DCR row distance (so ``dcr_overfitting_protection``
agrees with SDMetrics' ``DCROverfittingProtection`` on the same data); the
singling-out, linkability and inference risks follow anonymeter (Giomi et al. 2023):
attack success on the training rows against the same attack on the hold-out (control),
with Wilson confidence intervals. The computation is our own and vectorised: nearest
neighbours are found blockwise in float32 over (query block x reference block) matrices on
a thread pool, memory bounded, no loop over rows; the winners' distances are recomputed in
float64. Formulas, defaults and deviations are in ``docs/metrics.md`` ("Privacy").
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from pedigree.evaluate.result import MetricResult, metric, not_applicable
from pedigree.evaluate.tables import Kind, Tables

FAMILY = "privacy"

Progress = Callable[[str], None]

NEEDS_HOLDOUT = "needs a real hold-out"

GROUPS = (
    "dcr",
    "dcr_baseline",
    "nndr",
    "copies",
    "mia",
    "singling_out",
    "linkability",
    "inference",
)
"""What ``privacy(include=...)`` can select; all by default."""

MAX_PAIRS = 250_000_000
"""Row pairs one nearest-neighbour pass may compare (about a second on 2 cores at 12
columns). Above it the *query* side is a seeded uniform sample of ``MAX_PAIRS // reference
rows`` rows (never fewer than ``MIN_SAMPLE``); the reference side is always complete, so
every sampled row's distance is exact. ``max_pairs=None`` compares every row."""

MIN_SAMPLE = 1_000

NEAR_COPY_EPSILON = 0.01
"""A synthetic row is a near copy when its DCR to the training data is at most this (a
mean per-column distance of 1 % of the column's range, every category equal)."""

N_ATTACKS = 500
"""Targets per anonymeter-style attack (anonymeter's default)."""

MIN_ATTACKS = 10
SINGLING_OUT_COLUMNS = 3
SINGLING_OUT_ATTEMPTS = 20
"""Multivariate singling-out predicates tried per requested attack at most."""

INFERENCE_TOLERANCE = 0.05
CONFIDENCE = 0.95

_BLOCK_QUERIES = 64
_BLOCK_REFERENCE = 4096
_LOO_BLOCK_REFERENCE = 1024


# --- encoding: both sides in the units of the reference -------------------------------------


@dataclass
class EncodedPair:
    """Query and reference rows in the DCR distance's units.

    Numerical/datetime columns are ``(x - min) / range`` with min and range from the
    *reference* (as SDMetrics' ``calculate_dcr``); a null becomes a sentinel at least 1 away
    from every value, so with the cap at 1 it is 1 from any value and 0 from another null.
    Categorical and boolean columns, and numerical ones whose reference is constant or all
    null (SDMetrics compares those for equality), are integer codes with -1 for null.
    """

    columns: list[str]
    query_num: np.ndarray  # (n_query, p) float64
    ref_num: np.ndarray  # (n_ref, p) float64
    cap: np.ndarray  # (p,) bool: min(|a - b|, 1) needed
    query_cat: np.ndarray  # (n_query, q) int32
    ref_cat: np.ndarray  # (n_ref, q) int32

    @property
    def n_columns(self) -> int:
        return self.query_num.shape[1] + self.query_cat.shape[1]

    def subset(self, columns: Sequence[str]) -> EncodedPair:
        """The same encoding restricted to ``columns`` (for linkability's two halves)."""
        num_cols, cat_cols = self._split()
        ni = [i for i, c in enumerate(num_cols) if c in columns]
        ci = [i for i, c in enumerate(cat_cols) if c in columns]
        return EncodedPair(
            [c for c in self.columns if c in columns],
            self.query_num[:, ni],
            self.ref_num[:, ni],
            self.cap[ni],
            self.query_cat[:, ci],
            self.ref_cat[:, ci],
        )

    def _split(self) -> tuple[list[str], list[str]]:
        p = self.query_num.shape[1]
        return self.columns[:p], self.columns[p:]

    def take(self, queries: np.ndarray) -> EncodedPair:
        return EncodedPair(
            self.columns,
            self.query_num[queries],
            self.ref_num,
            self.cap,
            self.query_cat[queries],
            self.ref_cat,
        )


def _floats(series: pd.Series, kind: Kind) -> np.ndarray:
    """Values as float64 (datetimes in seconds), nulls and infinities as NaN."""
    if kind == "datetime":
        stamps = pd.to_datetime(series, errors="coerce")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        raw = stamps.to_numpy(dtype="datetime64[ns]")
        out = raw.astype("int64").astype(np.float64) / 1e9
        out[np.isnat(raw)] = np.nan
        return out
    values = pd.to_numeric(series, errors="coerce")
    out = np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def _keys(series: pd.Series, kind: Kind) -> pd.Series:
    """Values compared for equality: booleans as booleans, anything else as text."""
    if kind == "boolean":
        try:
            return series.astype("boolean")
        except (TypeError, ValueError):
            pass
    return series.astype("string")


def _joint_codes(parts: Sequence[pd.Series | np.ndarray]) -> list[np.ndarray]:
    """Integer codes shared across ``parts`` (-1 for null)."""
    lengths = [len(p) for p in parts]
    joined = pd.concat(
        [pd.Series(np.asarray(p) if isinstance(p, np.ndarray) else p.array) for p in parts],
        ignore_index=True,
    )
    codes, _ = pd.factorize(joined, use_na_sentinel=True)
    codes = codes.astype(np.int32)
    return np.split(codes, np.cumsum(lengths)[:-1])


def encode(
    query: pd.DataFrame,
    reference: pd.DataFrame,
    kinds: Mapping[str, Kind],
    columns: Sequence[str] | None = None,
) -> EncodedPair:
    """Encode ``query`` and ``reference`` for DCR distances measured in the reference's
    ranges (SDMetrics' convention: the table searched in sets the scale)."""
    columns = list(kinds) if columns is None else list(columns)
    num_cols: list[str] = []
    cat_cols: list[str] = []
    qn: list[np.ndarray] = []
    rn: list[np.ndarray] = []
    cap: list[bool] = []
    qc: list[np.ndarray] = []
    rc: list[np.ndarray] = []
    for column in columns:
        kind = kinds[column]
        if kind in ("numerical", "datetime"):
            q, r = _floats(query[column], kind), _floats(reference[column], kind)
            lo = np.nanmin(r) if np.isfinite(r).any() else np.nan
            span = np.nanmax(r) - lo if np.isfinite(r).any() else np.nan
            if np.isfinite(span) and span > 0:
                qs, rs = (q - lo) / span, (r - lo) / span
                q_null, r_null = np.isnan(qs), np.isnan(rs)
                finite_q = qs[~q_null]
                needs_cap = bool(
                    q_null.any()
                    or r_null.any()
                    or (finite_q.size and (finite_q.min() < 0 or finite_q.max() > 1))
                )
                sentinel = min(0.0, float(finite_q.min()) if finite_q.size else 0.0) - 2.0
                qs[q_null], rs[r_null] = sentinel, sentinel
                num_cols.append(column)
                qn.append(qs)
                rn.append(rs)
                cap.append(needs_cap)
                continue
            # constant or all-null reference: SDMetrics scores 0 if equal, else 1
            cq, cr = _joint_codes([q, r])
        else:
            cq, cr = _joint_codes([_keys(query[column], kind), _keys(reference[column], kind)])
        cat_cols.append(column)
        qc.append(cq)
        rc.append(cr)
    nq, nr = len(query), len(reference)
    return EncodedPair(
        num_cols + cat_cols,
        np.column_stack(qn) if qn else np.zeros((nq, 0)),
        np.column_stack(rn) if rn else np.zeros((nr, 0)),
        np.array(cap, dtype=bool),
        np.column_stack(qc).astype(np.int32) if qc else np.zeros((nq, 0), np.int32),
        np.column_stack(rc).astype(np.int32) if rc else np.zeros((nr, 0), np.int32),
    )


# --- blockwise nearest neighbours ------------------------------------------------------------


ONE_HOT_MAX = 256
"""Categorical columns are compared by one matrix product of one-hot codes while their
categories (over all such columns) number at most this; others code by code."""


@dataclass
class _Kernel:
    """float32 copies laid out for the block loops (reference columns contiguous).

    ``cap_ref[j]``: the reference has nulls in numerical column j, so every block needs
    the cap there; otherwise a block needs it only where one of its query values lies
    outside [0, 1] (``out_of_range``). Low-cardinality categorical columns go through
    ``onehot_q @ onehot_r_t`` (matches), the rest through ``qc``/``rc_t`` (mismatches)."""

    qn: np.ndarray
    rn_t: np.ndarray
    cap_ref: np.ndarray
    out_of_range: np.ndarray  # (n_query, p) bool
    qc: np.ndarray
    rc_t: np.ndarray
    onehot_q: np.ndarray | None
    onehot_r_t: np.ndarray | None
    n_onehot_columns: int
    hot_spans: list[tuple[int, int]]
    order: list[int]  # the pair's column index of each kernel column (num, cold, hot)

    @property
    def n_ref(self) -> int:
        return max(
            self.rn_t.shape[1],
            self.rc_t.shape[1],
            0 if self.onehot_r_t is None else self.onehot_r_t.shape[1],
        )

    @classmethod
    def of(cls, pair: EncodedPair) -> _Kernel:
        qn, rn = pair.query_num, pair.ref_num
        p = qn.shape[1]
        # a null is a sentinel <= -2 (reference values are in [0, 1])
        out = (qn < 0) | (qn > 1)
        cap_ref = (rn < 0).any(axis=0) if len(rn) else np.zeros(p, bool)
        widths = [
            int(max(pair.query_cat[:, j].max(initial=-1), pair.ref_cat[:, j].max(initial=-1))) + 2
            for j in range(pair.query_cat.shape[1])
        ]
        hot = [j for j, w in enumerate(widths) if w <= ONE_HOT_MAX]
        hot = hot if sum(widths[j] for j in hot) <= ONE_HOT_MAX else []
        cold = [j for j in range(pair.query_cat.shape[1]) if j not in hot]
        onehot_q = onehot_r_t = None
        offsets = np.cumsum([0] + [widths[j] for j in hot])
        if hot:
            onehot_q = _onehot(pair.query_cat[:, hot], offsets)
            onehot_r_t = np.ascontiguousarray(_onehot(pair.ref_cat[:, hot], offsets).T)
        return cls(
            np.ascontiguousarray(qn, dtype=np.float32),
            np.ascontiguousarray(rn.T, dtype=np.float32),
            cap_ref,
            out,
            np.ascontiguousarray(pair.query_cat[:, cold]),
            np.ascontiguousarray(pair.ref_cat[:, cold].T),
            onehot_q,
            onehot_r_t,
            len(hot),
            [(int(offsets[i]), int(offsets[i + 1])) for i in range(len(hot))],
            list(range(p)) + [p + j for j in cold] + [p + j for j in hot],
        )


def _onehot(codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """float32 one-hot of several code columns side by side (null, -1, is a category)."""
    out = np.zeros((len(codes), int(offsets[-1])), np.float32)
    rows = np.arange(len(codes))
    for j in range(codes.shape[1]):
        out[rows, offsets[j] + codes[:, j] + 1] = 1.0
    return out


def _block_sums(
    kern: _Kernel,
    qs: slice,
    r0: int,
    r1: int,
    acc: np.ndarray,
    tmp: np.ndarray,
    neq: np.ndarray,
    per: np.ndarray | None = None,
) -> None:
    """``acc`` = summed per-column distances of queries ``qs`` to references r0:r1, less
    ``n_onehot_columns`` (the caller adds it back). With ``per``, each column's distances
    are kept too (``per[j]``, the one-hot columns' together in ``per[-1]`` as -matches)."""
    qn, qc = kern.qn[qs], kern.qc[qs]
    cap = kern.cap_ref | kern.out_of_range[qs].any(axis=0)
    first = True
    for j in range(qn.shape[1]):
        out = tmp if per is None else per[j]
        np.subtract(qn[:, j, None], kern.rn_t[j, None, r0:r1], out=out)
        np.abs(out, out=out)
        if cap[j]:
            np.minimum(out, 1.0, out=out)
        if first:
            acc[...] = out
            first = False
        else:
            np.add(acc, out, out=acc)
    for j in range(qc.shape[1]):
        np.not_equal(qc[:, j, None], kern.rc_t[j, None, r0:r1], out=neq)
        if per is not None:
            per[qn.shape[1] + j][...] = neq
        if first:
            acc[...] = neq
            first = False
        else:
            np.add(acc, neq, out=acc)
    if kern.onehot_q is not None:
        assert kern.onehot_r_t is not None
        out = tmp if per is None else per[-1]
        np.matmul(kern.onehot_q[qs], kern.onehot_r_t[:, r0:r1], out=out)
        if per is not None:
            np.negative(out, out=out)
        if first:
            acc[...] = out if per is not None else -out
        else:
            (np.add if per is not None else np.subtract)(acc, out, out=acc)


def _knn_block(kern: _Kernel, start: int, stop: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    b, n_ref = stop - start, kern.n_ref
    width = min(_BLOCK_REFERENCE, n_ref)
    acc = np.empty((b, width), np.float32)
    tmp = np.empty_like(acc)
    neq = np.empty((b, width), bool)
    best_d = np.full((b, k), np.inf, np.float32)
    best_i = np.zeros((b, k), np.int64)
    rows = np.arange(b)
    for r0 in range(0, n_ref, width):
        r1 = min(r0 + width, n_ref)
        m = r1 - r0
        a = acc[:, :m]
        _block_sums(kern, slice(start, stop), r0, r1, a, tmp[:, :m], neq[:, :m])
        found_d, found_i = [], []
        for step in range(min(k, m)):
            i = a.argmin(axis=1)
            found_d.append(a[rows, i].copy())
            found_i.append(i + r0)
            if step + 1 < min(k, m):
                a[rows, i] = np.inf
        if k == 1:
            better = found_d[0] < best_d[:, 0]
            best_d[better, 0] = found_d[0][better]
            best_i[better, 0] = found_i[0][better]
        else:
            cand_d = np.column_stack([best_d, *found_d])
            cand_i = np.column_stack([best_i, *found_i])
            order = np.argsort(cand_d, axis=1, kind="stable")[:, :k]
            best_d = np.take_along_axis(cand_d, order, axis=1)
            best_i = np.take_along_axis(cand_i, order, axis=1)
    return best_i, best_d + kern.n_onehot_columns


def _loo_block(kern: _Kernel, start: int, stop: int, n_columns: int) -> np.ndarray:
    """For each query and each column j: the reference row nearest on all columns but j."""
    b = stop - start
    p, q = kern.qn.shape[1], kern.qc.shape[1]
    hot_slot = kern.onehot_q is not None
    n_ref = kern.n_ref
    width = min(_LOO_BLOCK_REFERENCE, n_ref)
    per = np.empty((p + q + int(hot_slot), b, width), np.float32)
    total = np.empty((b, width), np.float32)
    tmp = np.empty_like(total)
    neq = np.empty((b, width), bool)
    best_d = np.full((b, n_columns), np.inf, np.float32)
    best_i = np.zeros((b, n_columns), np.int64)
    rows = np.arange(b)
    hot_cols = kern.hot_spans
    for r0 in range(0, n_ref, width):
        r1 = min(r0 + width, n_ref)
        m = r1 - r0
        t, s = tmp[:, :m], total[:, :m]
        views = per[:, :, :m]
        _block_sums(kern, slice(start, stop), r0, r1, s, t, neq[:, :m], per=views)
        for j in range(p + q):
            np.subtract(s, views[j], out=t)
            _merge(t, rows, r0, best_d, best_i, j)
        if hot_slot:
            assert kern.onehot_q is not None and kern.onehot_r_t is not None
            for jj, (lo, hi) in enumerate(hot_cols):
                # distance without column jj = total - (1 - match_jj); total holds -matches
                np.matmul(kern.onehot_q[start:stop, lo:hi], kern.onehot_r_t[lo:hi, r0:r1], out=t)
                np.add(s, t, out=t)
                _merge(t, rows, r0, best_d, best_i, p + q + jj)
    return best_i


def _merge(
    t: np.ndarray, rows: np.ndarray, r0: int, best_d: np.ndarray, best_i: np.ndarray, j: int
) -> None:
    i = t.argmin(axis=1)
    v = t[rows, i]
    better = v < best_d[:, j]
    best_d[better, j] = v[better]
    best_i[better, j] = i[better] + r0


def _threads(threads: int | None) -> int:
    return max(1, threads if threads is not None else min(os.cpu_count() or 1, 8))


def _map_blocks(fn: Callable[[int, int], Any], n: int, threads: int) -> list[Any]:
    """``fn`` over query blocks on ``threads`` threads (NumPy releases the GIL in its
    loops); BLAS kept to one thread per block so the two levels do not oversubscribe."""
    spans = [(s, min(s + _BLOCK_QUERIES, n)) for s in range(0, n, _BLOCK_QUERIES)]
    with threadpool_limits(limits=1, user_api="blas"):
        if threads == 1 or len(spans) == 1:
            return [fn(s, e) for s, e in spans]
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda se: fn(*se), spans))


def _cap_order(pair: EncodedPair) -> np.ndarray | None:
    """Query order grouping rows by which columns they leave [0, 1] in, so most blocks
    need no cap (``None``: already fine)."""
    out = (pair.query_num < 0) | (pair.query_num > 1)
    if not out.any():
        return None
    weights = 1 << np.arange(min(out.shape[1], 62), dtype=np.int64)
    key = out[:, : len(weights)].astype(np.int64) @ weights
    return np.argsort(key, kind="stable")


def pair_distances(pair: EncodedPair, queries: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """Exact (float64) DCR distances of query row ``queries[i]`` to reference ``refs[i]``."""
    total = np.zeros(len(queries), np.float64)
    for j in range(pair.query_num.shape[1]):
        d = np.abs(pair.query_num[queries, j] - pair.ref_num[refs, j])
        total += np.minimum(d, 1.0) if pair.cap[j] else d
    for j in range(pair.query_cat.shape[1]):
        total += pair.query_cat[queries, j] != pair.ref_cat[refs, j]
    return total / max(pair.n_columns, 1)


def nearest(
    pair: EncodedPair, *, k: int = 1, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest reference rows of every query row: (distances, indices), each
    (n_query, k), ascending; distances exact (float64), ``inf`` where the reference has
    fewer than ``k`` rows."""
    n_query = pair.query_num.shape[0]
    n_ref = pair.ref_num.shape[0]
    if n_query == 0 or n_ref == 0 or pair.n_columns == 0:
        return np.full((n_query, k), np.inf), np.zeros((n_query, k), np.int64)
    order = _cap_order(pair)
    kern = _Kernel.of(pair if order is None else pair.take(order))
    parts = _map_blocks(lambda s, e: _knn_block(kern, s, e, k), n_query, _threads(threads))
    idx = np.concatenate([p[0] for p in parts])
    approx = np.concatenate([p[1] for p in parts])
    if order is not None:
        idx[order], approx[order] = idx.copy(), approx.copy()
    dist = np.full(idx.shape, np.inf)
    rows = np.arange(n_query)
    for j in range(k):
        ok = np.isfinite(approx[:, j])
        dist[ok, j] = pair_distances(pair, rows[ok], idx[ok, j])
    if k > 1:  # float32 may order near-ties differently; the exact values decide
        order = np.argsort(dist, axis=1, kind="stable")
        dist = np.take_along_axis(dist, order, axis=1)
        idx = np.take_along_axis(idx, order, axis=1)
    return dist, idx


def nearest_leaving_out(pair: EncodedPair, *, threads: int | None = None) -> np.ndarray:
    """(n_query, n_columns) indices: for each query row and column j, the reference row
    nearest on every column but j (what an attacker knowing all but j would pick)."""
    order = _cap_order(pair)
    kern = _Kernel.of(pair if order is None else pair.take(order))
    n_query, n_cols = pair.query_num.shape[0], pair.n_columns
    parts = _map_blocks(lambda s, e: _loo_block(kern, s, e, n_cols), n_query, _threads(threads))
    found = np.concatenate(parts)
    if order is not None:
        found[order] = found.copy()
    out = np.empty_like(found)
    out[:, kern.order] = found
    return out


def distance_to_closest(
    queries: pd.DataFrame,
    reference: pd.DataFrame,
    kinds: Mapping[str, Kind],
    *,
    k: int = 1,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """DCR of every row of ``queries`` to ``reference`` (SDMetrics' ``calculate_dcr`` with
    ``k=1``): (distances, indices), each of shape (len(queries), k)."""
    return nearest(encode(queries, reference, kinds), k=k, threads=threads)


def row_distances(
    a: pd.DataFrame,
    b: pd.DataFrame,
    kinds: Mapping[str, Kind],
    *,
    reference: pd.DataFrame | None = None,
) -> np.ndarray:
    """The full (len(a), len(b)) DCR distance matrix, ranges from ``reference`` (default
    ``b``). For small tables and tests; ``nearest`` is the scalable path."""
    ref = b if reference is None else reference
    both = encode(pd.concat([a, b], ignore_index=True), ref, kinds)
    n = len(a)
    pair = EncodedPair(
        both.columns,
        both.query_num[:n],
        both.query_num[n:],
        both.cap,
        both.query_cat[:n],
        both.query_cat[n:],
    )
    ia, ib = np.meshgrid(np.arange(n), np.arange(len(b)), indexing="ij")
    return pair_distances(pair, ia.ravel(), ib.ravel()).reshape(n, len(b))


# --- statistics ----------------------------------------------------------------------------


def wilson(successes: float, total: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score estimate of a success rate: (centre, half-width), as anonymeter."""
    z = float(stats.norm.ppf(0.5 * (1.0 + confidence)))
    z2 = z * z
    spread = successes * (total - successes) / total
    denominator = total + z2
    centre = (successes + 0.5 * z2) / denominator
    return centre, (z / denominator) * math.sqrt(max(spread, 0.0) + 0.25 * z2)


def residual_risk(
    attack: tuple[float, float], control: tuple[float, float]
) -> tuple[float, tuple[float, float]]:
    """anonymeter's risk: (attack - control) / (1 - control), error propagated, bound to
    [0, 1]."""
    (a, da), (c, dc) = attack, control
    if c >= 1.0:
        return math.nan, (math.nan, math.nan)
    value = (a - c) / (1.0 - c)
    error = math.hypot(da / abs(1.0 - c), dc * (a - 1.0) / (1.0 - c) ** 2)
    return _bound(value), (_bound(value - error), _bound(value + error))


def _bound(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def delong_auc(positive: np.ndarray, negative: np.ndarray) -> tuple[float, float]:
    """AUC of scores (positives should score higher; ties count half) and its DeLong
    variance, from midranks (Sun & Xu 2014)."""
    m, n = len(positive), len(negative)
    ranks = stats.rankdata(np.concatenate([positive, negative]))
    rx, ry = stats.rankdata(positive), stats.rankdata(negative)
    auc = (ranks[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (ranks[:m] - rx) / n
    v01 = 1.0 - (ranks[m:] - ry) / m
    var = (v10.var(ddof=1) if m > 1 else 0.0) / m + (v01.var(ddof=1) if n > 1 else 0.0) / n
    return float(auc), float(var)


# --- the metrics ---------------------------------------------------------------------------


@dataclass
class _Context:
    tables: Tables
    rng: np.random.Generator
    max_pairs: int | None
    threads: int
    say: Callable[[str], None]
    columns: list[str]

    def sample(self, n_query: int, n_ref: int) -> np.ndarray:
        """Query rows for one pass: all, or a seeded sample within the pair budget."""
        if self.max_pairs is None or n_query * n_ref <= self.max_pairs:
            return np.arange(n_query)
        size = max(MIN_SAMPLE, self.max_pairs // max(n_ref, 1))
        if size >= n_query:
            return np.arange(n_query)
        return np.sort(self.rng.choice(n_query, size=size, replace=False))

    def pass_(
        self, query: pd.DataFrame, reference: pd.DataFrame, what: str, *, k: int = 1
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = self.sample(len(query), len(reference))
        self.say(f"privacy: {what} ({len(rows):,} x {len(reference):,} rows)")
        pair = encode(query.iloc[rows], reference, self.tables.kinds, self.columns)
        dist, idx = nearest(pair, k=k, threads=self.threads)
        return rows, dist, idx


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def _share(mask: np.ndarray) -> tuple[float, tuple[float, float]]:
    n = len(mask)
    k = float(mask.sum())
    centre, err = wilson(k, n)
    return k / n, (_bound(centre - err), _bound(centre + err))


def _dcr_metrics(ctx: _Context, state: dict[str, Any]) -> list[MetricResult]:
    t = ctx.tables
    rows, d_train, _ = state["syn_train"]
    d_train = d_train[:, 0]
    out: list[MetricResult] = []
    common = {
        "median_dcr_synthetic_train": float(np.median(d_train)),
        "p5_dcr_synthetic_train": _pct(d_train, 5),
    }
    if t.holdout is None:
        return [
            not_applicable(FAMILY, "dcr_share_closer_to_train", NEEDS_HOLDOUT),
            not_applicable(FAMILY, "dcr_overfitting_protection", NEEDS_HOLDOUT),
        ]
    pair = encode(t.synthetic.iloc[rows], t.holdout, t.kinds, ctx.columns)
    ctx.say(f"privacy: DCR synthetic -> hold-out ({len(rows):,} x {len(t.holdout):,} rows)")
    d_hold = nearest(pair, k=1, threads=ctx.threads)[0][:, 0]
    closer = d_train < d_hold
    share, ci = _share(closer)
    details = {
        **common,
        "median_dcr_synthetic_holdout": float(np.median(d_hold)),
        "synthetic_rows": len(rows),
        "sampled": len(rows) < len(t.synthetic),
        "closer_to_holdout": 1.0 - share,
    }
    if "holdout_train" in state:
        d_base = state["holdout_train"][1][:, 0]
        details["median_dcr_holdout_train"] = float(np.median(d_base))
        details["p5_dcr_holdout_train"] = _pct(d_base, 5)
    out.append(
        metric(FAMILY, "dcr_share_closer_to_train", share, higher_is_better=False, ci=ci, **details)
    )
    score = min((1.0 - share) * 2.0, 1.0)
    out.append(
        metric(
            FAMILY,
            "dcr_overfitting_protection",
            score,
            ci=(min((1.0 - ci[1]) * 2.0, 1.0), min((1.0 - ci[0]) * 2.0, 1.0)),
            sdmetrics="DCROverfittingProtection",
            closer_to_training=share,
            synthetic_rows=len(rows),
        )
    )
    return out


def random_like(real: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """SDMetrics DCRBaselineProtection's random baseline: per column, uniform between the
    real min and max (integers, floats, datetimes) or a uniform choice among the real
    categories, with the real share of nulls."""
    data: dict[str, Any] = {}
    for column in real.columns:
        values = real[column]
        nan_ratio = float(values.isna().mean())
        present = values.dropna()
        if present.empty:
            data[column] = pd.Series(
                [None] * n, dtype=values.dtype if values.dtype != bool else object
            )
            continue
        if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
            random = pd.Series(rng.integers(int(present.min()), int(present.max()) + 1, size=n))
        elif pd.api.types.is_float_dtype(values):
            random = pd.Series(rng.uniform(float(present.min()), float(present.max()), size=n))
        elif pd.api.types.is_datetime64_any_dtype(values):
            lo, hi = present.min(), present.max()
            seconds = rng.uniform(0.0, (hi - lo).total_seconds(), size=n)
            random = pd.Series(lo + pd.to_timedelta(seconds, unit="s"))
        else:
            random = pd.Series(rng.choice(present.unique(), size=n))
        mask = rng.random(n) < nan_ratio
        if mask.any():
            random = random.astype(object) if random.dtype == bool else random
            random[mask] = pd.NaT if pd.api.types.is_datetime64_any_dtype(random) else np.nan
        data[column] = random
    return pd.DataFrame(data)


def _dcr_baseline(ctx: _Context, state: dict[str, Any]) -> list[MetricResult]:
    t = ctx.tables
    rows, d_syn, _ = state["syn_train"]
    random = random_like(t.real[ctx.columns], len(rows), ctx.rng)
    ctx.say(f"privacy: DCR random -> train ({len(random):,} x {len(t.real):,} rows)")
    d_rand = nearest(encode(random, t.real, t.kinds, ctx.columns), threads=ctx.threads)[0][:, 0]
    med_syn, med_rand = float(np.median(d_syn[:, 0])), float(np.median(d_rand))
    if med_rand == 0.0:
        return [
            not_applicable(
                FAMILY,
                "dcr_baseline_protection",
                "random rows are at distance 0 from the training data (too few distinct values)",
            )
        ]
    return [
        metric(
            FAMILY,
            "dcr_baseline_protection",
            min(med_syn / med_rand, 1.0),
            sdmetrics="DCRBaselineProtection",
            median_dcr_synthetic_train=med_syn,
            median_dcr_random_train=med_rand,
            synthetic_rows=len(rows),
        )
    ]


def _ratio(dist: np.ndarray) -> np.ndarray:
    d1, d2 = dist[:, 0], dist[:, 1]
    return np.divide(d1, d2, out=np.zeros_like(d1), where=d2 > 0)


def _nndr(ctx: _Context, state: dict[str, Any]) -> list[MetricResult]:
    if len(ctx.tables.real) < 2:
        return [not_applicable(FAMILY, "nndr", "needs at least 2 training rows")]
    rows, dist, _ = state["syn_train"]
    ratio = _ratio(dist)
    details: dict[str, Any] = {"median": float(np.median(ratio)), "synthetic_rows": len(rows)}
    if "holdout_train" in state:
        base = _ratio(state["holdout_train"][1])
        details["holdout_p5"] = _pct(base, 5)
        details["holdout_median"] = float(np.median(base))
    return [metric(FAMILY, "nndr", _pct(ratio, 5), percentile=5, **details)]


def _row_codes(
    frames: Sequence[pd.DataFrame], kinds: Mapping[str, Kind], columns: Sequence[str]
) -> list[np.ndarray]:
    """One uint64 hash per row, equal for rows equal in every column (nulls equal)."""
    per_frame: list[dict[str, np.ndarray]] = [{} for _ in frames]
    for column in columns:
        kind = kinds[column]
        if kind in ("numerical", "datetime"):
            parts: list[Any] = [_floats(f[column], kind) for f in frames]
        else:
            parts = [_keys(f[column], kind) for f in frames]
        for store, codes in zip(per_frame, _joint_codes(parts), strict=True):
            store[column] = codes
    return [
        pd.util.hash_pandas_object(pd.DataFrame(store), index=False).to_numpy()
        for store in per_frame
    ]


def _copies(ctx: _Context, state: dict[str, Any]) -> list[MetricResult]:
    t = ctx.tables
    frames = [t.synthetic, t.real] + ([t.holdout] if t.holdout is not None else [])
    codes = _row_codes(frames, t.kinds, ctx.columns)
    copied = np.isin(codes[0], codes[1])
    exact_details: dict[str, Any] = {"copies": int(copied.sum()), "synthetic_rows": len(copied)}
    if t.holdout is not None:
        exact_details["holdout_rate"] = float(np.isin(codes[2], codes[1]).mean())
    out = [
        metric(
            FAMILY, "exact_copy_rate", float(copied.mean()), higher_is_better=False, **exact_details
        )
    ]
    rows, dist, _ = state["syn_train"]
    near = dist[:, 0] <= NEAR_COPY_EPSILON
    near_details: dict[str, Any] = {"epsilon": NEAR_COPY_EPSILON, "synthetic_rows": len(rows)}
    if "holdout_train" in state:
        near_details["holdout_rate"] = float(
            (state["holdout_train"][1][:, 0] <= NEAR_COPY_EPSILON).mean()
        )
    out.append(
        metric(
            FAMILY,
            "near_copy_rate",
            float(near.mean()),
            higher_is_better=False,
            ci=_share(near)[1],
            **near_details,
        )
    )
    return out


def _mia(ctx: _Context) -> list[MetricResult]:
    t = ctx.tables
    names = ("membership_inference_auc", "membership_inference_risk")
    if t.holdout is None:
        return [not_applicable(FAMILY, n, NEEDS_HOLDOUT) for n in names]
    n = min(len(t.real), len(t.holdout))
    if n < 2:
        return [
            not_applicable(FAMILY, m, "needs at least 2 training and 2 hold-out rows")
            for m in names
        ]
    if ctx.max_pairs is not None:
        n = min(n, max(MIN_SAMPLE, ctx.max_pairs // max(len(t.synthetic), 1)))
    members = np.sort(ctx.rng.choice(len(t.real), size=n, replace=False))
    others = np.sort(ctx.rng.choice(len(t.holdout), size=n, replace=False))
    ctx.say(f"privacy: membership inference ({n:,} + {n:,} x {len(t.synthetic):,} rows)")
    d_in = nearest(
        encode(t.real.iloc[members], t.synthetic, t.kinds, ctx.columns), threads=ctx.threads
    )[0][:, 0]
    d_out = nearest(
        encode(t.holdout.iloc[others], t.synthetic, t.kinds, ctx.columns), threads=ctx.threads
    )[0][:, 0]
    auc, var = delong_auc(-d_in, -d_out)
    half = float(stats.norm.ppf(0.5 * (1 + CONFIDENCE))) * math.sqrt(var)
    lo, hi = _bound(auc - half), _bound(auc + half)
    details = {
        "rows_per_class": n,
        "median_dcr_members": float(np.median(d_in)),
        "median_dcr_non_members": float(np.median(d_out)),
    }
    return [
        metric(
            FAMILY,
            names[0],
            auc,
            higher_is_better=False,
            ci=(lo, hi),
            ci_method="DeLong",
            **details,
        ),
        metric(
            FAMILY,
            names[1],
            max(0.0, 2.0 * (auc - 0.5)),
            higher_is_better=False,
            ci=(_bound(2 * (lo - 0.5)), _bound(2 * (hi - 0.5))),
            auc=auc,
            **details,
        ),
    ]


# --- anonymeter-style attacks --------------------------------------------------------------


def _risk_result(
    name: str,
    n_attacks: int,
    n_success: float,
    n_control: float,
    n_baseline: float,
    *,
    columns: Sequence[str] = (),
    **details: Any,
) -> MetricResult:
    attack, control, baseline = (wilson(x, n_attacks) for x in (n_success, n_control, n_baseline))
    value, ci = residual_risk(attack, control)
    reason = (
        "every control attack succeeded: the residual risk cannot be measured"
        if math.isnan(value)
        else None
    )
    return metric(
        FAMILY,
        name,
        value,
        columns=list(columns),
        higher_is_better=False,
        reason=reason,
        ci=None if math.isnan(value) else ci,
        n_attacks=n_attacks,
        n_success=float(n_success),
        n_control=float(n_control),
        attack_rate=attack[0],
        attack_rate_error=attack[1],
        control_rate=control[0],
        control_rate_error=control[1],
        baseline_rate=baseline[0],
        **details,
    )


@dataclass
class _Index:
    """A table's column values (floats; categories as shared codes; NaN for null) with
    one sort per column, so a predicate's matching rows are a slice of the sort order."""

    values: np.ndarray  # (c, n) float64, one contiguous row per column
    order: np.ndarray  # (c, n) argsort, NaN last
    sorted: np.ndarray  # (c, n)
    valid: np.ndarray  # (c,) non-null counts

    @classmethod
    def of(cls, values: np.ndarray) -> _Index:
        order = np.argsort(values, axis=0, kind="stable").T.copy()
        srt = np.take_along_axis(values, order.T, axis=0).T.copy()
        return cls(np.ascontiguousarray(values.T), order, srt, (~np.isnan(values)).sum(axis=0))

    def spans(self, col: int, op: str, value: float) -> list[tuple[int, int]]:
        s, nv = self.sorted[col, : self.valid[col]], int(self.valid[col])
        if op == "null":
            return [(nv, self.values.shape[1])]
        if op == "notnull":
            return [(0, nv)]
        left = int(np.searchsorted(s, value, "left"))
        right = int(np.searchsorted(s, value, "right"))
        return {
            "ge": [(left, nv)],
            "gt": [(right, nv)],
            "le": [(0, right)],
            "lt": [(0, left)],
            "eq": [(left, right)],
            "ne": [(0, left), (right, nv)],
        }[op]

    def count(self, predicates: Sequence[tuple[int, str, float]]) -> int:
        """Rows matching every predicate: the smallest predicate's rows, filtered."""
        spans = [self.spans(c, op, v) for c, op, v in predicates]
        sizes = [sum(b - a for a, b in sp) for sp in spans]
        first = int(np.argmin(sizes))
        if sizes[first] == 0 or len(predicates) == 1:
            return sizes[first]
        col = predicates[first][0]
        rows = np.concatenate([self.order[col, a:b] for a, b in spans[first]])
        keep = np.ones(len(rows), bool)
        for i, (c, op, v) in enumerate(predicates):
            if i != first:
                keep &= _test(self.values[c][rows], op, v)
        return int(keep.sum())


def _test(x: np.ndarray, op: str, v: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == "null":
            return np.isnan(x)
        if op == "notnull":
            return ~np.isnan(x)
        if op == "ne":
            return (x != v) & ~np.isnan(x)
        return {
            "ge": np.greater_equal,
            "gt": np.greater,
            "le": np.less_equal,
            "lt": np.less,
            "eq": np.equal,
        }[op](x, v)


def _value_matrices(ctx: _Context, frames: Sequence[pd.DataFrame]) -> list[np.ndarray]:
    kinds = ctx.tables.kinds
    cols: list[list[np.ndarray]] = [[] for _ in frames]
    for column in ctx.columns:
        kind = kinds[column]
        if kind in ("numerical", "datetime"):
            parts = [_floats(f[column], kind) for f in frames]
        else:
            codes = _joint_codes([_keys(f[column], kind) for f in frames])
            parts = [np.where(c < 0, np.nan, c.astype(np.float64)) for c in codes]
        for store, part in zip(cols, parts, strict=True):
            store.append(part)
    return [np.column_stack(c) for c in cols]


def _dedupe(values: np.ndarray) -> np.ndarray:
    """Distinct rows (anonymeter singles out among unique records)."""
    frame = pd.DataFrame(values)
    return values[~frame.duplicated().to_numpy()]


def _singling_out_probability_integral(n: np.ndarray | float, w: float) -> np.ndarray | float:
    """Integral over query weight 0..w of P(a query of weight w singles out among n rows),
    P = n w (1 - w)^(n - 1) (Cohen & Nissim 2020)."""
    return (1.0 - (n * w + 1.0) * (1.0 - w) ** n) / (n + 1.0)


def _control_successes(k_control: np.ndarray, n_control: int, n_train: int) -> tuple[float, str]:
    """Control successes scaled to the training table's size (anonymeter's correction)."""
    singles = float((k_control == 1).sum())
    if n_control == n_train:
        return singles, "equal sizes"
    if n_control > n_train:  # exact expectation of singles in a subsample of n_train rows
        expected = stats.hypergeom.pmf(1, n_control, k_control, n_train).sum()
        return float(expected), "hypergeometric expectation at the training size"
    from scipy.optimize import curve_fit

    sizes = np.linspace(min(1000, n_control), n_control, 10).astype(int)
    successes = np.array([stats.hypergeom.pmf(1, n_control, k_control, s).sum() for s in sizes])
    if successes.max() <= 0:
        return singles, "no control successes"

    def model(x: np.ndarray, w: float, norm: float) -> np.ndarray:
        return norm * _singling_out_probability_integral(x, w)

    w0 = 1.0 / sizes.max()
    try:
        (w, norm), _ = curve_fit(
            model,
            sizes.astype(float),
            successes,
            p0=(w0, 1.0 / float(_singling_out_probability_integral(float(sizes.max()), w0))),
            bounds=(0, (1, np.inf)),
        )
        factor = float(
            model(np.array(float(n_train)), w, norm) / model(np.array(float(n_control)), w, norm)
        )
    except (RuntimeError, ValueError, ZeroDivisionError):
        return singles, "size correction failed to fit; uncorrected"
    if not math.isfinite(factor):
        return singles, "size correction not finite; uncorrected"
    return singles * factor, f"fitted size correction x{factor:.3f}"


def _singling_out(ctx: _Context, n_attacks: int, n_cols: int) -> list[MetricResult]:
    t = ctx.tables
    names = ("singling_out_risk", "singling_out_risk_univariate")
    if t.holdout is None:
        return [not_applicable(FAMILY, n, NEEDS_HOLDOUT) for n in names]
    syn, train, control = (
        _dedupe(v) for v in _value_matrices(ctx, [t.synthetic, t.real, t.holdout])
    )
    ctx.say(f"privacy: singling out ({n_attacks} attacks)")
    isyn, itrain, icontrol = _Index.of(syn), _Index.of(train), _Index.of(control)
    kinds = [t.kinds[c] for c in ctx.columns]
    continuous = np.array([k in ("numerical", "datetime") for k in kinds])
    medians = np.array(
        [
            np.nanmedian(syn[:, j]) if continuous[j] and np.isfinite(syn[:, j]).any() else np.nan
            for j in range(syn.shape[1])
        ]
    )
    rng = ctx.rng
    n_cols = min(n_cols, syn.shape[1])
    found: dict[tuple, list[tuple[int, str, float]]] = {}
    attempts = 0
    limit = SINGLING_OUT_ATTEMPTS * n_attacks
    while len(found) < n_attacks and attempts < limit:
        batch = min(1000, limit - attempts)
        picks = rng.integers(0, len(syn), size=batch)
        for r in picks:
            cols = np.sort(rng.choice(syn.shape[1], size=n_cols, replace=False))
            preds = []
            for c in cols:
                v = syn[r, c]
                if np.isnan(v):
                    preds.append((int(c), "null", 0.0))
                elif continuous[c]:
                    preds.append((int(c), "ge" if v > medians[c] else "le", float(v)))
                else:
                    preds.append((int(c), "eq", float(v)))
            key = tuple(preds)
            if key not in found and isyn.count(preds) == 1:
                found[key] = preds
                if len(found) >= n_attacks:
                    break
        attempts += batch
    multi = list(found.values())
    uni = _univariate_queries(syn, continuous, n_attacks, rng)
    out = []
    for name, queries, width in ((names[0], multi, n_cols), (names[1], uni, 1)):
        if len(queries) < MIN_ATTACKS:
            out.append(
                not_applicable(
                    FAMILY,
                    name,
                    f"found only {len(queries)} predicates singling out one synthetic row "
                    f"(needs {MIN_ATTACKS})",
                )
            )
            continue
        k_train = np.array([itrain.count(q) for q in queries])
        k_control = np.array([icontrol.count(q) for q in queries])
        n_control, correction = _control_successes(k_control, len(control), len(train))
        baseline = _random_queries(syn, continuous, len(queries), width, rng)
        n_baseline = sum(itrain.count(q) == 1 for q in baseline)
        out.append(
            _risk_result(
                name,
                len(queries),
                float((k_train == 1).sum()),
                n_control,
                float(n_baseline),
                mode="multivariate" if width > 1 else "univariate",
                predicate_columns=width,
                requested_attacks=n_attacks,
                control_correction=correction,
            )
        )
    return out


def _univariate_queries(
    syn: np.ndarray, continuous: np.ndarray, n_attacks: int, rng: np.random.Generator
) -> list[list[tuple[int, str, float]]]:
    """anonymeter's univariate predicates that single out one synthetic row: a lone null,
    the minimum or maximum (when unique) and every value seen once; a seeded random
    ``n_attacks`` of them. Their synthetic counts follow from the value counts, so none is
    evaluated to be chosen."""
    cols: list[np.ndarray] = []
    ops: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for c in range(syn.shape[1]):
        col = syn[:, c]
        present = col[~np.isnan(col)]
        found: list[tuple[str, np.ndarray]] = []
        if present.size != len(col) and len(col) - present.size == 1:
            found.append(("null", np.zeros(1)))
        values, counts = np.unique(present, return_counts=True)
        if values.size and continuous[c]:
            if counts[0] == 1:
                found.append(("le", values[:1]))
            if counts[-1] == 1:
                found.append(("ge", values[-1:]))
        found.append(("eq", values[counts == 1]))
        for op, v in found:
            cols.append(np.full(len(v), c))
            ops.append(np.full(len(v), op, dtype=object))
            vals.append(v)
    if not cols:
        return []
    all_cols, all_ops, all_vals = (np.concatenate(x) for x in (cols, ops, vals))
    pick = rng.permutation(len(all_cols))[:n_attacks]
    return [[(int(all_cols[i]), str(all_ops[i]), float(all_vals[i]))] for i in pick]


def _random_queries(
    syn: np.ndarray, continuous: np.ndarray, n: int, width: int, rng: np.random.Generator
) -> list[list[tuple[int, str, float]]]:
    """anonymeter's baseline: random columns, a random value among the synthetic ones,
    a random operator."""
    uniques = [np.unique(syn[:, c][~np.isnan(syn[:, c])]) for c in range(syn.shape[1])]
    has_null = np.isnan(syn).any(axis=0)
    queries = []
    for _ in range(n):
        preds = []
        for c in np.sort(rng.choice(syn.shape[1], size=width, replace=False)):
            pool = len(uniques[c]) + int(has_null[c])
            pick = int(rng.integers(0, max(pool, 1)))
            if pick >= len(uniques[c]):
                preds.append((int(c), str(rng.choice(["null", "notnull"])), 0.0))
                continue
            ops = ["eq", "ne", "gt", "lt", "ge", "le"] if continuous[c] else ["eq", "ne"]
            preds.append((int(c), str(rng.choice(ops)), float(uniques[c][pick])))
        queries.append(preds)
    return queries


def _targets(ctx: _Context, n_attacks: int) -> tuple[np.ndarray, np.ndarray]:
    t = ctx.tables
    assert t.holdout is not None
    return (
        ctx.rng.choice(len(t.real), size=n_attacks, replace=False),
        ctx.rng.choice(len(t.holdout), size=n_attacks, replace=False),
    )


def _attack_size(ctx: _Context, n_attacks: int) -> int:
    t = ctx.tables
    assert t.holdout is not None
    return min(n_attacks, len(t.real), len(t.holdout))


def _linkability(
    ctx: _Context, n_attacks: int, link_columns: tuple[Sequence[str], Sequence[str]] | None
) -> list[MetricResult]:
    t = ctx.tables
    name = "linkability_risk"
    if t.holdout is None:
        return [not_applicable(FAMILY, name, NEEDS_HOLDOUT)]
    if link_columns is None:
        if len(ctx.columns) < 2:
            return [not_applicable(FAMILY, name, "needs at least 2 columns to split")]
        link_columns = (ctx.columns[0::2], ctx.columns[1::2])
    a, b = list(link_columns[0]), list(link_columns[1])
    unknown = [c for c in a + b if c not in t.kinds]
    if unknown or not a or not b or set(a) & set(b):
        reason = (
            f"unknown columns {unknown}" if unknown else "needs two disjoint, non-empty column sets"
        )
        return [not_applicable(FAMILY, name, reason)]
    n = _attack_size(ctx, n_attacks)
    if n < MIN_ATTACKS:
        return [not_applicable(FAMILY, name, f"too few rows for {MIN_ATTACKS} attacks")]
    train_rows, control_rows = _targets(ctx, n)
    ctx.say(f"privacy: linkability ({n} attacks)")
    links = []
    for frame, rows in ((t.real, train_rows), (t.holdout, control_rows)):
        pair = encode(frame.iloc[rows], t.synthetic, t.kinds, ctx.columns)
        ia = nearest(pair.subset(a), threads=ctx.threads)[1][:, 0]
        ib = nearest(pair.subset(b), threads=ctx.threads)[1][:, 0]
        links.append(float((ia == ib).sum()))
    random_a = ctx.rng.integers(0, len(t.synthetic), size=n)
    random_b = ctx.rng.integers(0, len(t.synthetic), size=n)
    return [
        _risk_result(
            name,
            n,
            links[0],
            links[1],
            float((random_a == random_b).sum()),
            columns_a=a,
            columns_b=b,
            n_neighbors=1,
        )
    ]


def _inference(ctx: _Context, n_attacks: int, secrets: Sequence[str] | None) -> list[MetricResult]:
    t = ctx.tables
    secrets = list(ctx.columns if secrets is None else secrets)
    if t.holdout is None:
        return [
            not_applicable(FAMILY, "inference_risk", NEEDS_HOLDOUT, columns=[s]) for s in secrets
        ]
    if len(ctx.columns) < 2:
        return [
            not_applicable(FAMILY, "inference_risk", "needs at least 2 columns", columns=[s])
            for s in secrets
        ]
    n = _attack_size(ctx, n_attacks)
    if n < MIN_ATTACKS:
        return [
            not_applicable(
                FAMILY, "inference_risk", f"too few rows for {MIN_ATTACKS} attacks", columns=[s]
            )
            for s in secrets
        ]
    train_rows, control_rows = _targets(ctx, n)
    ctx.say(f"privacy: attribute inference ({n} attacks x {len(secrets)} secrets)")
    guesses = []
    for frame, rows in ((t.real, train_rows), (t.holdout, control_rows)):
        pair = encode(frame.iloc[rows], t.synthetic, t.kinds, ctx.columns)
        loo = nearest_leaving_out(pair, threads=ctx.threads)
        guesses.append(dict(zip(pair.columns, loo.T, strict=True)))
    random_rows = ctx.rng.integers(0, len(t.synthetic), size=n)
    out = []
    for secret in secrets:
        if secret not in t.kinds:
            out.append(
                not_applicable(
                    FAMILY, "inference_risk", f"unknown column {secret}", columns=[secret]
                )
            )
            continue
        kind = t.kinds[secret]
        syn_vals, truth = _secret_values(t, secret, kind)
        if len(pd.unique(truth[0])) < 2:
            out.append(
                not_applicable(
                    FAMILY,
                    "inference_risk",
                    "the secret has a single value (or only nulls) in the training data",
                    columns=[secret],
                )
            )
            continue
        success = []
        for (frame_vals, rows), guess in zip(
            ((truth[0], train_rows), (truth[1], control_rows)), guesses, strict=True
        ):
            success.append(float(_correct(syn_vals[guess[secret]], frame_vals[rows], kind).sum()))
        n_base = float(_correct(syn_vals[random_rows], truth[0][train_rows], kind).sum())
        out.append(
            _risk_result(
                "inference_risk",
                n,
                success[0],
                success[1],
                n_base,
                columns=[secret],
                regression=kind == "numerical",
                tolerance=INFERENCE_TOLERANCE if kind == "numerical" else 0.0,
            )
        )
    return out


def _secret_values(
    t: Tables, secret: str, kind: Kind
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    assert t.holdout is not None
    frames = [t.synthetic, t.real, t.holdout]
    if kind in ("numerical", "datetime"):
        vals = [_floats(f[secret], kind) for f in frames]
    else:
        codes = _joint_codes([_keys(f[secret], kind) for f in frames])
        vals = [np.where(c < 0, np.nan, c.astype(np.float64)) for c in codes]
    return vals[0], (vals[1], vals[2])


def _correct(guess: np.ndarray, truth: np.ndarray, kind: Kind) -> np.ndarray:
    """A guess is right when equal (both null counts), or for a numerical secret within
    5 % of the guess: |guess - truth| <= 0.05 |guess| (anonymeter's relative tolerance)."""
    both_null = np.isnan(guess) & np.isnan(truth)
    with np.errstate(invalid="ignore"):
        if kind == "numerical":
            match = np.abs(guess - truth) / (np.abs(guess) + 1e-12) <= INFERENCE_TOLERANCE
        else:
            match = guess == truth
    return both_null | match


# --- entry point ---------------------------------------------------------------------------


def privacy(
    tables: Tables,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    include: Collection[str] | None = None,
    max_pairs: int | None = MAX_PAIRS,
    n_attacks: int = N_ATTACKS,
    secrets: Iterable[str] | None = None,
    link_columns: tuple[Sequence[str], Sequence[str]] | None = None,
    singling_out_columns: int = SINGLING_OUT_COLUMNS,
    threads: int | None = None,
) -> list[MetricResult]:
    """Every privacy figure of ``tables`` (``real`` = the generator's training data,
    ``holdout`` = real rows it never saw); those needing the hold-out are not applicable
    without one. ``include`` picks groups of ``GROUPS``; ``max_pairs`` bounds each
    nearest-neighbour pass (``None``: exact on all rows); ``n_attacks`` sizes the
    anonymeter-style attacks; ``secrets`` the inference targets (default every column);
    ``link_columns`` linkability's two column sets (default alternate columns)."""
    chosen = set(GROUPS if include is None else include)
    unknown = chosen - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown privacy groups: {sorted(unknown)}; choose from {GROUPS}")
    ctx = _Context(
        tables,
        np.random.default_rng(seed),
        max_pairs,
        _threads(threads),
        progress or (lambda _: None),
        list(tables.kinds),
    )
    t = tables
    state: dict[str, Any] = {}
    results: list[MetricResult] = []
    distance_groups = {"dcr", "dcr_baseline", "nndr", "copies"}
    if chosen & distance_groups:
        k = 2 if "nndr" in chosen else 1
        state["syn_train"] = ctx.pass_(t.synthetic, t.real, "DCR synthetic -> train", k=k)
        # the hold-out -> train baselines (in the details of dcr, nndr and near copies)
        # cost a pass of their own: skipped when only the SDMetrics figures are asked for
        if t.holdout is not None and chosen & {"nndr", "copies"}:
            state["holdout_train"] = ctx.pass_(t.holdout, t.real, "DCR hold-out -> train", k=k)
    steps: list[tuple[str, Callable[[], list[MetricResult]]]] = [
        ("dcr", lambda: _dcr_metrics(ctx, state)),
        ("dcr_baseline", lambda: _dcr_baseline(ctx, state)),
        ("nndr", lambda: _nndr(ctx, state)),
        ("copies", lambda: _copies(ctx, state)),
        ("mia", lambda: _mia(ctx)),
        ("singling_out", lambda: _singling_out(ctx, n_attacks, singling_out_columns)),
        ("linkability", lambda: _linkability(ctx, n_attacks, link_columns)),
        (
            "inference",
            lambda: _inference(ctx, n_attacks, None if secrets is None else list(secrets)),
        ),
    ]
    for group, step in steps:
        if group in chosen:
            results += step()
    return results


__all__ = [
    "GROUPS",
    "MAX_PAIRS",
    "EncodedPair",
    "delong_auc",
    "distance_to_closest",
    "encode",
    "nearest",
    "nearest_leaving_out",
    "pair_distances",
    "privacy",
    "random_like",
    "residual_risk",
    "row_distances",
    "wilson",
]
