// Comparing the upstream of two dataset (or model) versions: which input versions, and
// which parameters, seeds, code and environment of the runs that made them, differ.

import { asRecord, isRedacted } from "./values";
import type { ApiNode } from "./types";

export interface RunFacts {
  job: string;
  runId: string;
  kind: string;
  status: string;
  parameters: unknown;
  seeds: unknown;
  code: unknown;
  environment: unknown;
  intent: unknown;
}

export interface Profile {
  /** The version compared. */
  target: ApiNode;
  fingerprint: string | null;
  rowCount: unknown;
  columns: unknown;
  /** Every version upstream, by its dataset (`ns:name`). */
  versions: Map<string, Set<string>>;
  /** The runs upstream, by job (`ns:name`); a job run twice upstream lists both. */
  runs: Map<string, RunFacts[]>;
  /** The runs that generated the target itself. */
  producers: string[];
}

export type Section = "content" | "inputs" | "parameters" | "seeds" | "code" | "environment";

export interface Row {
  section: Section;
  /** What the row is about: a dataset, or `job · field`. */
  key: string;
  a: string;
  b: string;
  same: boolean;
}

export const SECTION_TITLES: Record<Section, string> = {
  content: "Content",
  inputs: "Upstream versions",
  parameters: "Parameters",
  seeds: "Seeds",
  code: "Code",
  environment: "Environment",
};

/** A value as one comparable line (redaction markers say so; objects sorted). */
export function show(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (isRedacted(value)) return `[redacted: ${value.reason}]`;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  const record = asRecord(value);
  if (!record) return value;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((k) => [k, sortKeys(record[k])]),
  );
}

/** Flatten one level: `{a: 1, b: {c: 2}}` -> `[["a", 1], ["b", {c: 2}]]`; a non-object
 * (or redacted) value is one entry named "". */
function fields(value: unknown): Map<string, unknown> {
  const record = asRecord(value);
  if (!record) return new Map(value === undefined || value === null ? [] : [["", value]]);
  return new Map(Object.entries(record));
}

function rowsFor(section: Section, prefix: string, a: unknown, b: unknown): Row[] {
  const fa = fields(a);
  const fb = fields(b);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  return keys.map((k) => {
    const va = show(fa.get(k));
    const vb = show(fb.get(k));
    return { section, key: k ? `${prefix} · ${k}` : prefix, a: va, b: vb, same: va === vb };
  });
}

function environmentSummary(env: unknown): unknown {
  const record = asRecord(env);
  if (!record) return env;
  return {
    python: record.python,
    os: record.os,
    packages: record.packages_digest ?? record.packages,
  };
}

/** Row by row, what differs between the upstream of ``a`` and of ``b``. Runs are matched
 * by job; a job only on one side shows as missing on the other. */
export function compareProfiles(a: Profile, b: Profile): Row[] {
  const rows: Row[] = [];
  const content: [string, unknown, unknown][] = [
    ["dataset", `${a.target.namespace}:${a.target.name}`, `${b.target.namespace}:${b.target.name}`],
    ["version", a.target.version, b.target.version],
    ["fingerprint", a.fingerprint, b.fingerprint],
    ["rows", a.rowCount, b.rowCount],
    ["columns", a.columns, b.columns],
  ];
  for (const [key, va, vb] of content) {
    const sa = show(va);
    const sb = show(vb);
    rows.push({ section: "content", key, a: sa, b: sb, same: sa === sb });
  }
  const datasets = [...new Set([...a.versions.keys(), ...b.versions.keys()])].sort();
  for (const name of datasets) {
    const va = [...(a.versions.get(name) ?? [])].sort().join(", ") || "—";
    const vb = [...(b.versions.get(name) ?? [])].sort().join(", ") || "—";
    rows.push({ section: "inputs", key: name, a: va, b: vb, same: va === vb });
  }
  const jobs = [...new Set([...a.runs.keys(), ...b.runs.keys()])].sort();
  for (const job of jobs) {
    const ra = a.runs.get(job) ?? [];
    const rb = b.runs.get(job) ?? [];
    const count = Math.max(ra.length, rb.length);
    for (let i = 0; i < count; i++) {
      const x = ra[i];
      const y = rb[i];
      const label = count > 1 ? `${job} (${i + 1})` : job;
      rows.push(...rowsFor("parameters", label, x?.parameters, y?.parameters));
      rows.push(...rowsFor("seeds", label, x?.seeds, y?.seeds));
      rows.push(...rowsFor("code", label, x?.code, y?.code));
      rows.push(
        ...rowsFor("environment", label, environmentSummary(x?.environment), environmentSummary(y?.environment)),
      );
    }
  }
  return rows;
}

export function differences(rows: Row[]): Row[] {
  return rows.filter((r) => !r.same);
}

/** Run facts from a run record body (fields may be redacted for the role). */
export function runFacts(body: Record<string, unknown>): RunFacts {
  const job = asRecord(body.job);
  return {
    job: job ? `${job.namespace}:${job.name}` : "?",
    runId: String(body.run_id ?? ""),
    kind: String(body.kind ?? ""),
    status: String(body.status ?? ""),
    parameters: body.parameters,
    seeds: body.seeds,
    code: body.code,
    environment: body.environment,
    intent: body.intent,
  };
}
