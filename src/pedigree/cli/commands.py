"""Store commands: init, record, schema, checkpoint, prove, verify-proof, audit, reindex."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from pedigree.cli.app import (
    EXIT_FAILED,
    DatabaseUrlOpt,
    JsonOpt,
    StoreOpt,
    command,
    err,
    escape,
    fail,
    open_ledger,
    out,
    print_json,
    progress_bar,
)
from pedigree.cli.render import key_values
from pedigree.errors import ProofError, RecordError
from pedigree.ledger import (
    ConsistencyEvidence,
    RecordEvidence,
    load_public_key,
    verify_evidence,
)
from pedigree.model import RECORD_TYPES
from pedigree.store import Ledger
from pedigree.store.engine import HEAD_REVISION


@command("init")
def init(
    store: StoreOpt = None, database_url: DatabaseUrlOpt = None, as_json: JsonOpt = False
) -> None:
    """Create the store and the ledger's signing key (or upgrade an existing store)."""
    ledger, created = Ledger.init(store, database_url)
    with ledger:
        info = {
            "created": created,
            "store": str(ledger.location.path),
            "database": ledger.location.describe(),
            "backend": ledger.location.backend,
            "schema_revision": HEAD_REVISION,
            "log_id": ledger.log_id,
            "key_id": ledger.key_id,
            "signing_key": str(ledger.location.key_path),
            "public_key": str(ledger.location.public_key_path),
            "records": ledger.size,
        }
    if as_json:
        print_json(info)
        return
    if created:
        out.print(f"Created a Pedigree ledger in [bold]{escape(info['database'])}[/]")
    else:
        out.print(
            f"Pedigree ledger already here; schema is at the latest revision ({info['schema_revision']})"
        )
    out.print(key_values({k: str(v) for k, v in info.items() if k not in ("created",)}))


@command("schema")
def schema(
    record_type: Annotated[
        str | None,
        typer.Argument(help="A record type (run, dataset_version, …), `record` or `checkpoint`."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the JSON Schema of a record type (or list the types)."""
    from pedigree.ledger.checkpoint import CHECKPOINT_SCHEMA, checkpoint_json_schema
    from pedigree.model.schemas import all_schemas, json_schema

    if record_type is None:
        if as_json:
            print_json({**all_schemas(), CHECKPOINT_SCHEMA: checkpoint_json_schema()})
            return
        from rich.table import Table

        table = Table(show_edge=False)
        for column in ("type", "schema id", "what it records"):
            table.add_column(column)
        for cls in RECORD_TYPES:
            table.add_row(cls.SCHEMA.removeprefix("pedigree."), cls.schema_id(), cls.TITLE)
        table.add_row("record", "pedigree.record/1", "The log envelope around every body")
        table.add_row("checkpoint", CHECKPOINT_SCHEMA, "A signed tree head")
        out.print(table)
        return
    if record_type in ("checkpoint", CHECKPOINT_SCHEMA.split("/")[0]):
        document = checkpoint_json_schema()
    else:
        document = json_schema(record_type)
    if as_json:
        print_json(document)
    else:
        out.print_json(data=document)


def _read_submissions(source: str) -> list[Any]:
    """A JSON object, a JSON array of objects, or JSON Lines, from a file or ``-``."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"cannot read {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RecordError(f"{source} is not UTF-8 text") from None
    stripped = text.strip()
    if not stripped:
        raise RecordError(f"{source} holds no records")
    try:
        data = json.loads(stripped)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError as whole:
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) == 1:
            raise RecordError(
                f"{source}: not JSON ({whole.msg} at line {whole.lineno} column {whole.colno})"
            ) from None
        items = []
        for number, line in enumerate(lines, start=1):
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RecordError(f"{source}: line {number} is not JSON ({exc.msg})") from None
        return items


@command("record")
def record(
    source: Annotated[
        str,
        typer.Argument(help="JSON file of records ({schema, body}), JSON Lines, or - for stdin."),
    ],
    actor: Annotated[
        str | None, typer.Option(help="Who is recording [default: $PEDIGREE_ACTOR or OS user].")
    ] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Append records from JSON, all or nothing."""
    submissions = _read_submissions(source)
    with open_ledger(store, database_url) as ledger:
        results = ledger.append_many(submissions, actor=actor)
        head = ledger.head()
    if as_json:
        print_json(
            {
                "appended": [r.seq for r in results if not r.existing],
                "already_recorded": [r.seq for r in results if r.existing],
                "size": head.size,
                "root": head.checkpoint.root,
            }
        )
        return
    new = [r.seq for r in results if not r.existing]
    same = [r.seq for r in results if r.existing]
    if new:
        out.print(f"Appended {len(new)} record(s): {new[0]}–{new[-1]}; ledger size {head.size}")
    if same:
        out.print(
            f"{len(same)} record(s) were already recorded identically: {', '.join(map(str, same))}"
        )


@command("checkpoint")
def checkpoint(
    list_all: Annotated[
        bool, typer.Option("--list", help="List stored checkpoints instead.")
    ] = False,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign the current tree head and keep it (publish the JSON to let others hold you to it)."""
    with open_ledger(store, database_url) as ledger:
        if list_all:
            stored = ledger.checkpoints()
            if as_json:
                print_json([c.model_dump(mode="json") for c in stored])
                return
            from rich.table import Table

            table = Table(show_edge=False)
            for column in ("size", "root", "time", "key"):
                table.add_column(column)
            for c in stored:
                table.add_row(
                    str(c.size),
                    c.checkpoint.root[:16] + "…",
                    c.model_dump(mode="json")["checkpoint"]["time"],
                    c.signature.key_id[:16] + "…",
                )
            out.print(table)
            return
        signed = ledger.checkpoint()
    if as_json:
        print_json(signed.model_dump(mode="json"))
        return
    data = signed.model_dump(mode="json")
    out.print(f"Signed checkpoint at size [bold]{signed.size}[/]")
    out.print(
        key_values(
            {
                "root": data["checkpoint"]["root"],
                "time": data["checkpoint"]["time"],
                "log": data["checkpoint"]["log_id"],
                "key": data["signature"]["key_id"],
            }
        )
    )


@command("prove")
def prove(
    record: Annotated[
        str | None,
        typer.Argument(
            metavar="RECORD",
            help="Record number (seq), or a node (NAME@VERSION, run:ID) to prove its latest record.",
        ),
    ] = None,
    consistency: Annotated[
        tuple[int, int] | None,
        typer.Option(
            "--consistency", metavar="OLD NEW", help="Prove the tree of size NEW extends size OLD."
        ),
    ] = None,
    tree_size: Annotated[
        int | None,
        typer.Option("--tree-size", help="Prove against this signed size [default: latest]."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the proof to this file.")
    ] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print an inclusion proof for a record, or a consistency proof between two sizes.

    Either verifies offline with `pedigree verify-proof FILE --key ledger.pub`.
    """
    if (record is None) == (consistency is None):
        fail("give a RECORD number (or node), or --consistency OLD NEW")
    with open_ledger(store, database_url) as ledger:
        evidence: RecordEvidence | ConsistencyEvidence
        if consistency is not None:
            evidence = ledger.prove_consistency(*consistency)
        else:
            assert record is not None
            evidence = ledger.prove(_record_seq(ledger, record), tree_size=tree_size)
        verify_evidence(evidence, ledger.public_key)  # never hand out a proof that fails
    document = evidence.model_dump(mode="json")
    if output is not None:
        output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if as_json or output is None:
        if as_json or not out.is_terminal:
            print_json(document)
        else:
            out.print_json(data=document)
    if output is not None and not as_json:
        err.print(f"proof written to {output}")


def _record_seq(ledger: Ledger, record: str) -> int:
    """A record number, or the latest record that defines one node."""
    if record.strip().lstrip("#").isdigit():
        return int(record.strip().lstrip("#"))
    current = ledger.show(record).current
    if current is None:
        fail(f"{record} names several nodes; give one version or run, or a record number")
    assert current is not None
    return current.seq


@command("verify-proof")
def verify_proof(
    proof_file: Annotated[Path, typer.Argument(help="A proof as written by `pedigree prove`.")],
    key: Annotated[
        Path,
        typer.Option("--key", help="The ledger's public key (PEM), e.g. .pedigree/ledger.pub."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Check an inclusion or consistency proof offline: no store needed."""
    try:
        data = json.loads(proof_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"cannot read proof {proof_file}: {exc}")
    try:
        public_key = load_public_key(key.read_bytes())
    except OSError as exc:
        fail(f"cannot read key {key}: {exc.strerror}")
    kind = data.get("type") if isinstance(data, dict) else None
    try:
        evidence = (
            ConsistencyEvidence if kind == "pedigree.consistency_proof/1" else RecordEvidence
        ).model_validate(data)
    except ValidationError as exc:
        fail(
            f"{proof_file} is not a Pedigree proof: {exc.errors()[0]['msg']} at {'.'.join(map(str, exc.errors()[0]['loc']))}"
        )
    try:
        verify_evidence(evidence, public_key)
    except ProofError as exc:
        if as_json:
            print_json({"valid": False, "reason": str(exc)})
        else:
            out.print(f"[bold red]INVALID[/]: {escape(str(exc))}")
        raise typer.Exit(EXIT_FAILED) from None
    if isinstance(evidence, RecordEvidence):
        what = f"record {evidence.proof.seq} is in the ledger of size {evidence.checkpoint.size}"
    else:
        what = f"the ledger at size {evidence.second.size} extends the ledger at size {evidence.first.size}"
    if as_json:
        print_json({"valid": True, "statement": what})
    else:
        out.print(f"[bold green]VALID[/]: {what}")


@command("audit")
def audit(
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Trusted public key [default: the store's ledger.pub]."),
    ] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute the whole log and every checkpoint; exit 1 and name the first bad record."""
    with open_ledger(store, database_url) as ledger:
        trusted = load_public_key(key.read_bytes()) if key else None
        with progress_bar("auditing", ledger.size) as advance:
            report = ledger.audit(trusted_key=trusted, progress=advance)
    if as_json:
        print_json(report.to_json())
    elif report.ok:
        rate = f" ({report.records / report.seconds:,.0f} records/s)" if report.seconds else ""
        out.print(
            f"[bold green]OK[/]: {report.records} records, {report.checkpoints} signed heads verified, "
            f"root {report.root[:16]}…{rate}"
        )
    else:
        first = report.first
        out.print(f"[bold red]FAILED[/]: {escape(str(first))}")
        for problem in report.problems:
            if problem is not first:
                out.print(f"  also: {escape(str(problem))}")
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@command("reindex")
def reindex(
    store: StoreOpt = None, database_url: DatabaseUrlOpt = None, as_json: JsonOpt = False
) -> None:
    """Rebuild the query tables from the log (they are projections of it)."""
    with (
        open_ledger(store, database_url) as ledger,
        progress_bar("replaying", ledger.size) as advance,
    ):
        count = ledger.reindex(progress=advance)
    if as_json:
        print_json({"replayed": count})
    else:
        out.print(f"Rebuilt the query tables from {count} records")
