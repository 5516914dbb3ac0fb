"""The web UI's lineage graph in a real browser: first render of a ~500-node graph and
the expansion of one node, against the same nodes rendered as a plain HTML list.

A store holds a layered lineage of 492 nodes upstream of one model (10 lanes of 24
generations: each run reads two datasets of the generation before and writes one; a
final training run reads the last ten), plus five side runs reading one of those ten
(what the expansion loads). ``pedigree serve``'s app runs on loopback; Debian's
Chromium (headless, through Playwright) opens ``/lineage?node=<model>&depth=all``.

Measured in the page (``window.__pedigreeTimings``, ``performance.now()``):

- first render: from the start of the two trace requests to the frame after the graph
  is drawn (requests + merge + layout + React Flow render). Above 150 nodes the page
  first draws a quick layered placement (longest-path columns) and ELK's layout (in a
  Web Worker) replaces it when ready: that moment is reported too. Above 250 nodes
  React Flow puts only the nodes in view in the DOM, so the first render is measured
  again with every node in the DOM (``localStorage["pedigree.renderAll"] = "1"``);
- baseline, same run: the same URL with ``view=list``: the same requests and merge, the
  nodes as a plain ``<ol>`` (no layout, no SVG);
- expand: from the click on a node's "expand downstream" button (a dataset beside the
  model, in the first view) to the frame after its five new nodes are drawn (placed
  beside it), and to the frame after ELK has laid out the whole graph again.

Also the size of the built bundle (raw and gzip). Goals: first render <= 1 s, expand
<= 200 ms. Without Chromium or the UI build the script says so and exits 0 (1 under
``CI=true``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import _common as c
from pedigree.model import ModelVersion, RecordBody
from pedigree.server import tokens
from pedigree.server.ui import STATIC_DIR
from pedigree.store import Ledger

CHROMIUM = os.environ.get("PEDIGREE_CHROMIUM", "/usr/bin/chromium")
RENDER_GOAL_MS = 1000.0
EXPAND_GOAL_MS = 200.0
SIDE_RUNS = 5


def options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lanes", type=int, default=10, help="datasets per generation")
    parser.add_argument("--generations", type=int, default=24, help="generations of runs")
    parser.add_argument("--repeat", type=int, default=5, help="measured page loads")


def lineage(lanes: int, generations: int) -> tuple[list[RecordBody], str, str]:
    """Records of the layered lineage; the model's and the expanded source's references."""
    rng = random.Random(11)
    records: list[RecordBody] = []
    previous = [c.dataset_version(f"ui/source-{lane:02d}", "v1", lane) for lane in range(lanes)]
    records += previous
    n = lanes
    for generation in range(1, generations + 1):
        current = []
        for lane in range(lanes):
            n += 1
            version = c.dataset_version(f"ui/g{generation:02d}/table-{lane:02d}", "v1", n)
            inputs = [previous[lane].io("left"), previous[(lane + 1) % lanes].io("right")]
            records += [
                version,
                c.run_record(
                    f"ui/g{generation:02d}/step-{lane:02d}",
                    "transform",
                    inputs,
                    [version.io()],
                    n,
                    rng,
                ),
            ]
            current.append(version)
        previous = current
    model = ModelVersion(
        namespace=c.NAMESPACE,
        name="ui/model",
        version="v1",
        fingerprint=f"sha256:{c.hex_digest('ui/model')}",
        framework="sklearn",
    )
    records += [
        model,
        c.run_record(
            "ui/train", "train", [v.io("training") for v in previous], [model.io()], n + 1, rng
        ),
    ]
    source = previous[0]  # beside the model, in the first view
    for side in range(SIDE_RUNS):
        out = c.dataset_version(f"ui/side/report-{side}", "v1", n + 2 + side)
        records += [
            out,
            c.run_record(
                f"ui/side/report-{side}", "report", [source.io()], [out.io()], n + 9 + side, rng
            ),
        ]
    return (
        records,
        f"model:{c.NAMESPACE}:ui/model@v1",
        f"dataset:{c.NAMESPACE}:{source.name}@v1",
    )


class Server:
    """``pedigree serve`` on a free loopback port, in a process of its own (as deployed:
    the browser's requests never wait for this script)."""

    def __init__(self, store: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = store
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pedigree",
                "serve",
                "--store",
                str(self.store),
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    error = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise SystemExit(f"pedigree serve did not start: {error[-1000:]}") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def bundle_sizes() -> dict[str, Any]:
    """Bytes of the build: what the first page loads, the graph page's chunk, ELK's worker."""
    assets = STATIC_DIR / "assets"
    files = sorted(p for p in assets.iterdir() if p.is_file())

    def size(pred: Any) -> tuple[int, int]:
        chosen = [p for p in files if pred(p.name)]
        raw = sum(p.stat().st_size for p in chosen)
        packed = sum(len(gzip.compress(p.read_bytes(), 9)) for p in chosen)
        return raw, packed

    index = (STATIC_DIR / "index.html").read_text()
    initial = size(lambda name: name in index)
    graph = size(lambda name: name.startswith("Lineage-") or name.startswith("elk-api"))
    worker = size(lambda name: name.startswith("elk-worker") and name.endswith(".js"))
    total = size(lambda name: True)
    return {
        "initial_kb": round(initial[0] / 1024, 1),
        "initial_gzip_kb": round(initial[1] / 1024, 1),
        "graph_page_kb": round(graph[0] / 1024, 1),
        "graph_page_gzip_kb": round(graph[1] / 1024, 1),
        "elk_worker_kb": round(worker[0] / 1024, 1),
        "elk_worker_gzip_kb": round(worker[1] / 1024, 1),
        "all_assets_kb": round(total[0] / 1024, 1),
    }


def unavailable(reason: str, args: argparse.Namespace) -> None:
    if os.environ.get("CI", "").lower() == "true":
        raise SystemExit(f"bench_ui: {reason} (CI=true: it must run)")
    print(f"bench_ui skipped: {reason}", file=sys.stderr)
    if args.json:
        print(json.dumps({"figure": "ui", "skipped": reason, "results": {}}))
    sys.exit(0)


def read_timings(page: Any) -> dict[str, Any]:
    return page.evaluate("() => window.__pedigreeTimings")


def load_graph(page: Any, url: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    page.goto(url)
    page.locator("body[data-graph-ready]").wait_for(state="attached", timeout=60_000)
    return read_timings(page), (time.perf_counter() - started) * 1000


def measure(
    page: Any, url: str, model: str, source: str, repeat: int, out: c.Output
) -> dict[str, Any]:
    graph_url = f"{url}/lineage?node={quote(model)}&depth=all"
    series: dict[str, list[float]] = {
        k: []
        for k in (
            "render",
            "laid_out",
            "all",
            "list",
            "expand",
            "relayout",
            "elk",
            "wall",
            "in_dom",
        )
    }
    nodes = 0
    for i in range(repeat + 1):  # the first round warms caches and is not counted
        # 1. the graph as a user gets it (above 250 nodes, only those in view are in the DOM)
        timings, wall = load_graph(page, f"{graph_url}&r={i}")
        page.locator("body[data-graph-laid-out]").wait_for(state="attached", timeout=60_000)
        timings = read_timings(page)
        nodes = timings["nodes"]
        in_dom = page.locator(".lineage-node").count()
        if not 0 < in_dom <= nodes:
            raise SystemExit(f"{in_dom} nodes in the DOM of {nodes}")
        # 2. expand downstream of a dataset beside the model: its five side runs
        button = page.locator(f'.lineage-node[data-node-id="{source}"] [data-action="expand-down"]')
        button.dispatch_event("click")
        page.locator("body[data-expand-ready]").wait_for(state="attached", timeout=60_000)
        page.locator("body[data-expand-laid-out]").wait_for(state="attached", timeout=60_000)
        after = read_timings(page)
        if after["nodes"] != nodes + SIDE_RUNS:
            raise SystemExit(f"the expansion drew {after['nodes'] - nodes} nodes, not {SIDE_RUNS}")
        # 3. every node in the DOM
        page.evaluate("() => localStorage.setItem('pedigree.renderAll', '1')")
        everything, _ = load_graph(page, f"{graph_url}&r={i}&all")
        page.evaluate("() => localStorage.removeItem('pedigree.renderAll')")
        if page.locator(".lineage-node").count() != nodes:
            raise SystemExit("render-all did not put every node in the DOM")
        # 4. baseline: the same nodes as a plain list
        listed, _ = load_graph(page, f"{graph_url}&view=list&r={i}")
        if page.locator(".node-list li").count() != nodes:
            raise SystemExit("the list does not hold every node")
        if i == 0:
            continue
        for key, value in (
            ("render", timings["render"][-1]),
            ("all", everything["render"][-1]),
            ("list", listed["render"][-1]),
            ("expand", after["expand"][-1]),
            ("relayout", after["expandLayout"][-1]),
            ("elk", timings["layout"][0]),
            ("laid_out", timings["laidOut"][-1]),
            ("wall", wall),
            ("in_dom", in_dom),
        ):
            series[key].append(value)
        out.progress(
            f"round {i}: graph {series['render'][-1]:.0f} ms, ELK's layout {series['laid_out'][-1]:.0f} ms "
            f"(ELK {series['elk'][-1]:.0f} ms, "
            f"{in_dom} nodes in view), every node in the DOM {series['all'][-1]:.0f} ms, "
            f"list {series['list'][-1]:.0f} ms, expand {series['expand'][-1]:.0f} ms "
            f"(laid out {series['relayout'][-1]:.0f} ms)"
        )

    def med(key: str) -> float:
        return round(statistics.median(series[key]), 1)

    return {
        "nodes": nodes,
        "nodes_in_first_view": int(med("in_dom")),
        "first_render_median_ms": med("render"),
        "first_render_max_ms": round(max(series["render"]), 1),
        "first_render_every_node_in_dom_median_ms": med("all"),
        "elk_layout_median_ms": med("elk"),
        "elk_layout_painted_median_ms": med("laid_out"),
        "navigation_to_render_median_ms": med("wall"),
        "list_baseline_median_ms": med("list"),
        "render_ratio_vs_list": round(med("render") / med("list"), 2),
        "every_node_ratio_vs_list": round(med("all") / med("list"), 2),
        "expand_drawn_median_ms": med("expand"),
        "expand_drawn_max_ms": round(max(series["expand"]), 1),
        "expand_laid_out_median_ms": med("relayout"),
        "render_meets_goal": med("render") <= RENDER_GOAL_MS,
        "expand_meets_goal": med("expand") <= EXPAND_GOAL_MS,
    }


def main() -> None:
    args = c.parse_args("Web UI: graph render and expand in the browser", extra=options)
    out = c.Output(args, "ui")
    if not Path(CHROMIUM).exists():
        unavailable(f"no Chromium at {CHROMIUM} (make chromium)", args)
    if not (STATIC_DIR / "index.html").is_file():
        unavailable(f"the UI is not built in {STATIC_DIR} (make ui)", args)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed", args)
    lanes, generations, repeat = (
        (3, 3, 1) if args.quick else (args.lanes, args.generations, args.repeat)
    )
    c.header(out, "Web UI: lineage graph in headless Chromium")
    records, model, source = lineage(lanes, generations)
    with tempfile.TemporaryDirectory(prefix="pedigree-bench-ui-") as tmp:
        store = Path(tmp) / "store"
        with Ledger.init(store, actor=c.ACTOR)[0] as ledger:
            ledger.append_many(records)
            token, _ = tokens.create(ledger, role="analyst", name=f"bench-{uuid.uuid4().hex[:6]}")
        with Server(store) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            context.add_init_script(
                f"window.sessionStorage.setItem('pedigree.token', {json.dumps(token)});"
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            result = measure(page, server.url, model, source, repeat, out)
            browser.close()
            if errors:
                raise SystemExit(f"the page logged errors: {errors[:3]}")
    result["bundle"] = bundle_sizes()
    out.results["graph"] = result
    b = result["bundle"]
    out.say(
        f"{result['nodes']} nodes: first render {result['first_render_median_ms']:.0f} ms median "
        f"({result['nodes_in_first_view']} nodes in view; ELK's layout painted at "
        f"{result['elk_layout_painted_median_ms']:.0f} ms, ELK itself {result['elk_layout_median_ms']:.0f} ms; "
        f"navigation to render {result['navigation_to_render_median_ms']:.0f} ms), "
        f"plain list {result['list_baseline_median_ms']:.0f} ms: ratio {result['render_ratio_vs_list']:.2f}x; "
        f"goal <= {RENDER_GOAL_MS:.0f} ms {c.verdict(result['render_meets_goal'])}"
    )
    out.say(
        f"every node in the DOM: {result['first_render_every_node_in_dom_median_ms']:.0f} ms median "
        f"({result['every_node_ratio_vs_list']:.2f}x the list)"
    )
    out.say(
        f"expand ({SIDE_RUNS} new nodes): drawn {result['expand_drawn_median_ms']:.0f} ms median, "
        f"laid out again {result['expand_laid_out_median_ms']:.0f} ms; goal <= {EXPAND_GOAL_MS:.0f} ms "
        f"{c.verdict(result['expand_meets_goal'])}"
    )
    out.say(
        f"bundle: first page {b['initial_kb']} KB ({b['initial_gzip_kb']} KB gzip), graph page +{b['graph_page_kb']} KB "
        f"({b['graph_page_gzip_kb']} KB gzip), ELK worker {b['elk_worker_kb']} KB ({b['elk_worker_gzip_kb']} KB gzip)"
    )
    out.finish()


if __name__ == "__main__":
    main()
