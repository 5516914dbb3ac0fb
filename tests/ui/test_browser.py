"""The web UI in a real browser, on the demo's data: sign in, search, the lineage graph
(expand, drawer, path, controls, deep links), dataset and run pages, verification,
and the bad cases (unknown node, expired token, server down, malformed bundle)."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from playwright.sync_api import expect

from pedigree.certify.revocation import statement_digest
from pedigree.server import create_app
from tests.server.conftest import LiveServer
from tests.ui.conftest import MODEL, SYNTHETIC, Demo

RESOURCE_ERRORS = ("Failed to load resource",)


def node(page, title: str, kind: str | None = None):
    """The graph box whose title is ``title``."""
    selector = ".lineage-node" + (f'[data-node-type="{kind}"]' if kind else "")
    return page.locator(selector).filter(
        has=page.locator(".node-title", has_text=re.compile(f"^{re.escape(title)}$"))
    )


def wait_graph(page) -> None:
    # (no wait_for_function: the UI's Content-Security-Policy forbids eval, as it should)
    page.locator("body[data-graph-ready]").wait_for(state="attached")


def nodes(page):
    return page.locator(".lineage-node")


def test_sign_in_then_home_shows_what_needs_attention(open_page, demo: Demo) -> None:
    page, console = open_page("/", role=None)
    page.get_by_label("Token").fill("pdg_0000000000000000_" + "x" * 43)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("That token was refused").wait_for()
    page.get_by_label("Token").fill(demo.tokens["analyst"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Recent runs").wait_for()
    assert page.locator(".whoami .pill").inner_text() == "analyst"
    failed = page.locator("#failed-runs")
    failed.get_by_text("synth/turnout-generate-large").wait_for()
    evaluations = page.locator("#failed-evaluations")
    evaluations.get_by_text("membership inference risk").wait_for()
    withdrawn = page.locator("#withdrawn-in-use")
    withdrawn.get_by_text("warehouse/turnout-masked").wait_for()
    assert "synth/turnout-split" in withdrawn.inner_text()
    # search by name: datasets, jobs and runs (the runs come in an answer of their own,
    # held back here until the rest is shown: meanwhile the page says it is still looking)
    held: list = []

    def hold(route) -> None:
        held.append(route)

    page.route("**/api/v1/runs?*", hold)
    page.locator("#home-search").fill("rebalance")
    page.locator("#home-search").press("Enter")
    page.locator("#found-jobs").get_by_text("synth/turnout-rebalance").wait_for()
    found_runs = page.locator("#found-runs")
    expect(found_runs).to_contain_text("Looking through the runs")
    assert "No run matches" not in found_runs.inner_text()
    assert "so far" in page.locator(".results > p").inner_text()
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/api/v1/runs?*")
    expect(found_runs).to_contain_text("synth/turnout-rebalance #")
    assert "so far" not in page.locator(".results > p").inner_text()
    assert "q=rebalance" in page.url
    assert console.clean(RESOURCE_ERRORS) == []


def test_lineage_expand_drawer_and_path(open_page, demo: Demo) -> None:
    page, console = open_page(f"/lineage?node={quote(MODEL)}&depth=1")
    wait_graph(page)
    assert page.locator(".lineage-node").count() == 4  # the model, its two runs, the scoring run
    train = node(page, "models/turnout-train", "run")
    assert node(page, "synthetic/turnout-balanced").count() == 0
    # expand upstream of the training run: one hop, loaded lazily
    train.locator('[data-action="expand-up"]').click()
    node(page, "synthetic/turnout-balanced").wait_for()
    page.locator("body[data-expand-laid-out]").wait_for(state="attached")  # nodes stopped moving
    assert "up=run%3A" in page.url
    expect(page.locator(".lineage-node")).to_have_count(5)
    expect(train.locator('[data-action="collapse-up"]')).to_have_count(1)
    # the edge says how they connect; every edge is drawn, the expanded node's too (it
    # used to be measured again, and its edges were sometimes left out)
    page.locator(".react-flow__edge-text", has_text="trained on (training)").first.wait_for()
    expect(page.locator(".react-flow__edge")).to_have_count(4)
    # the drawer of a dataset version: fingerprint, who, when, evaluations, certificates
    node(page, "synthetic/turnout-balanced").locator(".node-main").click()
    drawer = page.get_by_test_id("drawer")
    drawer.get_by_text("Fingerprint").wait_for()
    assert "ptf1:" in drawer.inner_text()
    assert "sel=" in page.url
    # the drawer of a run: intent, parameters
    train.locator(".node-main").click()
    drawer.get_by_text("predict turnout without training on real respondents").wait_for()
    assert "Parameters" in drawer.inner_text()
    # a path between two nodes (shift-click both ends)
    node(page, "synthetic/turnout-balanced").locator(".node-main").click(modifiers=["Shift"])
    node(page, "models/turnout-train/model").locator(".node-main").click(modifiers=["Shift"])
    status = page.get_by_test_id("path-status")
    status.get_by_text("3 nodes on the path").wait_for()
    expect(page.locator(".lineage-node.on-path")).to_have_count(3)
    expect(page.locator(".react-flow__edge.edge-on-path")).to_have_count(2)
    expect(page.locator(".lineage-node.dimmed")).to_have_count(2)
    assert "from=" in page.url and "to=" in page.url
    # the URL is the whole state: opened afresh, it shows the same graph
    again, console2 = open_page(page.url.removeprefix(demo.url))
    wait_graph(again)
    node(again, "synthetic/turnout-balanced").wait_for()
    again.get_by_test_id("path-status").get_by_text("3 nodes on the path").wait_for()
    again.get_by_test_id("drawer").wait_for()
    expect(again.locator(".lineage-node")).to_have_count(5)
    assert console.clean() == [] and console2.clean() == []


def test_lineage_controls_colour_filter_depth_collapse(open_page) -> None:
    page, console = open_page(f"/lineage?node={quote('dataset:demo:warehouse/turnout')}&depth=all")
    wait_graph(page)
    total = page.locator(".lineage-node").count()
    assert total > 15
    assert node(page, "models/turnout-train/model", "model_version").count() == 1
    # colour by evaluation status: the failed evaluation of the second version is flagged
    page.get_by_label("Colour nodes by").select_option("evaluation")
    page.locator(".legend").get_by_text("passed / held").wait_for()
    page.locator(".lineage-node .node-flag").first.wait_for()
    assert "color=evaluation" in page.url
    # colour by lifecycle: the withdrawn dataset shows as withdrawn
    page.get_by_label("Colour nodes by").select_option("lifecycle")
    expect(node(page, "warehouse/turnout-masked").locator(".status-withdrawn")).to_have_count(1)
    # hide runs: datasets are joined directly, through the runs they passed
    page.get_by_role("checkbox", name="runs").uncheck()
    expect(page.locator(".lineage-node[data-node-type=run]")).to_have_count(0)
    # (edges are drawn once React Flow has measured the remaining nodes: wait for them)
    expect(page.locator(".react-flow__edge-text", has_text="via").first).to_be_attached()
    assert "hide=run" in page.url
    page.get_by_role("checkbox", name="runs").check()
    expect(nodes(page)).to_have_count(total)
    # collapse downstream of the root: only its upstream stays
    root = node(page, "warehouse/turnout", "dataset_version")
    root.locator('[data-action="collapse-down"]').click()
    expect(nodes(page)).to_have_count(2)  # the root and the run that ingested it
    assert "cd=" in page.url
    root.locator('[data-action="expand-down"]').click()
    expect(nodes(page)).to_have_count(total)
    # depth: one hop each way
    page.get_by_label("Depth: hops loaded each way").select_option("1")
    expect(nodes(page)).to_have_count(3)  # the ingest run before it, the mask run after
    assert "depth=1" in page.url
    # the list view shows the same nodes as plain, keyboard-friendly HTML
    page.get_by_role("button", name="List").click()
    expect(page.locator(".node-list li")).to_have_count(3)
    assert console.clean() == []


def test_lineage_as_of_an_earlier_record(open_page) -> None:
    ref = quote("dataset:demo:warehouse/turnout")
    page, console = open_page(f"/lineage?node={ref}&depth=all&asof=19")
    wait_graph(page)
    page.get_by_text("as of record #19").wait_for()
    # at record 19 no model had been trained yet
    assert node(page, "models/turnout-train/model").count() == 0
    earlier = page.locator(".lineage-node").count()
    page.get_by_role("button", name="Now").click()
    node(page, "models/turnout-train/model").wait_for()
    assert nodes(page).count() > earlier
    assert "asof" not in page.url
    node(page, "models/turnout-train/model").wait_for()
    assert console.clean() == []


def test_keyboard_opens_and_closes_the_drawer(open_page) -> None:
    page, console = open_page(f"/lineage?node={quote(MODEL)}&depth=1")
    wait_graph(page)
    button = node(page, "models/turnout-train/model").locator(".node-main")
    button.focus()
    page.keyboard.press("Enter")
    drawer = page.get_by_test_id("drawer")
    drawer.get_by_text("Fingerprint").wait_for()
    page.keyboard.press("Escape")
    drawer.wait_for(state="detached")
    assert console.clean() == []


def test_dataset_page_versions_schema_evaluations_certificates(open_page, demo: Demo) -> None:
    page, console = open_page(f"/dataset?ref={quote(SYNTHETIC)}")
    page.get_by_role("heading", name="synthetic/turnout", exact=True).wait_for()
    assert page.locator(".timeline-item").count() == 2
    # the latest version is shown: the one whose evaluation failed
    page.locator("#evaluations .pill", has_text="thresholds missed").wait_for()
    # the first version: schema, evaluation charts, certificate, consumers
    page.locator(".timeline-item").first.locator("a").click()
    page.locator("#evaluations .pill", has_text="all thresholds met").wait_for()
    assert page.locator("#schema tbody tr").count() == 5
    assert page.locator("#evaluations svg .bar-row").count() >= 10
    for family in ("fidelity", "privacy", "fairness", "utility"):
        assert page.locator("#evaluations .family-title", has_text=family).count() >= 1
    page.get_by_test_id("certificate").first.wait_for()
    assert "not revoked" in page.locator("#certificates").inner_text()
    assert "synth/turnout-rebalance" in page.locator("#consumers").inner_text()
    assert "active" in page.locator("#lifecycle").inner_text()
    # compare the two versions' upstream
    page.get_by_label("Compare this version with").select_option(index=1)
    page.get_by_role("button", name="Compare", exact=True).click()
    page.locator("#cmp-seeds").wait_for()
    seeds = page.locator("#cmp-seeds").inner_text()
    assert "synth/turnout-generate · numpy" in seeds and "7" in seeds and "8" in seeds
    assert page.locator("tr.differs").count() >= 3
    assert console.clean() == []


def test_run_page_intent_expectations_environment(open_page) -> None:
    page, console = open_page("/")
    page.locator("#recent-runs").wait_for()
    page.goto(page.url.rstrip("/") + "/job?name=" + quote("job:demo:synth/turnout-rebalance"))
    page.locator("#job-runs a").first.click()
    page.get_by_text("reduce class imbalance for fairness evaluation").wait_for()
    assert "expectations held" in page.locator("#intent").inner_text()
    assert "imbalance_ratio(vote) <= 1.5" in page.locator("#intent").inner_text()
    assert "oversample_minority" in page.locator("#parameters").inner_text()
    assert "random_state" in page.locator("#seeds").inner_text()
    assert "commit" in page.locator("#code").inner_text()
    assert page.locator("#environment details summary", has_text="Packages").count() == 1
    assert "synthetic/turnout@" in page.locator("#inputs").inner_text()
    assert "synthetic/turnout-balanced@" in page.locator("#outputs").inner_text()
    assert console.clean() == []


def test_failed_run_shows_its_error(open_page) -> None:
    page, console = open_page("/")
    page.locator("#failed-runs").get_by_text("synth/turnout-generate-large").click()
    page.get_by_text("MemoryError: cannot allocate").wait_for()
    assert "failed" in page.locator(".page-actions").inner_text()
    assert console.clean() == []


def test_viewer_sees_redacted_fields(open_page) -> None:
    page, console = open_page("/", role="viewer")
    page.locator("#failed-runs").get_by_text("synth/turnout-generate-large").click()
    page.locator("#parameters .pill-redacted").wait_for()
    assert page.locator(".pill-redacted").count() >= 2
    page.locator("#run .pill-redacted").wait_for()  # the error message too
    assert page.locator(".pill-redacted").first.inner_text() == "redacted"
    assert console.clean() == []


def test_verify_a_certificate_with_and_without_its_data(open_page, demo: Demo) -> None:
    assert demo.cert is not None
    page, console = open_page(
        f"/dataset?ref={quote(SYNTHETIC)}&v={quote(demo.versions['v1'].split('@', 1)[1])}"
    )
    digest = statement_digest(json.loads(demo.cert.read_text()))
    page.locator(f'a[href="/verify?statement={digest}"]').click()
    page.get_by_text("Verifying certificate").wait_for()
    page.locator("#bundle-file").set_input_files(str(demo.cert))
    page.locator("#data-file").set_input_files(str(demo.directory / "data" / "synthetic.parquet"))
    page.get_by_role("button", name="Verify", exact=True).click()
    verdict = page.get_by_test_id("verdict")
    verdict.get_by_text("VALID", exact=True).wait_for()
    checks = page.locator(".checks li")
    assert checks.count() >= 7
    text = page.locator("#checks").inner_text()
    for plain in (
        "Signed by a trusted key",
        "Provenance records are in the ledger",
        "Not revoked",
        "The data file is the certified data",
    ):
        assert plain in text
    assert "keyring key “release”" in page.locator("#subject").inner_text()
    # another file: the data check fails and says which columns differ
    page.locator("#data-file").set_input_files(str(demo.directory / "data" / "train.parquet"))
    page.get_by_role("button", name="Verify", exact=True).click()
    verdict.get_by_text("INVALID", exact=True).wait_for()
    assert "differs from the certified version" in page.locator(".check-bad").inner_text()
    # not a bundle: a clear message, the page still works
    page.locator("#bundle-file").set_input_files(
        files=[{"name": "notes.json", "mimeType": "application/json", "buffer": b"{not json"}]
    )
    page.get_by_role("button", name="Verify", exact=True).click()
    page.locator(".error-box").get_by_text("is not a bundle").wait_for()
    assert console.clean(RESOURCE_ERRORS) == []


def test_unknown_node_and_page_give_clear_messages(open_page) -> None:
    page, console = open_page("/lineage?node=" + quote("nowhere/nothing"))
    box = page.locator(".error-box")
    box.get_by_text("nothing recorded matches").wait_for()
    assert "Not found" in box.inner_text()
    page.goto(page.url.split("/lineage")[0] + "/dataset?ref=" + quote("dataset:demo:nope"))
    page.locator(".error-box").get_by_text("nothing recorded matches").wait_for()
    page.goto(page.url.split("/dataset")[0] + "/no/such/page")
    page.get_by_text("No such page").wait_for()
    assert console.clean(RESOURCE_ERRORS) == []


def test_expired_token_signs_out_with_the_reason(open_page, demo: Demo) -> None:
    page, console = open_page(f"/lineage?node={quote(MODEL)}", token=demo.tokens["expired"])
    page.get_by_role("heading", name="Sign in").wait_for()
    notice = page.locator(".notice-warn")
    notice.get_by_text("expired").wait_for()
    # signing in again goes back where the link pointed
    page.get_by_label("Token").fill(demo.tokens["analyst"])
    page.get_by_role("button", name="Sign in").click()
    wait_graph(page)
    assert page.locator(".lineage-node").count() > 3
    assert console.clean(RESOURCE_ERRORS) == []


def test_server_down_shows_a_message_not_a_blank_page(open_page, demo: Demo) -> None:
    live = LiveServer(create_app(demo.ledger)).__enter__()
    stopped = False
    try:
        page, _ = open_page("/", role="analyst")  # the token is set for every origin
        page.goto(live.url + "/")
        page.locator("#catalog").get_by_text("synthetic/turnout", exact=True).wait_for()
        live.__exit__()
        stopped = True
        page.locator("#catalog").get_by_text("synthetic/turnout", exact=True).click()
        box = page.locator(".error-box")
        box.get_by_text("Cannot reach the Pedigree server").wait_for()
        assert "pedigree serve" in box.inner_text()
        assert page.get_by_role("button", name="Try again").count() == 1
        assert page.locator(".topbar").count() == 1  # the app still stands
    finally:
        if not stopped:
            live.__exit__()
