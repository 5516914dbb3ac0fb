"""``pedigree certify``, ``pedigree verify`` (offline) and ``pedigree inspect``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from pedigree.certify.certificate import certify, payload_of
from pedigree.certify.chain import accept
from pedigree.certify.keys import Keyring
from pedigree.certify.revocation import revoke, statement_digest
from pedigree.certify.verify import load_bundle, read_trusted, verify
from pedigree.cli.app import (
    EXIT_FAILED,
    DatabaseUrlOpt,
    JsonOpt,
    StoreOpt,
    command,
    out,
    print_json,
)
from pedigree.cli.keys import passphrase_from_env
from pedigree.errors import PedigreeError
from pedigree.store import Ledger


@command("certify")
def certify_command(
    dataset: Annotated[
        str, typer.Argument(help="The dataset (its latest version) or DATASET@VERSION.")
    ],
    key: Annotated[
        str, typer.Option("--key", help="Name of the signing key (pedigree keys generate).")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the bundle here [default: stdout].")
    ] = None,
    passphrase_env: Annotated[
        str | None,
        typer.Option("--passphrase-env", help="Environment variable holding the key's passphrase."),
    ] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Issue a signed certificate for a dataset version and write its bundle."""
    signer = Keyring.default(store).load_signer(key, passphrase_from_env(passphrase_env))
    with Ledger.open(store, database_url) as ledger:
        bundle = certify(ledger, dataset, signer)
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        out.file.write(text)
        return
    output.write_text(text, encoding="utf-8")
    statement = json.loads(payload_of(bundle))
    out.print(
        f"Certified {escape(statement['subject'][0]['name'])} "
        f"({len(bundle['closure'])} closure records, checkpoint of {bundle['checkpoint']['checkpoint']['size']:,}) "
        f"→ {escape(str(output))}"
    )


@command("verify")
def verify_command(
    bundle_path: Annotated[Path, typer.Argument(help="The certificate bundle (JSON).")],
    trust: Annotated[
        list[Path],
        typer.Option(
            "--trust", help="A trusted public key PEM (the signer's and the ledger's); repeatable."
        ),
    ],
    data: Annotated[
        list[Path] | None,
        typer.Option("--data", help="Data file(s) to check against the certified content."),
    ] = None,
    ledger_store: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            help="The issuing ledger (store directory, or server URL): also check the "
            "certificate was not revoked since.",
        ),
    ] = None,
    disclosure: Annotated[
        list[Path] | None,
        typer.Option(
            "--disclosure",
            help="A revealed value (pedigree reveal -o FILE) to check against the certificate.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify a certificate bundle offline: VALID (exit 0) or INVALID with every reason (exit 1)."""
    report = verify(
        bundle_path, trust, data or [], ledger=ledger_store, disclosures=disclosure or []
    )
    if as_json:
        print_json(report.to_json())
    else:
        out.print("[bold green]VALID[/]" if report.valid else "[bold red]INVALID[/]")
        for check in report.checks:
            mark = "[green]ok[/]  " if check.ok else "[red]FAIL[/]"
            out.print(f"  {mark} {escape(check.name)}: {escape(check.detail)}", soft_wrap=True)
    if not report.valid:
        raise typer.Exit(EXIT_FAILED)


@command("inspect")
def inspect_command(
    bundle_path: Annotated[Path, typer.Argument(help="The certificate bundle (JSON).")],
    as_json: JsonOpt = False,
) -> None:
    """Show what a bundle claims, readably (nothing is verified: use `pedigree verify`)."""
    bundle = load_bundle(bundle_path)
    try:
        statement: dict[str, Any] = json.loads(payload_of(bundle))
    except (ValueError, KeyError, TypeError) as exc:
        raise PedigreeError(
            f"{bundle_path}: the envelope's payload is unreadable ({exc})"
        ) from None
    if as_json:
        print_json(statement)
        return
    predicate = statement.get("predicate", {})
    dataset = predicate.get("dataset", {})
    out.print(
        f"[bold]Certificate[/] for {escape(dataset.get('namespace', '?'))}:{escape(dataset.get('name', '?'))}"
    )
    out.print(f"  version      {escape(str(dataset.get('version')))}", soft_wrap=True)
    for subject in statement.get("subject", []):
        for algorithm, value in subject.get("digest", {}).items():
            out.print(
                f"  subject      {escape(subject.get('name', ''))}  {algorithm}:{value}",
                soft_wrap=True,
            )
    for run in predicate.get("generation", []):
        intent = (run.get("intent") or {}).get("text")
        out.print(
            f"  generated by {escape(run['job'])} ({run['kind']})"
            + (f" — {escape(intent)}" if intent else "")
        )
        if run.get("seeds"):
            out.print(f"               seeds {run['seeds']}")
    sources = predicate.get("sources", [])
    out.print(f"  sources      {'none' if not sources else ''}")
    for source in sources:
        label = escape(str(source.get("dataset")))
        if source.get("confidential"):
            label += " (confidential: fingerprint committed)"
        if source.get("certificate"):
            label += (
                f" (certified upstream, {str(source['certificate'].get('statement_sha256'))[:16]}…)"
            )
        out.print(f"    {label}", soft_wrap=True)
    out.print(
        f"  steps        {len(predicate.get('transformations', []))} runs in the provenance closure"
    )
    evaluation = predicate.get("evaluation")
    out.print(
        f"  evaluation   {escape(evaluation.get('summary', '')) if evaluation else 'none recorded'}"
    )
    use = predicate.get("intended_use")
    out.print(f"  intended use {escape(json.dumps(use)) if use else 'none recorded'}")
    lifecycle = predicate.get("lifecycle")
    out.print(
        f"  lifecycle    {escape(str(lifecycle.get('state'))) if lifecycle else 'none recorded'}"
    )
    closure = predicate.get("closure", {})
    checkpoint = predicate.get("checkpoint", {})
    out.print(f"  closure      {len(closure.get('records', []))} records, {closure.get('digest')}")
    out.print(
        f"  checkpoint   {checkpoint.get('size')} records, root {str(checkpoint.get('root'))[:16]}…"
    )
    out.print(
        f"  signed by    {', '.join(k[:16] + '…' for k in bundle.get('signing_key_ids', []))}"
    )


@command("revoke")
def revoke_command(
    certificate: Annotated[
        str, typer.Argument(help="The certificate: its bundle file, or its statement's SHA-256.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why it is withdrawn (recorded).")],
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Revoke a certificate: verification against the ledger then reports it revoked."""
    digest = (
        statement_digest(load_bundle(certificate))
        if Path(certificate).is_file()
        else certificate.lower()
    )
    with Ledger.open(store, database_url) as ledger:
        revoke(ledger, digest, reason)
    out.print(f"Revoked certificate {digest[:16]}…: {escape(reason)}")


@command("accept")
def accept_command(
    bundle_path: Annotated[Path, typer.Argument(help="Another organisation's certificate bundle.")],
    trust: Annotated[
        list[Path],
        typer.Option("--trust", help="Their public keys (signer's and ledger's); repeatable."),
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--as", help="The dataset name it is recorded under here [default: as certified]."
        ),
    ] = None,
    store: StoreOpt = None,
    database_url: DatabaseUrlOpt = None,
) -> None:
    """Accept an upstream certificate: verify it and record it against the data it certifies,
    so certificates issued here for data derived from it carry it as a chain."""
    bundle = load_bundle(bundle_path)
    pems = read_trusted(trust)
    with Ledger.open(store, database_url) as ledger:
        _, versions = accept(ledger, bundle, pems, name=name)
    out.print(
        f"Accepted the certificate for {', '.join(escape(str(v)) for v in versions)}",
        soft_wrap=True,
    )
