// Evaluation annotations (from `pedigree eval`) as chart data, and annotation helpers.

import { isRedacted } from "./values";
import type { AnnotationBody, LogEntry } from "./types";

export type Family = "fidelity" | "privacy" | "fairness" | "utility" | "other";
export const FAMILIES: Family[] = ["fidelity", "privacy", "fairness", "utility", "other"];

export interface Headline {
  name: string;
  family: Family;
  value: number | null;
  threshold: number | null;
  passed: boolean | null;
  higherIsBetter: boolean;
  ci: [number, number] | null;
  columns: string[];
}

export interface Metric {
  name: string;
  family: Family;
  value: number | null;
  columns: string[];
  higherIsBetter: boolean;
}

export interface Evaluation {
  seq: number;
  time: string;
  actor: string;
  passed: boolean | null;
  summary: string | null;
  thresholdSource: string | null;
  headline: Headline[];
  metrics: Metric[];
  redacted: boolean;
}

function asNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function asFamily(value: unknown): Family {
  return FAMILIES.includes(value as Family) ? (value as Family) : "other";
}

/** The family of a headline figure: as its metric says, else from its name. */
export function guessFamily(name: string): Family {
  if (/risk|dcr|copy|singling|linkab|membership|inference|privacy/.test(name)) return "privacy";
  if (/disparate|subgroup|label_rate|fair|parity|equal/.test(name)) return "fairness";
  if (/utility|accuracy|auc|f1|tstr/.test(name)) return "utility";
  if (/quality|shape|trend|fidelity|detection|coverage|ks_|tv_|psi|similar/.test(name)) return "fidelity";
  return "other";
}

export function parseEvaluation(entry: LogEntry<AnnotationBody>): Evaluation {
  const body = entry.body.body;
  const base = {
    seq: entry.seq,
    time: entry.time,
    actor: entry.actor,
  };
  if (isRedacted(body) || typeof body !== "object" || body === null) {
    return { ...base, passed: null, summary: null, thresholdSource: null, headline: [], metrics: [], redacted: true };
  }
  const b = body as Record<string, unknown>;
  const metrics: Metric[] = Array.isArray(b.metrics)
    ? (b.metrics as Record<string, unknown>[])
        .filter((m) => m && typeof m === "object" && typeof m.name === "string")
        .map((m) => ({
          name: String(m.name),
          family: asFamily(m.family),
          value: asNumber(m.value),
          columns: Array.isArray(m.columns) ? m.columns.map(String) : [],
          higherIsBetter: m.higher_is_better !== false,
        }))
    : [];
  const byName = new Map(metrics.map((m) => [m.name, m]));
  const headline: Headline[] = [];
  if (b.headline && typeof b.headline === "object" && !isRedacted(b.headline)) {
    for (const [name, raw] of Object.entries(b.headline as Record<string, unknown>)) {
      if (!raw || typeof raw !== "object" || isRedacted(raw)) continue;
      const h = raw as Record<string, unknown>;
      const metric = byName.get(name);
      const value = asNumber(h.value);
      const threshold = asNumber(h.threshold);
      const passed = typeof h.passed === "boolean" ? h.passed : null;
      let higherIsBetter = metric?.higherIsBetter ?? true;
      if (!metric && value !== null && threshold !== null && passed !== null && value !== threshold) {
        higherIsBetter = passed === value > threshold;
      }
      const ci = Array.isArray(h.ci) && h.ci.length === 2 ? [Number(h.ci[0]), Number(h.ci[1])] : null;
      headline.push({
        name,
        family: metric?.family ?? guessFamily(name),
        value,
        threshold,
        passed,
        higherIsBetter,
        ci: ci as [number, number] | null,
        columns: Array.isArray(h.columns) ? h.columns.map(String) : [],
      });
    }
  }
  return {
    ...base,
    passed: typeof b.passed === "boolean" ? b.passed : null,
    summary: typeof b.summary === "string" ? b.summary : null,
    thresholdSource: typeof b.threshold_source === "string" ? b.threshold_source : null,
    headline,
    metrics,
    redacted: false,
  };
}

export function byFamily<T extends { family: Family }>(items: T[]): [Family, T[]][] {
  return FAMILIES.map((f) => [f, items.filter((i) => i.family === f)] as [Family, T[]]).filter(
    ([, list]) => list.length > 0,
  );
}

/** Headline figures that missed their threshold. */
export function failedHeadlines(evaluation: Evaluation): Headline[] {
  return evaluation.headline.filter((h) => h.passed === false);
}

/** The key an annotation target and a lineage node share: `ns:name@version`, `ns:name`
 * for a whole dataset, `run:<id>` for a run. */
export function targetKey(target: AnnotationBody["target"]): string {
  if (target.type === "run") return `run:${target.id}`;
  if (target.type === "version") return `${target.namespace}:${target.name}@${target.version}`;
  return `${target.namespace}:${target.name}`;
}

export function nodeKeys(node: { type: string; namespace: string; name: string; version?: string; id: string }): string[] {
  if (node.type === "run") return [node.id];
  return [`${node.namespace}:${node.name}@${node.version}`, `${node.namespace}:${node.name}`];
}

/** The latest annotation of each target (annotations arrive oldest first). */
export function latestByTarget(entries: LogEntry<AnnotationBody>[]): Map<string, LogEntry<AnnotationBody>> {
  const out = new Map<string, LogEntry<AnnotationBody>>();
  for (const entry of [...entries].sort((a, b) => a.seq - b.seq)) out.set(targetKey(entry.body.target), entry);
  return out;
}

export type Verdict = "passed" | "failed" | "none" | "redacted";

/** passed / failed for a node from its latest evaluation or expectations annotation. */
export function verdictOf(entry: LogEntry<AnnotationBody> | undefined): Verdict {
  if (!entry) return "none";
  const body = entry.body.body;
  if (isRedacted(body)) return "redacted";
  const b = body as Record<string, unknown>;
  const ok = typeof b.passed === "boolean" ? b.passed : typeof b.held === "boolean" ? b.held : null;
  if (ok === null) return "none";
  return ok ? "passed" : "failed";
}
