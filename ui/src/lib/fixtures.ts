// Small lineage answers shaped like the server's, for the unit tests.
import type { ApiEdge, ApiNode, TraceAnswer } from "./types";

export function version(name: string, v = "aaa", type: ApiNode["type"] = "dataset_version"): ApiNode {
  const prefix = type === "model_version" ? "model" : "dataset";
  return {
    id: `${prefix}:demo:${name}@ptf1:${v}`,
    type,
    label: `${name}@${v}`,
    namespace: "demo",
    name,
    status: "active",
    recorded_at: "2026-01-01T00:00:00Z",
    seq: 1,
    version: `ptf1:${v}`,
  };
}

export function run(name: string, id: string, kind = "transform"): ApiNode {
  return {
    id: `run:${id}`,
    type: "run",
    label: `${name} #${id.slice(0, 8)}`,
    namespace: "demo",
    name,
    status: "completed",
    recorded_at: "2026-01-01T00:00:00Z",
    seq: 2,
    run_id: id,
    kind,
  };
}

export function edge(source: ApiNode, target: ApiNode, kind: string, role?: string): ApiEdge {
  return { source: source.id, target: target.id, kind, ...(role ? { role } : {}) };
}

export function answer(roots: ApiNode[], nodes: [ApiNode, number][], edges: ApiEdge[]): TraceAnswer {
  return {
    query: { node: roots[0].id },
    roots: roots.map((r) => r.id),
    nodes: nodes.map(([n, d]) => ({ ...n, distance: d })),
    edges,
    hidden_nodes: 0,
  };
}

// raw -> mask -> masked -> generate -> synthetic -> train -> model
export const raw = version("warehouse/raw", "r1");
export const mask = run("synth/mask", "11111111-aaaa");
export const masked = version("warehouse/masked", "m1");
export const generate = run("synth/generate", "22222222-bbbb", "generate");
export const synthetic = version("synthetic/table", "s1");
export const train = run("models/train", "33333333-cccc", "train");
export const model = version("models/model", "x1", "model_version");
export const score = run("models/score", "44444444-dddd", "evaluate");

export const chain: ApiEdge[] = [
  edge(raw, mask, "used"),
  edge(mask, masked, "generated"),
  edge(masked, generate, "used", "real"),
  edge(generate, synthetic, "generated"),
  edge(synthetic, train, "trained_on", "training"),
  edge(train, model, "generated"),
  edge(model, score, "used"),
];
