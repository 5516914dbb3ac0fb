import { describe, expect, it } from "vitest";
import {
  canExpand,
  edgeKey,
  edgeLabel,
  emptyGraph,
  mergeTrace,
  nodeTitle,
  shown,
  toggle,
  visibleNodes,
} from "./graph";
import { answer, chain, edge, generate, mask, masked, model, raw, score, synthetic, train, version } from "./fixtures";

const [, , , e4, e5, e6] = chain;

function modelDepth2() {
  // trace up from the model with depth 2: model, train, synthetic
  return mergeTrace(emptyGraph(), answer([model], [[model, 0], [train, 1], [synthetic, 2]], [e5, e6]), "up", 2);
}

describe("mergeTrace", () => {
  it("adds nodes and edges and marks nodes inside the depth as loaded", () => {
    const g = modelDepth2();
    expect([...g.nodes.keys()].sort()).toEqual([model.id, synthetic.id, train.id].sort());
    expect(g.edges.size).toBe(2);
    expect(g.roots).toEqual([model.id]);
    expect(g.loadedUp.has(model.id)).toBe(true);
    expect(g.loadedUp.has(train.id)).toBe(true);
    expect(g.loadedUp.has(synthetic.id)).toBe(false); // at the frontier
    expect(canExpand(g, synthetic.id, "up")).toBe(true);
    expect(canExpand(g, model.id, "up")).toBe(false);
    expect(canExpand(g, model.id, "down")).toBe(true);
  });

  it("expanding one hop merges without duplicates and keeps the roots", () => {
    const g = modelDepth2();
    const expanded = mergeTrace(g, answer([synthetic], [[synthetic, 0], [generate, 1]], [e4]), "up", 1);
    expect(expanded.nodes.size).toBe(4);
    expect(expanded.edges.size).toBe(3);
    expect(expanded.roots).toEqual([model.id]);
    expect(expanded.loadedUp.has(synthetic.id)).toBe(true);
    expect(expanded.loadedUp.has(generate.id)).toBe(false);
    // the same answer again changes nothing
    const again = mergeTrace(expanded, answer([synthetic], [[synthetic, 0], [generate, 1]], [e4]), "up", 1);
    expect(again.nodes.size).toBe(4);
    expect(again.edges.size).toBe(3);
    // the input graph is not modified
    expect(g.nodes.size).toBe(3);
  });

  it("an unlimited depth marks every node loaded that way", () => {
    const g = mergeTrace(
      emptyGraph(),
      answer([model], [[model, 0], [train, 1], [synthetic, 2], [generate, 3], [masked, 4], [mask, 5], [raw, 6]], chain.slice(0, 6)),
      "up",
      null,
    );
    expect(g.loadedUp.size).toBe(7);
    expect(g.loadedDown.size).toBe(0);
  });

  it("drops distance from the stored nodes and skips edges to unknown nodes", () => {
    const g = mergeTrace(emptyGraph(), answer([model], [[model, 0]], [e5]), "up", 1);
    expect(g.nodes.get(model.id)).not.toHaveProperty("distance");
    expect(g.edges.size).toBe(0);
  });
});

function fullGraph() {
  return mergeTrace(
    emptyGraph(),
    answer([synthetic], [[raw, 4], [mask, 3], [masked, 2], [generate, 1], [synthetic, 0], [train, 1], [model, 2], [score, 3]], chain),
    null,
    null,
  );
}

describe("visibleNodes", () => {
  it("shows everything connected to the roots", () => {
    expect(visibleNodes(fullGraph()).size).toBe(8);
  });

  it("collapsing upstream hides what only that node leads to", () => {
    const v = visibleNodes(fullGraph(), { up: new Set([masked.id]), down: new Set() });
    expect(v.has(masked.id)).toBe(true);
    expect(v.has(mask.id)).toBe(false);
    expect(v.has(raw.id)).toBe(false);
    expect(v.has(model.id)).toBe(true);
  });

  it("collapsing downstream of the root hides the downstream side", () => {
    const v = visibleNodes(fullGraph(), { up: new Set(), down: new Set([synthetic.id]) });
    expect([...v].sort()).toEqual([raw.id, mask.id, masked.id, generate.id, synthetic.id].sort());
  });

  it("a node reachable another way stays visible", () => {
    // a second input: raw is also used directly by generate
    const g = mergeTrace(fullGraph(), answer([synthetic], [[raw, 2]], [edge(raw, generate, "used", "extra")]), null, null);
    const v = visibleNodes(g, { up: new Set([masked.id]), down: new Set() });
    expect(v.has(raw.id)).toBe(true);
    expect(v.has(mask.id)).toBe(true); // raw's downstream is still open
  });

  it("keeps extra nodes such as a path's", () => {
    const g = fullGraph();
    const v = visibleNodes(g, { up: new Set([synthetic.id]), down: new Set([synthetic.id]) }, [raw.id]);
    expect(v.has(raw.id)).toBe(true);
    expect(v.has(synthetic.id)).toBe(true);
  });
});

describe("shown with a kind filter", () => {
  it("without a filter draws every visible node and edge", () => {
    const g = fullGraph();
    const s = shown(g, visibleNodes(g));
    expect(s.nodes.length).toBe(8);
    expect(s.edges.length).toBe(7);
    expect(s.edges.every((e) => e.id === edgeKey(e))).toBe(true);
  });

  it("hiding runs joins datasets directly, naming the runs passed through", () => {
    const g = fullGraph();
    const s = shown(g, visibleNodes(g), ["run"]);
    expect(s.nodes.map((n) => n.id).sort()).toEqual([raw.id, masked.id, synthetic.id, model.id].sort());
    const pairs = s.edges.map((e) => `${e.source}>${e.target}`).sort();
    expect(pairs).toEqual(
      [`${raw.id}>${masked.id}`, `${masked.id}>${synthetic.id}`, `${synthetic.id}>${model.id}`].sort(),
    );
    const bridge = s.edges.find((e) => e.source === masked.id)!;
    expect(bridge.kind).toBe("via");
    expect(bridge.via).toEqual(["synth/generate"]);
    expect(edgeLabel(bridge)).toBe("via synth/generate");
  });

  it("hiding datasets keeps run-to-run chains", () => {
    const g = fullGraph();
    const s = shown(g, visibleNodes(g), ["dataset"]);
    expect(s.nodes.map((n) => n.id).sort()).toEqual([mask.id, generate.id, train.id, model.id, score.id].sort());
    expect(s.edges.some((e) => e.source === mask.id && e.target === generate.id)).toBe(true);
    expect(s.edges.some((e) => e.source === train.id && e.target === model.id && e.kind === "generated")).toBe(true);
  });
});

describe("labels", () => {
  it("names edge kinds in words", () => {
    expect(edgeLabel({ kind: "trained_on", role: "training" })).toBe("trained on (training)");
    expect(edgeLabel({ kind: "derived_from" })).toBe("derived");
    expect(edgeLabel({ kind: "used" })).toBe("used");
    expect(edgeLabel({ kind: "via", via: ["a", "b"] })).toBe("via 2 steps");
  });

  it("titles nodes by name with kind and short version", () => {
    expect(nodeTitle(train)).toEqual({ title: "models/train", subtitle: "train run · #33333333" });
    expect(nodeTitle(version("a/b", "abc"))).toEqual({ title: "a/b", subtitle: "dataset · @abc" });
    expect(nodeTitle(model).subtitle).toBe("model · @x1");
  });

  it("toggles ids in URL lists", () => {
    expect(toggle(["a"], "b", true)).toEqual(["a", "b"]);
    expect(toggle(["a", "b"], "a", false)).toEqual(["b"]);
    expect(toggle(["a"], "a", true)).toEqual(["a"]);
  });
});
