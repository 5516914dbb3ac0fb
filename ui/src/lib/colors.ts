// Node colours for the three colour modes, with a legend for each.

import { category } from "./graph";
import type { ColorMode } from "./route";
import type { ApiNode } from "./types";
import type { Verdict } from "./evaluations";

export interface Swatch {
  key: string;
  label: string;
  fill: string;
  stroke: string;
}

const KIND: Record<string, Swatch> = {
  dataset: { key: "dataset", label: "dataset", fill: "#e8f0fe", stroke: "#2f6fdb" },
  model: { key: "model", label: "model", fill: "#f3e8fd", stroke: "#8a3ffc" },
  run: { key: "run", label: "run", fill: "#fff4e0", stroke: "#c77700" },
};

const LIFECYCLE: Record<string, Swatch> = {
  active: { key: "active", label: "active", fill: "#e6f6ec", stroke: "#1e8e3e" },
  deprecated: { key: "deprecated", label: "deprecated", fill: "#fff6d6", stroke: "#b08500" },
  withdrawn: { key: "withdrawn", label: "withdrawn", fill: "#fde8e7", stroke: "#c5221f" },
  retired: { key: "retired", label: "retired", fill: "#eceff1", stroke: "#607d8b" },
  purged: { key: "purged", label: "purged", fill: "#e0e0e0", stroke: "#424242" },
  completed: { key: "completed", label: "run completed", fill: "#f1f5f9", stroke: "#64748b" },
  running: { key: "running", label: "run running", fill: "#e0f2fe", stroke: "#0284c7" },
  failed: { key: "failed", label: "run failed", fill: "#fde8e7", stroke: "#c5221f" },
  aborted: { key: "aborted", label: "run aborted", fill: "#fdf0e6", stroke: "#b45309" },
};

const VERDICT: Record<Verdict, Swatch> = {
  passed: { key: "passed", label: "passed / held", fill: "#e6f6ec", stroke: "#1e8e3e" },
  failed: { key: "failed", label: "failed", fill: "#fde8e7", stroke: "#c5221f" },
  none: { key: "none", label: "not evaluated", fill: "#f8fafc", stroke: "#94a3b8" },
  redacted: { key: "redacted", label: "redacted", fill: "#eef0f3", stroke: "#9aa5b1" },
};

const UNKNOWN: Swatch = { key: "other", label: "other", fill: "#f8fafc", stroke: "#94a3b8" };

export function swatchFor(node: ApiNode, mode: ColorMode, verdict: Verdict = "none"): Swatch {
  if (mode === "kind") return KIND[category(node)];
  if (mode === "lifecycle") return LIFECYCLE[node.status] ?? UNKNOWN;
  return VERDICT[verdict];
}

export function legend(mode: ColorMode): Swatch[] {
  if (mode === "kind") return Object.values(KIND);
  if (mode === "lifecycle") return Object.values(LIFECYCLE);
  return Object.values(VERDICT);
}
