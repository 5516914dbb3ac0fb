// URL <-> page state. Every page and every graph state is a URL (history routing with
// query parameters), so any view can be shared; the server answers index.html for them.

export type ColorMode = "kind" | "lifecycle" | "evaluation";
export type Category = "dataset" | "model" | "run";
export const COLOR_MODES: ColorMode[] = ["kind", "lifecycle", "evaluation"];
export const CATEGORIES: Category[] = ["dataset", "model", "run"];
export const DEFAULT_DEPTH = 2;
export const MAX_DEPTH = 50;

export interface LineageState {
  node: string;
  /** Hops from the node each way at first load; null: the whole closure. */
  depth: number | null;
  /** A record number or ISO time: the graph as the ledger stood then. */
  asOf: string | null;
  color: ColorMode;
  /** Node categories filtered out (their neighbours are bridged). */
  hide: Category[];
  selected: string | null;
  /** Path highlighting between two nodes. */
  from: string | null;
  to: string | null;
  /** Nodes expanded one more hop upstream / downstream. */
  up: string[];
  down: string[];
  /** Nodes whose upstream / downstream is collapsed. */
  cu: string[];
  cd: string[];
  view: "graph" | "list";
}

export type Route =
  | { page: "home"; q: string }
  | { page: "signin"; next: string | null; reason: string | null }
  | { page: "lineage"; state: LineageState }
  | { page: "dataset"; ref: string; version: string | null }
  | { page: "run"; id: string }
  | { page: "job"; name: string }
  | { page: "compare"; a: string; b: string }
  | { page: "verify"; statement: string | null }
  | { page: "notfound"; path: string };

export function defaultLineage(node: string): LineageState {
  return {
    node,
    depth: DEFAULT_DEPTH,
    asOf: null,
    color: "kind",
    hide: [],
    selected: null,
    from: null,
    to: null,
    up: [],
    down: [],
    cu: [],
    cd: [],
    view: "graph",
  };
}

function parseDepth(text: string | null): number | null {
  if (text === null || text === "") return DEFAULT_DEPTH;
  if (text === "all") return null;
  const n = Number.parseInt(text, 10);
  if (!Number.isFinite(n) || n < 0) return DEFAULT_DEPTH;
  return Math.min(n, MAX_DEPTH);
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ""))];
}

export function parseLineage(params: URLSearchParams): LineageState {
  const color = params.get("color") as ColorMode | null;
  const hide = unique((params.get("hide") ?? "").split(",")).filter((c): c is Category =>
    CATEGORIES.includes(c as Category),
  );
  return {
    node: params.get("node") ?? "",
    depth: parseDepth(params.get("depth")),
    asOf: params.get("asof") || null,
    color: color && COLOR_MODES.includes(color) ? color : "kind",
    hide,
    selected: params.get("sel") || null,
    from: params.get("from") || null,
    to: params.get("to") || null,
    up: unique(params.getAll("up")),
    down: unique(params.getAll("down")),
    cu: unique(params.getAll("cu")),
    cd: unique(params.getAll("cd")),
    view: params.get("view") === "list" ? "list" : "graph",
  };
}

export function lineageQuery(state: LineageState): URLSearchParams {
  const q = new URLSearchParams();
  q.set("node", state.node);
  if (state.depth !== DEFAULT_DEPTH) q.set("depth", state.depth === null ? "all" : String(state.depth));
  if (state.asOf) q.set("asof", state.asOf);
  if (state.color !== "kind") q.set("color", state.color);
  if (state.hide.length) q.set("hide", [...state.hide].sort().join(","));
  if (state.selected) q.set("sel", state.selected);
  if (state.from) q.set("from", state.from);
  if (state.to) q.set("to", state.to);
  for (const [key, list] of [
    ["up", state.up],
    ["down", state.down],
    ["cu", state.cu],
    ["cd", state.cd],
  ] as const) {
    for (const id of list) q.append(key, id);
  }
  if (state.view === "list") q.set("view", "list");
  return q;
}

export function parseRoute(pathname: string, search: string): Route {
  const params = new URLSearchParams(search);
  const path = pathname.replace(/\/+$/, "") || "/";
  switch (path) {
    case "/":
      return { page: "home", q: params.get("q") ?? "" };
    case "/signin":
      return { page: "signin", next: params.get("next"), reason: params.get("reason") };
    case "/lineage": {
      const state = parseLineage(params);
      return state.node ? { page: "lineage", state } : { page: "home", q: "" };
    }
    case "/dataset": {
      const ref = params.get("ref");
      return ref ? { page: "dataset", ref, version: params.get("v") } : { page: "notfound", path };
    }
    case "/run": {
      const id = params.get("id");
      return id ? { page: "run", id } : { page: "notfound", path };
    }
    case "/job": {
      const name = params.get("name");
      return name ? { page: "job", name } : { page: "notfound", path };
    }
    case "/compare":
      return { page: "compare", a: params.get("a") ?? "", b: params.get("b") ?? "" };
    case "/verify":
      return { page: "verify", statement: params.get("statement") };
    default:
      return { page: "notfound", path: pathname };
  }
}

function withQuery(path: string, entries: [string, string | null | undefined][]): string {
  const q = new URLSearchParams();
  for (const [k, v] of entries) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function formatRoute(route: Route): string {
  switch (route.page) {
    case "home":
      return withQuery("/", [["q", route.q]]);
    case "signin":
      return withQuery("/signin", [
        ["next", route.next],
        ["reason", route.reason],
      ]);
    case "lineage":
      return `/lineage?${lineageQuery(route.state).toString()}`;
    case "dataset":
      return withQuery("/dataset", [
        ["ref", route.ref],
        ["v", route.version],
      ]);
    case "run":
      return withQuery("/run", [["id", route.id]]);
    case "job":
      return withQuery("/job", [["name", route.name]]);
    case "compare":
      return withQuery("/compare", [
        ["a", route.a],
        ["b", route.b],
      ]);
    case "verify":
      return withQuery("/verify", [["statement", route.statement]]);
    case "notfound":
      return route.path;
  }
}

export const href = {
  home: (q = "") => formatRoute({ page: "home", q }),
  lineage: (node: string, patch: Partial<LineageState> = {}) =>
    formatRoute({ page: "lineage", state: { ...defaultLineage(node), ...patch } }),
  dataset: (ref: string, version: string | null = null) => formatRoute({ page: "dataset", ref, version }),
  run: (id: string) => formatRoute({ page: "run", id: id.startsWith("run:") ? id : `run:${id}` }),
  job: (name: string) => formatRoute({ page: "job", name }),
  compare: (a: string, b: string) => formatRoute({ page: "compare", a, b }),
  verify: (statement: string | null = null) => formatRoute({ page: "verify", statement }),
};

/** The dataset-level reference of a version id: `dataset:ns:name@v` -> `dataset:ns:name`. */
export function seriesRef(node: { type: string; namespace: string; name: string }): string {
  const prefix = node.type === "model_version" || node.type === "model" ? "model" : "dataset";
  return `${prefix}:${node.namespace}:${node.name}`;
}

/** The page that describes a lineage node. */
export function pageFor(node: {
  id: string;
  type: string;
  namespace: string;
  name: string;
  version?: string;
}): string {
  if (node.type === "run") return href.run(node.id);
  if (node.type === "job") return href.job(node.id);
  return href.dataset(seriesRef(node), node.version ?? null);
}
