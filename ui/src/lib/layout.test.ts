import ELK from "elkjs/lib/elk.bundled.js";
import { describe, expect, it } from "vitest";
import { FAST_LAYOUT_FROM, FAST_LAYOUT_OPTIONS, LAYOUT_OPTIONS, NODE_WIDTH, elkInput, layout, overlaps, placeNear, quickLayers } from "./layout";

const edges = [
  { id: "e1", source: "a", target: "r" },
  { id: "e2", source: "r", target: "b" },
  { id: "e3", source: "r", target: "c" },
  { id: "e4", source: "b", target: "zz" }, // to a node not drawn: dropped
  { id: "e5", source: "a", target: "a" }, // self-loop: dropped
  { id: "e6", source: "a", target: "r" }, // parallel: routed once
];

describe("elkInput", () => {
  it("gives fixed-size boxes in a stable order and only drawable edges", () => {
    const input = elkInput(["r", "c", "a", "b", "a"], edges);
    expect(input.children!.map((c) => c.id)).toEqual(["a", "b", "c", "r"]);
    expect(input.children!.every((c) => c.width === NODE_WIDTH)).toBe(true);
    expect(input.edges!.map((e) => e.id)).toEqual(["e1", "e2", "e3"]);
    expect(input.layoutOptions!["elk.algorithm"]).toBe("layered");
    expect(input.layoutOptions!["elk.direction"]).toBe("RIGHT");
    expect(input.layoutOptions).toBe(LAYOUT_OPTIONS);
  });

  it("switches to the fast options for large graphs", () => {
    const ids = Array.from({ length: FAST_LAYOUT_FROM + 1 }, (_, i) => `n${i}`);
    const input = elkInput(ids, []);
    expect(input.layoutOptions).toBe(FAST_LAYOUT_OPTIONS);
    expect(input.layoutOptions!["elk.algorithm"]).toBe("layered");
  });
});

describe("layout", () => {
  it("puts upstream left of downstream without overlaps", async () => {
    const positions = await layout(["a", "r", "b", "c"], edges, new ELK());
    expect(positions.size).toBe(4);
    expect(positions.get("a")!.x).toBeLessThan(positions.get("r")!.x);
    expect(positions.get("r")!.x).toBeLessThan(positions.get("b")!.x);
    expect(positions.get("b")!.x).toBe(positions.get("c")!.x);
    expect(overlaps(positions)).toBeNull();
  });

  it("lays out a large layered graph left to right without overlaps", async () => {
    const ids: string[] = [];
    const chain: { id: string; source: string; target: string }[] = [];
    for (let lane = 0; lane < 8; lane++) {
      for (let step = 0; step < 25; step++) {
        ids.push(`l${lane}s${step}`);
        if (step > 0) chain.push({ id: `e${lane}-${step}`, source: `l${lane}s${step - 1}`, target: `l${lane}s${step}` });
      }
    }
    const positions = await layout(ids, chain, new ELK());
    expect(positions.size).toBe(200);
    expect(positions.get("l0s0")!.x).toBeLessThan(positions.get("l0s24")!.x);
    expect(overlaps(positions)).toBeNull();
  });

  it("gives a quick layered placement: every edge points right, no overlaps", () => {
    const ids: string[] = [];
    const links: { id: string; source: string; target: string }[] = [];
    for (let g = 0; g < 12; g++) {
      for (let l = 0; l < 6; l++) {
        ids.push(`g${g}l${l}`);
        if (g > 0) {
          links.push({ id: `a${g}${l}`, source: `g${g - 1}l${l}`, target: `g${g}l${l}` });
          links.push({ id: `b${g}${l}`, source: `g${g - 1}l${(l + 1) % 6}`, target: `g${g}l${l}` });
        }
      }
    }
    links.push({ id: "skip", source: "g0l0", target: "g11l0" }); // a long edge: still rightwards
    const positions = quickLayers(ids, links);
    expect(positions.size).toBe(72);
    for (const e of links) expect(positions.get(e.source)!.x).toBeLessThan(positions.get(e.target)!.x);
    expect(overlaps(positions)).toBeNull();
    expect(quickLayers([...ids].reverse(), links)).toEqual(positions); // deterministic
    // a cycle (never recorded, but never a hang) keeps its nodes placed
    expect(quickLayers(["x", "y"], [{ id: "1", source: "x", target: "y" }, { id: "2", source: "y", target: "x" }]).size).toBe(2);
  });

  it("places expanded nodes beside their anchor at once", () => {
    const start = new Map([["r", { x: 500, y: 100 }]]);
    const up = placeNear(start, "r", ["p", "q", "r"], "up");
    expect(up.get("r")).toEqual({ x: 500, y: 100 });
    expect(up.get("p")!.x).toBeLessThan(500);
    expect(up.get("p")!.x).toBe(up.get("q")!.x);
    expect(overlaps(up)).toBeNull();
    const down = placeNear(start, "r", ["d"], "down");
    expect(down.get("d")!.x).toBeGreaterThan(500);
    expect(down.get("d")!.y).toBe(100);
  });
});
