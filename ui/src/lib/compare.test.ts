import { describe, expect, it } from "vitest";
import { compareProfiles, differences, runFacts, show, type Profile } from "./compare";
import { synthetic, version } from "./fixtures";

function profile(v: string, seed: number, params: Record<string, unknown>, input: string): Profile {
  const body = {
    job: { namespace: "demo", name: "synth/generate" },
    run_id: `run-${v}`,
    kind: "generate",
    status: "completed",
    parameters: params,
    seeds: { numpy: seed },
    code: { commit: "abc", dirty: false },
    environment: { python: "3.11", os: "Linux", packages_digest: "sha256:1", variables: {} },
  };
  return {
    target: { ...synthetic, version: `ptf1:${v}` },
    fingerprint: `ptf1:${v}`,
    rowCount: 1000,
    columns: [{ name: "age", type: "int" }],
    versions: new Map([["demo:warehouse/train", new Set([input])]]),
    runs: new Map([["demo:synth/generate", [runFacts(body)]]]),
    producers: [`run:run-${v}`],
  };
}

describe("compareProfiles", () => {
  it("names exactly what differs upstream", () => {
    const a = profile("s1", 7, { method: "copula", rows: 1000 }, "ptf1:t1");
    const b = profile("s2", 8, { method: "copula", rows: 1000 }, "ptf1:t2");
    const diff = differences(compareProfiles(a, b)).map((r) => `${r.section}:${r.key}:${r.a}:${r.b}`);
    expect(diff).toEqual([
      "content:version:ptf1:s1:ptf1:s2",
      "content:fingerprint:ptf1:s1:ptf1:s2",
      "inputs:demo:warehouse/train:ptf1:t1:ptf1:t2",
      "seeds:demo:synth/generate · numpy:7:8",
    ]);
  });

  it("shows a job on one side only as missing on the other", () => {
    const a = profile("s1", 7, { rows: 1 }, "ptf1:t1");
    const b = profile("s1", 7, { rows: 1 }, "ptf1:t1");
    b.runs = new Map();
    const rows = differences(compareProfiles(a, b));
    expect(rows.find((r) => r.key === "demo:synth/generate · rows")).toMatchObject({ a: "1", b: "—" });
  });

  it("shows redacted values as such", () => {
    expect(show({ redacted: true, reason: "summary" })).toBe("[redacted: summary]");
    expect(show({ b: 1, a: [2] })).toBe('{"a":[2],"b":1}');
    expect(show(null)).toBe("—");
    const a = profile("s1", 7, { rows: 1 }, "ptf1:t1");
    a.runs.get("demo:synth/generate")![0].parameters = { redacted: true, reason: "summary" };
    const rows = compareProfiles(a, profile("s1", 7, { rows: 1 }, "ptf1:t1"));
    expect(rows.some((r) => r.section === "parameters" && r.a === "[redacted: summary]")).toBe(true);
  });

  it("compares different datasets too", () => {
    const other = { ...profile("s1", 7, {}, "ptf1:t1"), target: version("other/table", "o1") };
    const rows = compareProfiles(profile("s1", 7, {}, "ptf1:t1"), other);
    expect(rows.find((r) => r.key === "dataset")!.same).toBe(false);
  });
});
