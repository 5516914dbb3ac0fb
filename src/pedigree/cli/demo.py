"""``pedigree demo``: the end-to-end pipeline of ``pedigree.demo``, recorded, then traced.

It creates a store in the demo directory, runs the pipeline there with the capture SDK
(every step, the copula and the scikit-learn fit are recorded as they run), issues a
certificate for the synthetic table and verifies it offline, signs a checkpoint, audits
the ledger and prints the model's lineage.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pedigree.capture import delivery
from pedigree.certify.certificate import certify
from pedigree.certify.keys import Keyring
from pedigree.certify.verify import Report, verify
from pedigree.cli.app import JsonOpt, command, err, fail, out, print_json
from pedigree.cli.evaluations import render_outcomes
from pedigree.cli.render import graph_tree
from pedigree.demo import NAMESPACE, run_pipeline
from pedigree.store import Ledger

MARKER = ".pedigree-demo"
DEMO_KEY = "demo-release"


def _prepare_directory(directory: Path) -> None:
    if directory.exists():
        if not directory.is_dir():
            fail(f"{directory} exists and is not a directory")
        if any(directory.iterdir()) and not (directory / MARKER).exists():
            fail(f"{directory} is not empty and is not a Pedigree demo directory; choose another")
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("Written by `pedigree demo`; rerunning the demo replaces it.\n")


def _certify(ledger: Ledger, directory: Path) -> tuple[Path, Report]:
    """Certify the synthetic table with a demo signing key and verify the bundle offline,
    as a partner would: only the bundle, the data file and the two public keys."""
    keyring = Keyring.default(ledger.location.path)
    keyring.generate(DEMO_KEY)
    bundle = certify(ledger, f"{NAMESPACE}:synthetic/turnout", keyring.load_signer(DEMO_KEY))
    path = directory / "certificate.bundle.json"
    path.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    trust = [keyring.public_pem(DEMO_KEY), ledger.location.public_key_path.read_text()]
    return path, verify(path, trust, [directory / "data" / "synthetic.parquet"])


@command("demo")
def demo(
    directory: Annotated[
        Path,
        typer.Argument(help="Where to write the example (replaced if it holds an earlier demo)."),
    ] = Path("pedigree-demo"),
    as_json: JsonOpt = False,
) -> None:
    """Run a real synthetic-data pipeline, record its provenance, and trace the model."""
    directory = directory.absolute()
    _prepare_directory(directory)
    started = time.perf_counter()
    with Ledger.init(directory / ".pedigree")[0] as ledger:
        delivery.configure(ledger=ledger)
        try:
            with err.status(
                "Running the pipeline (ingest, mask, split, synthesise, train, score)…"
            ):
                result = run_pipeline(directory)
        finally:
            delivery.reset()
        bundle_path, verified = _certify(ledger, directory)
        checkpoint = ledger.checkpoint()
        model = f"{NAMESPACE}:{result.model}"
        graph = ledger.trace(model, direction="up")
        report = ledger.audit()
        store = ledger.location.path
    seconds = time.perf_counter() - started

    if as_json:
        print_json(
            {
                "directory": str(directory),
                "store": str(store),
                "files": [str(path.relative_to(directory)) for path in result.files],
                "records": checkpoint.size,
                "accuracy_on_real_holdout": result.accuracy,
                "evaluation": result.evaluation.to_json(),
                "expectations": {
                    run: [o.to_json() for o in outcomes]
                    for run, outcomes in result.expectations.items()
                },
                "seconds": round(seconds, 2),
                "checkpoint": checkpoint.model_dump(mode="json"),
                "trace": graph.to_json(),
                "audit": report.to_json(),
                "certificate": {
                    "bundle": str(bundle_path.relative_to(directory)),
                    "verification": verified.to_json(),
                },
            }
        )
        return
    out.print(f"[bold]Pedigree demo[/] in {escape(str(directory))} ({seconds:.1f} s)\n")
    out.print("Ran a synthetic-data pipeline on the 1992 ANES turnout survey and wrote:")
    for path in result.files:
        out.print(f"  {escape(str(path.relative_to(directory)))}")
    out.print(
        f"\nThe model trained on synthetic data scores {result.accuracy:.3f} accuracy on the "
        "real hold-out."
    )
    out.print(f"\n[bold]Evaluation of synthetic/turnout[/]: {escape(result.evaluation.summary())}")
    for name, metric in result.evaluation.headline().items():
        verdict = (
            ""
            if metric.passed is None
            else (" [green]pass[/]" if metric.passed else " [red]FAIL[/]")
        )
        cols = f"[{', '.join(metric.columns)}]" if metric.columns else ""
        out.print(f"  {escape(name + cols)}: {metric.value:.3f}{verdict}")
    out.print("\n[bold]Intent expectations[/] (did each step do what it said it was for?)")
    render_outcomes(result.expectations)
    out.print(
        f"\nRecorded {checkpoint.size} records in the ledger at {escape(str(store))} "
        f"and signed a checkpoint (root {checkpoint.checkpoint.root[:16]}…).\n"
    )
    out.print(graph_tree(graph))
    status = (
        "[bold green]OK[/]" if report.ok else f"[bold red]FAILED[/]: {escape(str(report.first))}"
    )
    out.print(f"\nAudit: {status} ({report.records} records re-verified)")
    verdict = "[bold green]VALID[/]" if verified.valid else "[bold red]INVALID[/]"
    out.print(
        f"Certificate for synthetic/turnout → {escape(bundle_path.name)}, verified offline "
        f"against data/synthetic.parquet: {verdict} ({len(verified.checks)} checks)"
    )
    out.print(
        "\nExplore it (from that directory the store is found automatically):\n"
        f"  cd {escape(str(directory))}\n"
        "  pedigree show synthetic/turnout\n"
        "  pedigree impact warehouse/turnout\n"
        f"  pedigree path warehouse/turnout {escape(result.model)}\n"
        "  pedigree log --type run\n"
        "  pedigree eval synthetic/turnout --real warehouse/turnout-train "
        "--holdout warehouse/turnout-holdout --target vote --sensitive race\n"
        f"  pedigree inspect {bundle_path.name}\n"
        f"  pedigree verify {bundle_path.name} --trust .pedigree/keys/{DEMO_KEY}.pub "
        "--trust .pedigree/ledger.pub --data data/synthetic.parquet\n"
        "  pedigree fingerprint data/synthetic.parquet\n"
        "  pedigree diff data/train.parquet data/synthetic.parquet\n"
        "  pedigree prove 5 -o proof.json && pedigree verify-proof proof.json --key .pedigree/ledger.pub"
    )
    sys.stdout.flush()
