import { describe, expect, it } from "vitest";
import { defaultLineage, formatRoute, href, lineageQuery, pageFor, parseLineage, parseRoute, seriesRef } from "./route";

describe("lineage URL state", () => {
  it("round-trips every field", () => {
    const state = {
      ...defaultLineage("model:demo:models/m@sha256:abc"),
      depth: 4,
      asOf: "19",
      color: "evaluation" as const,
      hide: ["run" as const, "dataset" as const],
      selected: "run:1234",
      from: "dataset:demo:a@ptf1:1",
      to: "model:demo:m@sha256:2",
      up: ["x", "y"],
      down: ["z"],
      cu: ["c,with,comma"],
      cd: ["d"],
      view: "list" as const,
    };
    const url = formatRoute({ page: "lineage", state });
    const parsed = parseRoute("/lineage", url.slice(url.indexOf("?")));
    expect(parsed).toEqual({ page: "lineage", state: { ...state, hide: ["dataset", "run"] } });
  });

  it("leaves defaults out of the URL", () => {
    expect(lineageQuery(defaultLineage("n")).toString()).toBe("node=n");
    expect(href.lineage("a/b")).toBe("/lineage?node=a%2Fb");
  });

  it("reads depth all, bad depths and unknown values safely", () => {
    expect(parseLineage(new URLSearchParams("node=n&depth=all")).depth).toBeNull();
    expect(parseLineage(new URLSearchParams("node=n&depth=-3")).depth).toBe(2);
    expect(parseLineage(new URLSearchParams("node=n&depth=999")).depth).toBe(50);
    expect(parseLineage(new URLSearchParams("node=n&color=rainbow&hide=run,bogus")).color).toBe("kind");
    expect(parseLineage(new URLSearchParams("node=n&hide=run,bogus")).hide).toEqual(["run"]);
  });
});

describe("routes", () => {
  it("parses every page", () => {
    expect(parseRoute("/", "?q=turnout")).toEqual({ page: "home", q: "turnout" });
    expect(parseRoute("/dataset", "?ref=dataset:demo:a&v=ptf1:1")).toEqual({ page: "dataset", ref: "dataset:demo:a", version: "ptf1:1" });
    expect(parseRoute("/run/", "?id=run:abc")).toEqual({ page: "run", id: "run:abc" });
    expect(parseRoute("/verify", "")).toEqual({ page: "verify", statement: null });
    expect(parseRoute("/verify", "?statement=abc")).toEqual({ page: "verify", statement: "abc" });
    expect(parseRoute("/compare", "?a=x&b=y")).toEqual({ page: "compare", a: "x", b: "y" });
    expect(parseRoute("/nowhere", "")).toEqual({ page: "notfound", path: "/nowhere" });
    expect(parseRoute("/lineage", "")).toEqual({ page: "home", q: "" });
    expect(parseRoute("/signin", "?next=%2Fverify&reason=expired")).toEqual({ page: "signin", next: "/verify", reason: "expired" });
  });

  it("formats links that parse back", () => {
    for (const url of [href.home("x y"), href.dataset("dataset:demo:a/b", "ptf1:9"), href.run("abc"), href.job("job:demo:j"), href.compare("a", "b"), href.verify(), href.verify("abc")]) {
      const [path, search = ""] = url.split("?");
      expect(formatRoute(parseRoute(path, search ? `?${search}` : ""))).toBe(url);
    }
    expect(href.run("abc")).toBe("/run?id=run%3Aabc");
  });

  it("links a node to its page", () => {
    const node = { id: "dataset:demo:a@ptf1:1", type: "dataset_version", namespace: "demo", name: "a", version: "ptf1:1" };
    expect(seriesRef(node)).toBe("dataset:demo:a");
    expect(pageFor(node)).toBe("/dataset?ref=dataset%3Ademo%3Aa&v=ptf1%3A1");
    expect(pageFor({ ...node, type: "model_version" })).toContain("ref=model%3Ademo%3Aa");
    expect(pageFor({ id: "run:1", type: "run", namespace: "demo", name: "j" })).toBe("/run?id=run%3A1");
  });
});
