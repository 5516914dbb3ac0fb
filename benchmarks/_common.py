"""Shared plumbing of the benchmark scripts: arguments, fresh stores, raw baselines, records.

Every ``bench_*.py`` imports this module from its own folder. It creates each store in a
temporary directory (and, for PostgreSQL, in a database of its own, dropped at the end),
builds the realistic records the figures are measured on, and prints the results.
Nothing here is part of the ``pedigree`` package and nothing here is a test.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import random
import secrets
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from pedigree.model import (
    CodeRef,
    Column,
    DatasetVersion,
    FileDigest,
    JobRef,
    RecordBody,
    Run,
    RunIO,
)
from pedigree.store.ledger import Ledger

BACKENDS = ("sqlite", "postgresql")

PG_ADMIN_URL = os.environ.get("PEDIGREE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
"""Server the PostgreSQL runs use; its database is only used to CREATE / DROP the
per-run database ``pedigree_bench_<random>``."""

NAMESPACE = "s3://bench-bucket"
ACTOR = "bench"
BASE_TIME = datetime(2026, 11, 1, tzinfo=UTC)

# The store reads these; a benchmark must never pick up a developer's real store.
for _var in ("PEDIGREE_DATABASE_URL", "PEDIGREE_HOME", "PEDIGREE_ACTOR"):
    os.environ.pop(_var, None)


# --- arguments and output ------------------------------------------------------------------


def parse_args(
    description: str,
    *,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """``--backend sqlite|postgresql|all``, ``--quick``, ``--json`` (+ a script's own)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--backend",
        choices=(*BACKENDS, "all"),
        default="sqlite",
        help="store backend to measure (default: sqlite; all: both, one after the other)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small smoke run (seconds): checks the script works"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object of the figures (only that)"
    )
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    args.backends = list(BACKENDS) if args.backend == "all" else [args.backend]
    # A plain `kill` then unwinds like Ctrl-C: temporary stores and databases are removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return args


class Output:
    """Human lines go to stdout, or to stderr under ``--json`` (stdout then holds only JSON)."""

    def __init__(self, args: argparse.Namespace, figure: str) -> None:
        self.args = args
        self.figure = figure
        self.results: dict[str, dict[str, Any]] = {}
        self.started = time.perf_counter()

    def say(self, text: str = "") -> None:
        print(text, file=sys.stderr if self.args.json else sys.stdout, flush=True)

    def progress(self, text: str) -> None:
        self.say(f"  … {text}")

    def finish(self) -> None:
        elapsed = time.perf_counter() - self.started
        self.say(f"(total wall time {elapsed:.1f} s)")
        if self.args.json:
            print(
                json.dumps(
                    {
                        "figure": self.figure,
                        "quick": bool(self.args.quick),
                        "machine": machine(self.args.backends),
                        "results": self.results,
                        "wall_seconds": round(elapsed, 1),
                    },
                    sort_keys=False,
                )
            )


def machine(backends: Sequence[str] = ()) -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": date.today().isoformat(),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }
    if "postgresql" in backends:
        info["postgresql"] = pg_server_version()
    return info


# --- statistics ----------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0-100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


# --- stores and databases ------------------------------------------------------------------


def pg_url(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one run; dropped (even on failure) at the end."""
    name = f"pedigree_bench_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def pg_server_version() -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        row = admin.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


@contextlib.contextmanager
def ledger_store(backend: str) -> Iterator[Ledger]:
    """A new, empty ledger in a temporary directory (plus its own database on PostgreSQL)."""
    with (
        tempfile.TemporaryDirectory(prefix="pedigree-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        url = stack.enter_context(pg_database()) if backend == "postgresql" else None
        ledger, created = Ledger.init(Path(tmp) / "store", url, actor=ACTOR)
        assert created, "the benchmark store was not new"
        stack.callback(ledger.close)
        yield ledger


RAW_TABLE = "raw_records"
RAW_COLUMNS = ("seq", "time", "actor", "schema", "canonical", "leaf_hash")

LogRow = tuple[int, str, str, str, bytes, bytes]


@dataclass
class RawDB:
    """A plain database connection (no SQLAlchemy, no ledger) of one backend.

    SQLite: the ``sqlite3`` module with WAL and ``synchronous=NORMAL``, like the store.
    PostgreSQL: a ``psycopg`` connection to a fresh database on the same server.
    Each ``executemany`` / ``execute`` is followed by an explicit ``commit``.
    """

    backend: str
    conn: Any

    @property
    def mark(self) -> str:
        return "?" if self.backend == "sqlite" else "%s"

    def create_log_table(self) -> None:
        """Same columns, types and primary key as the store's ``records`` table; no other
        index, no projections, no hashing, no signing."""
        blob = "BLOB" if self.backend == "sqlite" else "BYTEA"
        self.conn.execute(
            f"CREATE TABLE {RAW_TABLE} (seq BIGINT NOT NULL, time VARCHAR(32) NOT NULL, "
            f"actor TEXT NOT NULL, schema VARCHAR(128) NOT NULL, canonical {blob} NOT NULL, "
            f"leaf_hash {blob} NOT NULL, PRIMARY KEY (seq))"
        )
        self.conn.commit()

    def insert_sql(self) -> str:
        marks = ", ".join([self.mark] * len(RAW_COLUMNS))
        return f"INSERT INTO {RAW_TABLE} ({', '.join(RAW_COLUMNS)}) VALUES ({marks})"

    def insert_batch(self, rows: Sequence[LogRow]) -> None:
        """One ``executemany`` of ``rows``, one commit."""
        cur = self.conn.cursor()
        cur.executemany(self.insert_sql(), rows)
        cur.close()
        self.conn.commit()


@contextlib.contextmanager
def raw_database(backend: str) -> Iterator[RawDB]:
    """A fresh database of ``backend`` for a baseline, removed at the end."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pedigree-bench-raw-") as tmp:
            conn = sqlite3.connect(Path(tmp) / "raw.db")
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                yield RawDB(backend, conn)
            finally:
                conn.close()
    else:
        with pg_database() as url:
            conn = psycopg.connect(url)
            try:
                yield RawDB(backend, conn)
            finally:
                conn.close()


def read_log_rows(ledger: Ledger, *, after: int = 0) -> list[LogRow]:
    """The exact rows the ledger stored in ``records``, in log order (those after seq
    ``after``)."""
    with ledger.engine.connect() as conn:
        result = conn.exec_driver_sql(
            f"SELECT {', '.join(RAW_COLUMNS)} FROM records WHERE seq > {int(after)} ORDER BY seq"
        )
        return [(r[0], r[1], r[2], r[3], bytes(r[4]), bytes(r[5])) for r in result]


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def append_in_batches(
    ledger: Ledger,
    records: Sequence[RecordBody],
    batch: int,
    *,
    out: Output | None = None,
    label: str = "appended",
) -> float:
    """``append_many`` in batches; returns the seconds it took (progress every ~10 %)."""
    started = time.perf_counter()
    step = max(len(records) // 10, batch)
    next_report = step
    done = 0
    for chunk in batches(records, batch):
        ledger.append_many(chunk)
        done += len(chunk)
        if out is not None and done >= next_report and done < len(records):
            rate = done / (time.perf_counter() - started)
            out.progress(f"{label} {done:,} / {len(records):,} records ({rate:,.0f}/s)")
            next_report += step
    return time.perf_counter() - started


# --- realistic records ---------------------------------------------------------------------


def hex_digest(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def stable_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


COLUMNS = (
    Column(name="id", type="int64"),
    Column(name="label", type="string"),
    Column(name="score", type="float64"),
)


def dataset_version(name: str, version: str, n: int) -> DatasetVersion:
    """A dataset version as a pipeline would record it: one Parquet file with its
    SHA-256 and size, a URI, a row count and a three-column schema."""
    digest = hex_digest(name, version)
    return DatasetVersion(
        namespace=NAMESPACE,
        name=name,
        version=version,
        fingerprint=f"sha256:{digest}",
        files=[FileDigest(path="part-00000.parquet", sha256=digest, size=1_000_000 + n % 9973)],
        uri=f"{NAMESPACE}/{name}/{version}/",
        row_count=10_000 + n % 7919,
        columns=list(COLUMNS),
    )


def run_record(
    job: str,
    kind: str,
    inputs: Sequence[RunIO],
    outputs: Sequence[RunIO],
    n: int,
    rng: random.Random,
) -> Run:
    """A completed run: job, kind, inputs and outputs (with roles), two parameters, a
    seed, start and end times and the code commit."""
    started = BASE_TIME + timedelta(seconds=n)
    return Run(
        run_id=stable_uuid(rng),
        job=JobRef(namespace=NAMESPACE, name=job),
        kind=kind,
        parameters={"sample_fraction": 0.25, "strategy": "stratified"},
        seeds={"global": n},
        code=CodeRef(
            repository="https://git.example.com/data/pipelines.git",
            commit=hex_digest("commit", n % 50)[:40],
        ),
        started_at=started,
        ended_at=started + timedelta(seconds=42),
        inputs=list(inputs),
        outputs=list(outputs),
    )


def pipeline_units(count: int, *, seed: int = 7, prefix: str = "") -> list[RecordBody]:
    """``count`` pipeline steps, 3 records each: an input dataset version, an output
    dataset version, and the run that used the one and generated the other.

    100 source datasets and 100 curated datasets, each gaining versions over time, and
    100 jobs, so records keep referring to identities recorded in earlier batches.
    """
    rng = random.Random(seed)
    records: list[RecordBody] = []
    for n in range(count):
        lane, generation = n % 100, n // 100
        source = dataset_version(f"{prefix}raw/source-{lane:03d}", f"v{generation}", n)
        curated = dataset_version(f"{prefix}curated/table-{lane:03d}", f"v{generation}", n)
        run = run_record(
            f"{prefix}curate/table-{lane:03d}",
            "transform",
            [source.io("source")],
            [curated.io("output")],
            n,
            rng,
        )
        records += (source, curated, run)
    return records


def mean_canonical_bytes(rows: Sequence[LogRow]) -> float:
    return sum(len(r[4]) for r in rows) / len(rows) if rows else 0.0


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def header(out: Output, title: str) -> None:
    info = machine()
    out.say(
        f"{title}  [{info['date']}, {info['nproc']} cores, Python {info['python']}, "
        f"SQLite {info['sqlite']}]"
    )
