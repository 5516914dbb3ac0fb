"""Certificate verification: offline ``verify_bundle`` of a bundle with a ~50-record closure,
and how the bundle grows with the size of the ledger it was issued from.

For each ledger size (10^3, 10^4, 10^5 records; 10^6 with ``--million``) the ledger is
filled with realistic pipeline records, then a chain of 25 steps (a source version and
25 runs each deriving the next version: 51 closure records) is recorded last and its
final version certified. Verification (DSSE signature, checkpoint signature, 51
inclusion proofs, closure digest; no data hashing) is timed as the median of repeated
calls. Baseline, same run: checking the same 51 inclusion paths alone, records already
in canonical bytes, checkpoint signature not checked (``check_inclusion``: the part that
grows with the ledger).

Goal: verification <= 5 ms median; bundle size grows with log2 of the ledger size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import _common as c
from pedigree.certify import Keyring
from pedigree.certify.certificate import certify
from pedigree.certify.verify import verify_bundle
from pedigree.ledger.proofs import InclusionProof, check_inclusion, record_bytes

GOAL_MS = 5.0
CHAIN = 25


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--million", action="store_true", help="also a 10^6-record ledger")
    parser.add_argument("--repeat", type=int, default=200, help="timed verifications")


def chain(prefix: str) -> list:
    first = c.dataset_version(f"{prefix}chain/step-00", "v1", 0)
    records, previous = [first], first
    rng = c.random.Random(3)
    for step in range(1, CHAIN + 1):
        version = c.dataset_version(f"{prefix}chain/step-{step:02d}", "v1", step)
        run = c.run_record(
            f"{prefix}chain/derive-{step:02d}",
            "transform",
            [previous.io()],
            [version.io()],
            step,
            rng,
        )
        records += [version, run]
        previous = version
    return records


def measure(size: int, repeat: int, out: c.Output) -> dict:
    with c.ledger_store("sqlite") as ledger, tempfile.TemporaryDirectory() as keys:
        filler = c.pipeline_units(max(0, size - (2 * CHAIN + 1)) // 3 + 1)[
            : max(0, size - (2 * CHAIN + 1))
        ]
        c.append_in_batches(ledger, filler, 10_000, out=out)
        ledger.append_many(chain(""))
        ring = Keyring(Path(keys))
        ring.generate("bench")
        bundle = certify(ledger, f"{c.NAMESPACE}:chain/step-{CHAIN:02d}", ring.load_signer("bench"))
        trust = [ring.public_pem("bench"), ledger.location.public_key_path.read_text()]
        ledger_size = ledger.size
    report = verify_bundle(bundle, trust)
    if not report.valid:
        raise SystemExit(f"the benchmark bundle does not verify: {report.to_json()}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        verify_bundle(bundle, trust)
        times.append(time.perf_counter() - started)
    proofs = [
        (record_bytes(i["record"]), InclusionProof.model_validate(i["inclusion_proof"]))
        for i in bundle["closure"]
    ]
    from pedigree.ledger.checkpoint import SignedCheckpoint

    checkpoint = SignedCheckpoint.model_validate(bundle["checkpoint"])
    base = []
    for _ in range(repeat):
        started = time.perf_counter()
        for record, proof in proofs:
            check_inclusion(record, proof, checkpoint)
        base.append(time.perf_counter() - started)
    return {
        "ledger_records": ledger_size,
        "closure_records": len(bundle["closure"]),
        "bundle_bytes": len(json.dumps(bundle)),
        "proof_hashes_per_record": statistics.mean(len(p.hashes) for _, p in proofs),
        "proof_hashes_max": max(len(p.hashes) for _, p in proofs),
        "verify_median_ms": c.ms(statistics.median(times)),
        "proofs_alone_median_ms": c.ms(statistics.median(base)),
        "meets_goal": statistics.median(times) * 1000 <= GOAL_MS,
    }


def main() -> None:
    args = c.parse_args("Certificate verification", extra=options)
    sizes = (
        [1_000] if args.quick else [1_000, 10_000, 100_000] + ([1_000_000] if args.million else [])
    )
    out = c.Output(args, "verify")
    c.header(out, "Certificate bundle: offline verification and size")
    for size in sizes:
        res = measure(size, 20 if args.quick else args.repeat, out)
        out.results[str(size)] = res
        out.say(
            f"ledger {res['ledger_records']:>9,} records: bundle {res['bundle_bytes']:>8,} B "
            f"({res['closure_records']} records, {res['proof_hashes_per_record']:.1f} proof hashes each, "
            f"at most {res['proof_hashes_max']}); "
            f"verify {res['verify_median_ms']:.2f} ms median (inclusion paths alone {res['proofs_alone_median_ms']:.2f} ms); "
            f"goal <= {GOAL_MS} ms {c.verdict(res['meets_goal'])}"
        )
    out.finish()


if __name__ == "__main__":
    main()
