"""The lineage graph over HTTP: a ~1,000-node neighbourhood in a ~1,000,000-edge store.

The store holds the layered graph of ``bench_closure.py`` (same records, same shape: the
upstream closure of a layer-5 version at depth 10 is 958 nodes plus itself), loaded
through the ledger. ``pedigree serve`` (one worker, a subprocess) answers, to one client
on a keep-alive connection, for many different layer-5 versions:

- ``GET /api/v1/trace?node=…&direction=up&depth=10`` — the 959-node closure as JSON,
  every node named (what ``pedigree trace --json`` prints);
- ``GET /api/v1/lineage?nodeId=…&depth=10`` — the same neighbourhood both ways in
  Marquez's shape (versions collapsed into datasets, runs into jobs).

Baseline, same run, same store: ``ledger.trace(…).to_json()`` in this process — the same
answer without HTTP, the token check, the access log or JSON on the wire. The ratio is
what serving it costs.
"""

from __future__ import annotations

import argparse
import math
import random
import time

import httpx

import _common as c
import _server as s
import bench_closure as bc


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--edges", type=int, default=1_000_000, help="lineage edges")
    parser.add_argument("--queries", type=int, default=30, help="different versions queried")
    parser.add_argument("--rounds", type=int, default=3, help="times each is queried")
    parser.add_argument("--batch", type=int, default=10_000, help="records per append_many")


def measure(backend: str, graph: bc.Layered, args: argparse.Namespace, out: c.Output) -> dict:
    from pedigree.server import tokens

    expected = bc.expected_closure() + 1
    rng = random.Random(29)
    chosen = rng.sample(range(graph.width), min(graph.width, args.queries + 3))
    warmup, queried = chosen[:3], chosen[3:]
    with c.ledger_store(backend) as ledger:
        out.say(f"[{backend}] loading {len(graph.records):,} records ({graph.edges:,} edges) …")
        load = c.append_in_batches(ledger, graph.records, args.batch, out=out, label="loaded")
        if backend == "postgresql":
            with ledger.engine.connect() as conn:  # as autovacuum would soon after a bulk load
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        token, _ = tokens.create(ledger, role="analyst", name="bench")
        location = ledger.location
        port = s.free_port()
        command = s.pedigree_serve(str(location.path), location.database_url, port)
        times: dict[str, list[float]] = {"http_trace": [], "http_lineage": [], "in_process": []}
        sizes: dict[str, int] = {}
        with (
            s.subprocess_server(command, port, "/readyz") as server,
            httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=120
            ) as http,
        ):

            def trace_http(ref: str) -> int:
                answer = http.get(
                    "/api/v1/trace", params={"node": ref, "direction": "up", "depth": bc.DEPTH}
                )
                answer.raise_for_status()
                return len(answer.json()["nodes"])

            def lineage_http(ref: str) -> int:
                answer = http.get("/api/v1/lineage", params={"nodeId": ref, "depth": bc.DEPTH})
                answer.raise_for_status()
                return len(answer.json()["graph"])

            def in_process(ref: str) -> int:
                return len(ledger.trace(ref, direction="up", depth=bc.DEPTH).to_json()["nodes"])

            methods = {
                "http_trace": trace_http,
                "http_lineage": lineage_http,
                "in_process": in_process,
            }
            for p in warmup:
                for fn in methods.values():
                    fn(graph.ref(bc.QUERY_LAYER, p))
            for round_ in range(args.rounds):
                order = list(methods)[round_ % 3 :] + list(methods)[: round_ % 3]
                for p in queried:
                    ref = graph.ref(bc.QUERY_LAYER, p)
                    for name in order:
                        started = time.perf_counter()
                        size = methods[name](ref)
                        times[name].append(time.perf_counter() - started)
                        sizes[name] = size
                        if name != "http_lineage" and size != expected:
                            raise SystemExit(f"{name}: {size} nodes, expected {expected}")
    med = {name: c.median(values) for name, values in times.items()}
    return {
        "edges": graph.edges,
        "records": len(graph.records),
        "load_seconds": round(load, 1),
        "trace_nodes": expected,
        "lineage_nodes": sizes["http_lineage"],
        "queries": len(times["http_trace"]),
        "http_trace_median_ms": c.ms(med["http_trace"]),
        "http_trace_p95_ms": c.ms(c.percentile(times["http_trace"], 95)),
        "http_lineage_median_ms": c.ms(med["http_lineage"]),
        "in_process_median_ms": c.ms(med["in_process"]),
        "http_ratio_to_in_process": round(med["http_trace"] / med["in_process"], 2),
    }


def main() -> None:
    args = c.parse_args("The lineage graph over HTTP on a ~1M-edge store", extra=options)
    if args.quick:
        args.edges, args.queries, args.rounds, args.batch = 15_000, 3, 1, 2_000
    out = c.Output(args, "graph_api")
    c.header(out, "Lineage graph over HTTP (GET /api/v1/trace, /api/v1/lineage vs ledger.trace)")
    layers = bc.QUERY_LAYER if args.quick else 10
    width = max(math.ceil(args.edges / (layers * bc.EDGES_PER_RUN)), max(bc.cone_widths()))
    graph = bc.Layered(width, layers)
    for backend in args.backends:
        res = measure(backend, graph, args, out)
        out.results[backend] = res
        out.say(
            f"[{backend}] {res['edges']:,} edges: GET /api/v1/trace ({res['trace_nodes']} nodes) "
            f"median {res['http_trace_median_ms']:.1f} ms (p95 {res['http_trace_p95_ms']:.1f} ms); "
            f"GET /api/v1/lineage ({res['lineage_nodes']} Marquez nodes) median "
            f"{res['http_lineage_median_ms']:.1f} ms; ledger.trace in-process "
            f"{res['in_process_median_ms']:.1f} ms; HTTP/in-process {res['http_ratio_to_in_process']}x"
        )
    out.finish()


if __name__ == "__main__":
    main()
