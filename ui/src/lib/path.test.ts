import { describe, expect, it } from "vitest";
import { edgeKey, emptyGraph, mergeTrace, shown, visibleNodes } from "./graph";
import { edgeOnPath, nextPathSelection, pathHighlight } from "./path";
import { answer, chain, generate, mask, masked, model, raw, score, synthetic, train } from "./fixtures";

const pathAnswer = {
  connected: true,
  ...answer([raw], [[raw, 0], [mask, 1], [masked, 2], [generate, 3], [synthetic, 4]], chain.slice(0, 4)),
};

describe("pathHighlight", () => {
  it("lights the path's nodes and edges", () => {
    const h = pathHighlight(pathAnswer);
    expect(h.connected).toBe(true);
    expect(h.nodes.size).toBe(5);
    expect([...h.edges]).toEqual(chain.slice(0, 4).map(edgeKey));
  });

  it("lights nothing when not connected", () => {
    const h = pathHighlight({ connected: false });
    expect(h.connected).toBe(false);
    expect(h.nodes.size).toBe(0);
  });

  it("marks bridged edges whose ends are on the path", () => {
    const g = mergeTrace(emptyGraph(), answer([synthetic], [[raw, 4], [mask, 3], [masked, 2], [generate, 1], [synthetic, 0], [train, 1], [model, 2], [score, 3]], chain), null, null);
    const h = pathHighlight(pathAnswer);
    const drawn = shown(g, visibleNodes(g), ["run"]);
    const lit = drawn.edges.filter((e) => edgeOnPath(e, h)).map((e) => `${e.source}>${e.target}`);
    expect(lit.sort()).toEqual([`${raw.id}>${masked.id}`, `${masked.id}>${synthetic.id}`].sort());
    const plain = shown(g, visibleNodes(g));
    expect(plain.edges.filter((e) => edgeOnPath(e, h)).length).toBe(4);
  });
});

describe("nextPathSelection", () => {
  it("start, end, then start over", () => {
    let s = nextPathSelection(null, null, "a");
    expect(s).toEqual({ from: "a", to: null });
    s = nextPathSelection(s.from, s.to, "b");
    expect(s).toEqual({ from: "a", to: "b" });
    s = nextPathSelection(s.from, s.to, "c");
    expect(s).toEqual({ from: "c", to: null });
    expect(nextPathSelection("c", null, "c")).toEqual({ from: null, to: null });
  });
});
