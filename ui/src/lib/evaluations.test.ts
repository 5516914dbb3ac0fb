import { describe, expect, it } from "vitest";
import { byFamily, failedHeadlines, guessFamily, latestByTarget, nodeKeys, parseEvaluation, targetKey, verdictOf } from "./evaluations";
import { isRedacted, shortHash } from "./values";
import type { AnnotationBody, LogEntry } from "./types";

function entry(seq: number, body: AnnotationBody["body"], target: AnnotationBody["target"] = { type: "version", namespace: "demo", name: "s", version: "ptf1:1" }, kind = "evaluation"): LogEntry<AnnotationBody> {
  return { seq, time: "2026-01-01T00:00:00Z", actor: "me", schema: "pedigree.annotation/1", body: { kind, target, body } };
}

const evaluation = entry(30, {
  passed: false,
  summary: "1/3 thresholds missed",
  headline: {
    quality_score: { value: 0.95, threshold: 0.75, passed: true },
    membership_inference_risk: { value: 0.3, threshold: 0.2, passed: false, ci: [0.2, 0.4] },
    utility_ratio: { value: 0.9, threshold: 0.8, passed: true, columns: ["vote"] },
  },
  metrics: [
    { name: "quality_score", family: "fidelity", value: 0.95, higher_is_better: true },
    { name: "membership_inference_risk", family: "privacy", value: 0.3, higher_is_better: false },
  ],
});

describe("evaluations", () => {
  it("reads headline figures with their family, threshold and direction", () => {
    const e = parseEvaluation(evaluation);
    expect(e.passed).toBe(false);
    expect(e.headline).toHaveLength(3);
    const risk = e.headline.find((h) => h.name === "membership_inference_risk")!;
    expect(risk).toMatchObject({ family: "privacy", higherIsBetter: false, passed: false, ci: [0.2, 0.4] });
    expect(e.headline.find((h) => h.name === "utility_ratio")!.family).toBe("utility");
    expect(failedHeadlines(e).map((h) => h.name)).toEqual(["membership_inference_risk"]);
    expect(byFamily(e.headline).map(([f]) => f)).toEqual(["fidelity", "privacy", "utility"]);
  });

  it("a redacted body is marked, not parsed", () => {
    const e = parseEvaluation(entry(1, { redacted: true, reason: "summary" }));
    expect(e.redacted).toBe(true);
    expect(e.headline).toEqual([]);
    expect(verdictOf(entry(1, { redacted: true, reason: "summary" }))).toBe("redacted");
  });

  it("guesses families from names", () => {
    expect(guessFamily("dcr_share_closer_to_train")).toBe("privacy");
    expect(guessFamily("disparate_impact_difference")).toBe("fairness");
    expect(guessFamily("column_shapes")).toBe("fidelity");
  });

  it("keys targets like nodes and keeps the latest per target", () => {
    const node = { id: "dataset:demo:s@ptf1:1", type: "dataset_version", namespace: "demo", name: "s", version: "ptf1:1" };
    expect(nodeKeys(node)).toContain(targetKey(evaluation.body.target));
    expect(targetKey({ type: "run", id: "abc" })).toBe("run:abc");
    const later = entry(40, { passed: true });
    const latest = latestByTarget([later, evaluation]);
    expect(latest.size).toBe(1);
    expect(verdictOf(latest.get("demo:s@ptf1:1"))).toBe("passed");
    expect(verdictOf(entry(2, { held: false }, { type: "run", id: "r" }, "expectations"))).toBe("failed");
    expect(verdictOf(undefined)).toBe("none");
  });
});

describe("values", () => {
  it("recognises only the exact redaction marker", () => {
    expect(isRedacted({ redacted: true, reason: "confidential" })).toBe(true);
    expect(isRedacted({ redacted: true, reason: "x", other: 1 })).toBe(false);
    expect(isRedacted({ redacted: "yes", reason: "x" })).toBe(false);
    expect(isRedacted(null)).toBe(false);
  });

  it("shortens hashes after their algorithm", () => {
    expect(shortHash("ptf1:776086f25cce20a74907")).toBe("ptf1:776086f25cce");
    expect(shortHash("abcdef0123456789", 6)).toBe("abcdef");
  });
});
