"""``pedigree demo``: a small synthetic-data pipeline, recorded end to end, then traced.

It writes real files (a source table, a synthetic stand-in, a masked copy and a model),
records each step with its inputs, outputs, parameters, seed and intent, signs a
checkpoint, audits the ledger and prints the model's lineage. The capture SDK will
replace the hand-made records here; the shape of what gets recorded stays.
"""

from __future__ import annotations

import csv
import json
import platform
import random
import shutil
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from pedigree import __version__
from pedigree.cli.app import JsonOpt, command, fail, out, print_json
from pedigree.cli.render import graph_tree
from pedigree.fingerprint import file_fingerprint
from pedigree.model import (
    Agent,
    AgentRole,
    Annotation,
    Column,
    DatasetVersion,
    Environment,
    FileDigest,
    ModelVersion,
    Run,
)
from pedigree.store import Ledger

MARKER = ".pedigree-demo"
NAMESPACE = "demo"
SEED = 7
COLUMNS = ["patient_id", "age", "sex", "zip", "diagnosis", "readmitted"]
DIAGNOSES = ["asthma", "copd", "diabetes", "heart_failure", "pneumonia"]


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _source_rows(rng: random.Random, count: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(count):
        diagnosis = rng.choice(DIAGNOSES)
        age = max(18, min(95, int(rng.gauss(62, 15))))
        risk = 0.1 + 0.25 * (diagnosis in ("copd", "heart_failure")) + 0.004 * (age - 18)
        rows.append(
            {
                "patient_id": f"P{i:05d}",
                "age": age,
                "sex": rng.choice("FM"),
                "zip": f"{rng.randint(10000, 99999)}",
                "diagnosis": diagnosis,
                "readmitted": int(rng.random() < risk),
            }
        )
    return rows


def _synthesize(rng: random.Random, real: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Sample each column from its empirical marginal, readmission from its rate per diagnosis."""
    by_diagnosis: dict[str, list[int]] = {}
    for row in real:
        by_diagnosis.setdefault(row["diagnosis"], []).append(row["readmitted"])
    ages = [row["age"] for row in real]
    rows = []
    for i in range(count):
        diagnosis = rng.choice(real)["diagnosis"]
        rate = sum(by_diagnosis[diagnosis]) / len(by_diagnosis[diagnosis])
        rows.append(
            {
                "patient_id": f"S{i:05d}",
                "age": rng.choice(ages),
                "sex": rng.choice(real)["sex"],
                "zip": rng.choice(real)["zip"],
                "diagnosis": diagnosis,
                "readmitted": int(rng.random() < rate),
            }
        )
    return rows


def _mask(rows: list[dict[str, Any]], zip_digits: int, age_band: int) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "zip": row["zip"][:zip_digits] + "*" * (5 - zip_digits),
            "age": (row["age"] // age_band) * age_band,
        }
        for row in rows
    ]


def _train(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A readmission-rate table per diagnosis: a model small enough to read."""
    totals, positives = Counter(), Counter()
    for row in rows:
        totals[row["diagnosis"]] += 1
        positives[row["diagnosis"]] += row["readmitted"]
    return {
        "kind": "rate_table",
        "target": "readmitted",
        "feature": "diagnosis",
        "threshold": 0.3,
        "rates": {d: round(positives[d] / totals[d], 4) for d in sorted(totals)},
    }


def _accuracy(model: dict[str, Any], rows: list[dict[str, Any]]) -> float:
    hits = sum(
        int(model["rates"].get(r["diagnosis"], 0) >= model["threshold"]) == r["readmitted"]
        for r in rows
    )
    return round(hits / len(rows), 4)


def _version(
    cls: type[DatasetVersion] | type[ModelVersion], name: str, path: Path, root: Path, **extra: Any
) -> Any:
    fp = file_fingerprint(path)
    return cls(
        namespace=NAMESPACE,
        name=name,
        files=[FileDigest(path=path.relative_to(root).as_posix(), sha256=fp.sha256, size=fp.size)],
        uri=path.resolve().as_uri(),
        **extra,
    )


def _table_version(
    name: str, path: Path, root: Path, rows: list[dict[str, Any]], description: str
) -> DatasetVersion:
    columns = [
        Column(name=c, type="integer" if isinstance(rows[0][c], int) else "string") for c in rows[0]
    ]
    return _version(
        DatasetVersion,
        name,
        path,
        root,
        row_count=len(rows),
        columns=columns,
        description=description,
    )


def _prepare_directory(directory: Path) -> None:
    if directory.exists():
        if not directory.is_dir():
            fail(f"{directory} exists and is not a directory")
        if any(directory.iterdir()) and not (directory / MARKER).exists():
            fail(f"{directory} is not empty and is not a Pedigree demo directory; choose another")
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("Written by `pedigree demo`; rerunning the demo replaces it.\n")


@command("demo")
def demo(
    directory: Annotated[
        Path,
        typer.Argument(help="Where to write the example (replaced if it holds an earlier demo)."),
    ] = Path("pedigree-demo"),
    as_json: JsonOpt = False,
) -> None:
    """Run a small synthetic-data pipeline, record its provenance, and trace the model."""
    directory = directory.absolute()
    _prepare_directory(directory)
    rng = random.Random(SEED)
    data = directory / "data"

    real_rows = _source_rows(rng, 500)
    real_path = data / "patients.csv"
    _write_csv(real_path, real_rows)

    started = datetime.now(UTC)
    syn_rng = random.Random(SEED)
    syn_rows = _synthesize(syn_rng, real_rows, 1000)
    syn_path = data / "synthetic_patients.csv"
    _write_csv(syn_path, syn_rows)
    generated = datetime.now(UTC)

    masked_rows = _mask(syn_rows, zip_digits=3, age_band=5)
    masked_path = data / "synthetic_patients_masked.csv"
    _write_csv(masked_path, masked_rows)
    masked = datetime.now(UTC)

    model = _train(masked_rows)
    model_path = directory / "models" / "readmission.json"
    model_path.parent.mkdir(parents=True)
    model_path.write_text(json.dumps(model, indent=2, sort_keys=True) + "\n")
    trained = datetime.now(UTC)
    accuracy_real = _accuracy(model, real_rows)

    ledger, _ = Ledger.init(directory / ".pedigree")
    with ledger:
        environment = Environment(
            python=platform.python_version(), os=f"{platform.system()} {platform.release()}"
        )
        engineer = Agent(agent_id=ledger.actor, kind="person", description="ran the demo")
        tool = Agent(
            agent_id="pedigree-demo",
            kind="software",
            name="pedigree demo generator",
            version=__version__,
        )
        source = _table_version(
            "warehouse/patients",
            real_path,
            directory,
            real_rows,
            "Hospital admissions (simulated real data)",
        )
        synthetic = _table_version(
            "synthetic/patients",
            syn_path,
            directory,
            syn_rows,
            "Synthetic stand-in for warehouse/patients",
        )
        shareable = _table_version(
            "synthetic/patients-masked",
            masked_path,
            directory,
            masked_rows,
            "Synthetic patients with generalised quasi-identifiers",
        )
        model_version = _version(
            ModelVersion,
            "models/readmission",
            model_path,
            directory,
            framework="pedigree-demo",
            model_class="rate_table",
        )
        people = [
            AgentRole(agent=engineer.agent_id, role="operator"),
            AgentRole(agent=tool.agent_id, role="generator"),
        ]
        generate = Run(
            job={"namespace": NAMESPACE, "name": "synth/patients-generate"},
            kind="generate",
            intent={
                "text": "release a shareable stand-in for the patients table",
                "expect": ["dcr_share_closer_to_train <= 0.55"],
            },
            parameters={"method": "independent_marginals", "rows": len(syn_rows)},
            seeds={"global": SEED},
            environment=environment,
            started_at=started,
            ended_at=generated,
            inputs=[source.io("source")],
            outputs=[synthetic.io()],
            agents=people,
        )
        mask = Run(
            job={"namespace": NAMESPACE, "name": "synth/patients-mask"},
            kind="mask",
            intent="generalise quasi-identifiers (zip, age) before sharing",
            parameters={"zip_digits": 3, "age_band": 5},
            environment=environment,
            started_at=generated,
            ended_at=masked,
            inputs=[synthetic.io()],
            outputs=[shareable.io()],
            agents=people[:1],
        )
        train = Run(
            job={"namespace": NAMESPACE, "name": "models/readmission-train"},
            kind="train",
            intent="predict 30-day readmission without touching real patient rows",
            parameters={"feature": "diagnosis", "threshold": model["threshold"]},
            environment=environment,
            started_at=masked,
            ended_at=trained,
            inputs=[shareable.io("training")],
            outputs=[model_version.io()],
            agents=people[:1],
        )
        evaluation = Annotation(
            target=model_version.ref().target(),
            kind="evaluation",
            body={
                "metric": "accuracy_on_real",
                "value": accuracy_real,
                "threshold": 0.5,
                "passed": accuracy_real >= 0.5,
                "summary": f"accuracy on the real table {accuracy_real:.2f} (threshold 0.50)",
            },
        )
        intended_use = Annotation(
            target=shareable.ref().target(),
            kind="intended_use",
            body={"purpose": "model development and testing", "prohibited": ["re-identification"]},
        )
        ledger.append_many(
            [
                engineer,
                tool,
                source,
                synthetic,
                generate,
                shareable,
                mask,
                model_version,
                train,
                evaluation,
                intended_use,
            ]
        )
        checkpoint = ledger.checkpoint()
        graph = ledger.trace(f"{NAMESPACE}:models/readmission", direction="up")
        report = ledger.audit()
        store = ledger.location.path

    if as_json:
        print_json(
            {
                "directory": str(directory),
                "store": str(store),
                "records": checkpoint.size,
                "checkpoint": checkpoint.model_dump(mode="json"),
                "trace": graph.to_json(),
                "audit": report.to_json(),
            }
        )
        return
    out.print(f"[bold]Pedigree demo[/] in {escape(str(directory))}\n")
    out.print("Wrote a small synthetic-data pipeline's files:")
    for path in (real_path, syn_path, masked_path, model_path):
        out.print(f"  {escape(str(path.relative_to(directory)))}")
    out.print(
        f"\nRecorded {checkpoint.size} records in the ledger at {escape(str(store))} "
        f"and signed a checkpoint (root {checkpoint.checkpoint.root[:16]}…).\n"
    )
    out.print(graph_tree(graph))
    status = (
        "[bold green]OK[/]" if report.ok else f"[bold red]FAILED[/]: {escape(str(report.first))}"
    )
    out.print(f"\nAudit: {status} ({report.records} records re-verified)")
    out.print(
        "\nExplore it (from that directory the store is found automatically):\n"
        f"  cd {escape(str(directory))}\n"
        "  pedigree show synthetic/patients\n"
        "  pedigree impact warehouse/patients\n"
        "  pedigree path warehouse/patients models/readmission\n"
        "  pedigree log\n"
        "  pedigree prove 5 -o proof.json && pedigree verify-proof proof.json --key .pedigree/ledger.pub"
    )
    sys.stdout.flush()
