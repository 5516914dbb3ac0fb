"""Table fingerprint of a Parquet file, against MD5 of the file and MLflow's pandas digest.

The mixed-type table of ``bench_fingerprint.py`` (>= 1 GB of Arrow data) is written once to a
Parquet file with pyarrow's defaults (Snappy, row groups of 1,048,576 rows), not timed. The
file is then in the page cache for every measurement (all runs read it warm).

- ``table_fingerprint(path)``: the canonical table fingerprint, streamed from the file, every
  row and every column (checked equal to the fingerprint of the in-memory table).
- MD5 of the file (``hashlib.md5`` over 1 MiB reads): what DVC records for a file.
- MLflow's pandas dataset digest, as MLflow describes it: ``pandas.util.hash_pandas_object``
  over the first 10,000 rows, then MD5 over those row hashes and the row count. Timed two
  ways: digest only (the DataFrame already loaded), and ``pandas.read_parquet`` + digest (what
  it costs starting from the file, as the fingerprint does). It covers 10,000 rows only.
- ``fingerprint_path(path)`` (the table fingerprint plus the file's SHA-256), for reference.

The measurements alternate ``--repeat`` times; medians. Goal: the table fingerprint of the
file is faster than MD5 of the file, while covering every row.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

import _common as c
from _tables import mixed_table
from pedigree.fingerprint import fingerprint_path, table_fingerprint

MLFLOW_ROWS = 10_000


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gb", type=float, default=1.2, help="table size in GB of Arrow buffers (default 1.2)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def mlflow_digest(frame: pd.DataFrame) -> str:
    """MLflow's pandas digest as described: row hashes of the first 10,000 rows + row count."""
    hashes = pd.util.hash_pandas_object(frame.head(MLFLOW_ROWS)).to_numpy()
    digest = hashlib.md5()
    digest.update(np.int64(len(frame)).tobytes())
    digest.update(hashes.tobytes())
    return digest.hexdigest()[:8]


def timed(func, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - started, result


def main() -> None:
    args = c.parse_args("Parquet table fingerprint vs MD5 and MLflow's digest", extra=options)
    if args.quick:
        args.gb, args.repeat = 0.02, 1
    out = c.Output(args, "fingerprint_parquet")
    c.header(out, "Table fingerprint of a Parquet file vs MD5 of the file and MLflow's digest")
    with tempfile.TemporaryDirectory(prefix="pedigree-bench-") as tmp:
        path = Path(tmp) / "table.parquet"
        started = time.perf_counter()
        table = mixed_table(int(args.gb * 1e9))
        expected = table_fingerprint(table)
        pq.write_table(table, path)
        size = path.stat().st_size
        rows, arrow_bytes = table.num_rows, table.nbytes
        del table
        out.say(
            f"wrote {rows:,} rows ({arrow_bytes / 1e9:.2f} GB in Arrow) as a {size / 1e9:.2f} GB "
            f"Parquet file in {time.perf_counter() - started:.1f} s (not timed)"
        )
        md5_file(path)  # warm the page cache
        times: dict[str, list[float]] = {
            k: [] for k in ("fp", "md5", "read_mlflow", "mlflow", "path")
        }
        for _ in range(args.repeat):
            seconds, fp = timed(table_fingerprint, path)
            if fp != expected:
                raise SystemExit("the Parquet file's fingerprint differs from the table's")
            times["fp"].append(seconds)
            times["md5"].append(timed(md5_file, path)[0])
            seconds, frame = timed(pd.read_parquet, path)
            digest_s, _ = timed(mlflow_digest, frame)
            times["read_mlflow"].append(seconds + digest_s)
            times["mlflow"].append(digest_s)
            del frame
            times["path"].append(timed(fingerprint_path, path)[0])
    med = {k: c.median(v) for k, v in times.items()}
    res = {
        "rows": rows,
        "arrow_bytes": arrow_bytes,
        "file_bytes": size,
        "fingerprint": expected.fingerprint,
        "fingerprint_seconds": round(med["fp"], 3),
        "fingerprint_file_gb_per_s": round(size / med["fp"] / 1e9, 2),
        "md5_seconds": round(med["md5"], 3),
        "md5_file_gb_per_s": round(size / med["md5"] / 1e9, 2),
        "speedup_vs_md5": round(med["md5"] / med["fp"], 3),
        "mlflow_digest_seconds": round(med["mlflow"], 4),
        "mlflow_read_and_digest_seconds": round(med["read_mlflow"], 3),
        "mlflow_rows_covered": min(rows, MLFLOW_ROWS),
        "ratio_to_mlflow_digest": round(med["fp"] / med["mlflow"], 1),
        "speedup_vs_mlflow_read_and_digest": round(med["read_mlflow"] / med["fp"], 3),
        "fingerprint_path_seconds": round(med["path"], 3),
        "runs": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "meets_goal": med["fp"] < med["md5"],
    }
    out.results["parquet"] = res
    out.say(
        f"table_fingerprint(file)       : {med['fp']:7.3f} s ({res['fingerprint_file_gb_per_s']:.2f} "
        f"GB/s of file, every row)"
    )
    out.say(
        f"MD5 of the file (DVC)         : {med['md5']:7.3f} s ({res['md5_file_gb_per_s']:.2f} GB/s) "
        f"-> fingerprint {res['speedup_vs_md5']:.2f}x as fast"
    )
    out.say(
        f"MLflow digest, frame in memory: {med['mlflow']:7.4f} s ({res['mlflow_rows_covered']:,} rows "
        f"of {rows:,}) -> fingerprint takes {res['ratio_to_mlflow_digest']:.0f}x as long"
    )
    out.say(
        f"read_parquet + MLflow digest  : {med['read_mlflow']:7.3f} s -> fingerprint "
        f"{res['speedup_vs_mlflow_read_and_digest']:.2f}x as fast"
    )
    out.say(f"fingerprint_path (+ SHA-256)  : {med['path']:7.3f} s")
    out.say(f"goal: faster than MD5 of the file, every row {c.verdict(res['meets_goal'])}")
    out.finish()


if __name__ == "__main__":
    main()
