"""OpenLineage ingest through the HTTP server: events/s and p99 latency with concurrent
clients, against a bare FastAPI endpoint that parses the same events and discards them.

``pedigree serve`` (one uvicorn worker, a subprocess) on a fresh store; C client threads
in this process, each on one keep-alive connection, post runs as OpenLineage emitters do:
a START then a COMPLETE event per run (one input, one output with a schema facet), to
``POST /api/v1/lineage`` with an engineer's bearer token. Everything a real request costs
is in the figure: token check, event validation, mapping to records, the atomic append
(numbering, hashing, signing the new head, projections), the access log.

Baseline, same machine, same clients, same events: a FastAPI app under the same uvicorn
whose ``POST /api/v1/lineage`` takes the body as a JSON object and throws it away. The
ratio says what recording costs over merely receiving. Both servers run side by side and
the clients drive them in alternate rounds (``--rounds``, default 4): this VM's speed drifts
by half within minutes, and a baseline measured in one spell and Pedigree in another made
the ratio swing more than any change being measured.

Each number of clients (``--clients``, default 4, 8, 16 and 32) is measured in turn, on a
fresh store and servers: each client waits for its answer before it sends again, so with
few clients the figure is set by how long one request takes (for Pedigree, mostly its
commit), with many by how much work each one costs.

Where the CPU goes is counted too (from ``/proc``, Linux only), per event: Pedigree's event loop
(its main thread), its other threads (on PostgreSQL, the group commit's writer), the
PostgreSQL backends serving its database, and the clients; the bare server and its
clients likewise. From these the script prints the most Pedigree could take on this
machine: its interpreter lock lets its threads use one core between them, and everything
(clients and database included) shares the machine's cores. That bound, against the bare
endpoint's rate, says how far the ratio could rise with no waiting at all.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import _common as c
import _server as s

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.26.0/integration/airflow"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
DB = "postgres://warehouse:5432"


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=1_000, help="runs (2 events each)")
    parser.add_argument(
        "--clients",
        type=_counts,
        default=[4, 8, 16, 32],
        help="numbers of concurrent clients, measured in turn (default 4,8,16,32)",
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternate rounds of bare and Pedigree (default 4)"
    )
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)


def _counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected client counts such as 8 or 8,16,32: {text!r}")
    return counts


def event(kind: str, run_id: str, n: int) -> dict[str, Any]:
    lane = n % 50
    out: dict[str, Any] = {"namespace": DB, "name": f"analytics.table_{lane:02d}"}
    if kind == "COMPLETE":
        out["facets"] = {
            "schema": {
                "_producer": PRODUCER,
                "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
                "fields": [
                    {"name": "id", "type": "BIGINT"},
                    {"name": "label", "type": "VARCHAR"},
                    {"name": "score", "type": "DOUBLE"},
                ],
            }
        }
    return {
        "eventType": kind,
        "eventTime": f"2026-12-01T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.{'0' if kind == 'START' else '5'}00Z",
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id},
        "job": {"namespace": "airflow", "name": f"etl.load_{lane:02d}"},
        "inputs": [{"namespace": DB, "name": f"raw.source_{lane:02d}"}],
        "outputs": [out],
    }


def work(runs: int, clients: int, first: int = 0) -> list[list[tuple[str, str, Any]]]:
    """Each client's requests: START then COMPLETE of its runs (``first`` offsets run ids)."""
    plan: list[list[tuple[str, str, Any]]] = [[] for _ in range(clients)]
    for n in range(first, first + runs):
        run_id = str(uuid.UUID(int=n + 1, version=4))
        for kind in ("START", "COMPLETE"):
            plan[n % clients].append(("POST", "/api/v1/lineage", event(kind, run_id, n)))
    return plan


def serve_baseline(port: int) -> None:
    """The baseline server (run as a subprocess of this script)."""
    import uvicorn
    from fastapi import Body, FastAPI

    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/lineage", status_code=201)
    def lineage(event: dict[str, Any] = Body(...)) -> dict[str, int]:
        return {"accepted": 1}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def summary(load: s.Load) -> dict[str, Any]:
    return {
        "events": load.requests,
        "seconds": round(load.seconds, 2),
        "events_per_s": round(load.requests / load.seconds, 1),
        "median_ms": c.ms(c.median(load.latencies)),
        "p99_ms": c.ms(c.percentile(load.latencies, 99)),
    }


def rounds(plan: list[list[tuple[str, str, Any]]], count: int) -> list[list[list[Any]]]:
    """``plan`` cut into ``count`` rounds, each client's runs kept whole (START, COMPLETE)."""
    cut: list[list[list[Any]]] = [[] for _ in range(count)]
    for requests in plan:
        runs = len(requests) // 2
        for r in range(count):
            cut[r].append(requests[2 * (runs * r // count) : 2 * (runs * (r + 1) // count)])
    return cut


def combined(loads: list[s.Load]) -> s.Load:
    return s.Load(
        sum(load.seconds for load in loads),
        [latency for load in loads for latency in load.latencies],
        [error for load in loads for error in load.errors],
    )


def measure(backend: str, clients: int, args: argparse.Namespace) -> dict[str, Any]:
    """Both servers run side by side; the clients drive them in alternate rounds (bare,
    Pedigree, bare, …), so that both see the same spells of a VM whose speed drifts."""
    from pedigree.server import tokens

    plan = rounds(work(args.runs, clients), args.rounds)
    with (
        tempfile.TemporaryDirectory(prefix="pedigree-bench-") as tmp,
        c.contextlib.ExitStack() as stack,
    ):
        database = stack.enter_context(c.pg_database()) if backend == "postgresql" else None
        store = str(Path(tmp) / "store")
        ledger, _ = c.Ledger.init(store, database, actor=c.ACTOR)
        stack.callback(ledger.close)
        token, _ = tokens.create(ledger, role="engineer", name="bench")
        port = s.free_port()
        bare = stack.enter_context(
            s.subprocess_server([sys.executable, __file__, "--baseline-server", str(port)], port)
        )
        port = s.free_port()
        ours = stack.enter_context(
            s.subprocess_server(s.pedigree_serve(store, database, port), port, "/readyz")
        )
        warm_up = work(10, clients, 10**6)
        s.drive(bare.url, None, clients, warm_up)
        s.drive(ours.url, token, clients, warm_up)
        baselines, pedigrees = [], []
        spent: dict[str, float | None] = {}
        for part in plan:
            baselines.append(_counted(spent, "bare", bare, None, clients, part))
            pedigrees.append(_counted(spent, "pedigree", ours, token, clients, part, database))
        baseline, pedigree = combined(baselines), combined(pedigrees)
        if baseline.errors:
            raise SystemExit(f"baseline errors: {baseline.errors[:3]}")
        if pedigree.errors:
            raise SystemExit(f"pedigree errors: {pedigree.errors[:3]}")
        report = ledger.audit()
        if not report.ok:
            raise SystemExit(f"the ledger does not audit after the run: {report.first}")
        records = ledger.size
    ours_summary, base = summary(pedigree), summary(baseline)
    return {
        "runs": args.runs,
        "clients": clients,
        "rounds": args.rounds,
        "records": records,
        "pedigree": ours_summary,
        "baseline": base,
        "throughput_ratio": round(ours_summary["events_per_s"] / base["events_per_s"], 3),
        "p99_ratio": round(ours_summary["p99_ms"] / base["p99_ms"], 1),
        "round_ratios": [
            round((p.requests / p.seconds) / (b.requests / b.seconds), 3)
            for p, b in zip(pedigrees, baselines, strict=True)
        ],
        "audit_ok": True,
        **_bound(spent, pedigree.requests, base),
    }


def _counted(
    spent: dict[str, float | None],
    name: str,
    server: s.Server,
    token: str | None,
    clients: int,
    part: list[list[Any]],
    database: str | None = None,
) -> s.Load:
    """``s.drive``, adding the CPU seconds it cost to ``spent``: ``name``'s event loop and
    other threads, its PostgreSQL backends, and the clients (this process). Without
    ``/proc`` (not Linux), only ``s.drive``."""
    if not s.PROC:
        return s.drive(server.url, token, clients, part)

    def meter() -> tuple[float, float, float, float | None]:
        main, every = s.process_cpu(server.pid)
        return main, every, time.process_time(), s.backends_cpu(database) if database else None

    load = s.drive(server.url, token, clients, part, meter=meter)
    assert load.metered is not None
    (main0, all0, clients0, db0), (main1, all1, clients1, db1) = load.metered
    used: dict[str, float | None] = {
        f"{name}_event_loop": main1 - main0,
        f"{name}_other_threads": (all1 - main1) - (all0 - main0),
        f"{name}_clients": clients1 - clients0,
    }
    if database:
        used[f"{name}_postgresql"] = None if db0 is None or db1 is None else db1 - db0
    for key, value in used.items():
        total = spent.get(key, 0.0)
        spent[key] = None if value is None or total is None else total + value
    return load


def _bound(spent: dict[str, float | None], events: int, base: dict[str, Any]) -> dict[str, Any]:
    """CPU per event (ms), and the most events/s Pedigree could take on this machine: its
    threads share one interpreter lock (one core), and all the work, clients' and
    PostgreSQL's included, shares the machine's cores. (PostgreSQL's share is left out when
    its processes are not on this machine; nothing is counted without ``/proc``.)"""
    per_event = {  # (a thread's and its process's CPU are rounded apart: never below 0)
        k: None if v is None else round(1e3 * max(v, 0.0) / events, 3) for k, v in spent.items()
    }
    server = (per_event.get("pedigree_event_loop") or 0) + (
        per_event.get("pedigree_other_threads") or 0
    )
    everything = server + (per_event.get("pedigree_clients") or 0)
    everything += per_event.get("pedigree_postgresql") or 0
    cores = os.cpu_count() or 1
    bound = min(1e3 / server, cores * 1e3 / everything) if server > 0 else None
    return {
        "cpu_ms_per_event": per_event,
        "bound_events_per_s": None if bound is None else round(bound, 1),
        "bound_ratio": None if bound is None else round(bound / base["events_per_s"], 3),
        "cores": cores,
    }


def _cpu_line(res: dict[str, Any]) -> str:
    cpu = res["cpu_ms_per_event"]
    if not cpu:
        return "    CPU not counted (no /proc on this system)"

    def ms(key: str) -> str:
        return "?" if cpu.get(key) is None else f"{cpu[key]:.2f}"

    database = f", PostgreSQL {ms('pedigree_postgresql')}" if "pedigree_postgresql" in cpu else ""
    bare = (cpu["bare_event_loop"] or 0) + (cpu["bare_other_threads"] or 0)
    bound = res["bound_events_per_s"]
    return (
        f"    CPU ms per event: pedigree event loop {ms('pedigree_event_loop')}, other threads "
        f"{ms('pedigree_other_threads')}{database}, clients {ms('pedigree_clients')}; bare "
        f"server {bare:.2f}, clients "
        f"{ms('bare_clients')}. Most pedigree could take here ({res['cores']} cores, one "
        f"interpreter lock): "
        + ("?" if bound is None else f"{bound:,.0f} events/s, {res['bound_ratio']:.2f}x bare")
    )


def main() -> None:
    if "--baseline-server" in sys.argv:
        serve_baseline(int(sys.argv[sys.argv.index("--baseline-server") + 1]))
        return
    args = c.parse_args("OpenLineage ingest through the HTTP server", extra=options)
    if args.quick:
        args.runs, args.clients, args.rounds = 20, [2], 2
    out = c.Output(args, "server_ingest")
    c.header(out, "OpenLineage ingest over HTTP (pedigree serve vs a bare FastAPI endpoint)")
    for backend in args.backends:
        out.results[backend] = {"by_clients": []}
        for clients in args.clients:  # (a fresh store and servers for each count)
            res = measure(backend, clients, args)
            out.results[backend]["by_clients"].append(res)
            p, b = res["pedigree"], res["baseline"]
            out.say(
                f"[{backend}] {p['events']} events, {clients} clients: pedigree "
                f"{p['events_per_s']:,.0f} events/s (median {p['median_ms']:.1f} ms, p99 "
                f"{p['p99_ms']:.1f} ms); bare FastAPI {b['events_per_s']:,.0f} events/s (median "
                f"{b['median_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms); ratio "
                f"{res['throughput_ratio']:.2f}x throughput (rounds: "
                f"{', '.join(f'{r:.2f}' for r in res['round_ratios'])}), {res['p99_ratio']}x "
                f"p99; {res['records']} records, audit OK"
            )
            out.say(_cpu_line(res))
    out.finish()


if __name__ == "__main__":
    main()
