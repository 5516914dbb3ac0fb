// The lineage graph held by the page: trace answers merged into one graph, which parts
// are loaded, which are collapsed, and what is shown under the kind filter. Pure
// functions on plain data (no React), tested in graph.test.ts.

import type { Category } from "./route";
import type { ApiEdge, ApiNode, TraceAnswer } from "./types";

export interface LineageGraph {
  nodes: Map<string, ApiNode>;
  edges: Map<string, ApiEdge>;
  /** The nodes the page is about (the trace's roots). */
  roots: string[];
  /** Nodes whose upstream (downstream) neighbours are all loaded. */
  loadedUp: Set<string>;
  loadedDown: Set<string>;
  /** Nodes left out because they are outside the token's namespaces. */
  hidden: number;
}

export interface Collapsed {
  up: ReadonlySet<string>;
  down: ReadonlySet<string>;
}

export const NO_COLLAPSE: Collapsed = { up: new Set(), down: new Set() };

export function emptyGraph(): LineageGraph {
  return {
    nodes: new Map(),
    edges: new Map(),
    roots: [],
    loadedUp: new Set(),
    loadedDown: new Set(),
    hidden: 0,
  };
}

export function edgeKey(edge: ApiEdge): string {
  return `${edge.source}\u2192${edge.target}\u00b7${edge.kind}${edge.role ? `\u00b7${edge.role}` : ""}`;
}

export function category(node: Pick<ApiNode, "type">): Category {
  if (node.type === "run") return "run";
  if (node.type === "model_version") return "model";
  return "dataset";
}

/** Merge one trace answer (direction, depth as asked) into a copy of ``graph``. A node
 * the trace reached at a distance below the depth has all its neighbours that way in
 * the answer, so it is marked loaded in that direction. */
export function mergeTrace(
  graph: LineageGraph,
  answer: Pick<TraceAnswer, "nodes" | "edges" | "roots"> & { hidden_nodes?: number },
  direction: "up" | "down" | null,
  depth: number | null,
): LineageGraph {
  const nodes = new Map(graph.nodes);
  const edges = new Map(graph.edges);
  const loadedUp = new Set(graph.loadedUp);
  const loadedDown = new Set(graph.loadedDown);
  for (const node of answer.nodes) {
    const { distance, ...rest } = node;
    const before = nodes.get(node.id);
    nodes.set(node.id, before ? { ...before, ...rest } : rest);
    if (direction !== null && (depth === null || (distance ?? 0) < depth)) {
      (direction === "up" ? loadedUp : loadedDown).add(node.id);
    }
  }
  for (const edge of answer.edges) {
    if (nodes.has(edge.source) && nodes.has(edge.target)) edges.set(edgeKey(edge), edge);
  }
  const roots = graph.roots.length ? graph.roots : [...answer.roots];
  return {
    nodes,
    edges,
    roots,
    loadedUp,
    loadedDown,
    hidden: Math.max(graph.hidden, answer.hidden_nodes ?? 0),
  };
}

export interface Adjacency {
  /** node -> edges into it (its upstream) */
  incoming: Map<string, ApiEdge[]>;
  /** node -> edges out of it (its downstream) */
  outgoing: Map<string, ApiEdge[]>;
}

export function adjacency(edges: Iterable<ApiEdge>): Adjacency {
  const incoming = new Map<string, ApiEdge[]>();
  const outgoing = new Map<string, ApiEdge[]>();
  for (const edge of edges) {
    (incoming.get(edge.target) ?? incoming.set(edge.target, []).get(edge.target)!).push(edge);
    (outgoing.get(edge.source) ?? outgoing.set(edge.source, []).get(edge.source)!).push(edge);
  }
  return { incoming, outgoing };
}

/** The nodes shown: everything loaded that is reachable from the roots (or the extra
 * ``keep`` nodes, such as a highlighted path) without going upstream through a node
 * whose upstream is collapsed, or downstream through one whose downstream is. */
export function visibleNodes(
  graph: LineageGraph,
  collapsed: Collapsed = NO_COLLAPSE,
  keep: Iterable<string> = [],
): Set<string> {
  const { incoming, outgoing } = adjacency(graph.edges.values());
  const seen = new Set<string>();
  const stack = [...graph.roots, ...keep].filter((id) => graph.nodes.has(id));
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    if (!collapsed.up.has(id)) {
      for (const edge of incoming.get(id) ?? []) if (!seen.has(edge.source)) stack.push(edge.source);
    }
    if (!collapsed.down.has(id)) {
      for (const edge of outgoing.get(id) ?? []) if (!seen.has(edge.target)) stack.push(edge.target);
    }
  }
  return seen;
}

export interface ShownEdge extends ApiEdge {
  id: string;
  /** Set when the edge stands for a chain through filtered-out nodes. */
  via?: string[];
}

export interface Shown {
  nodes: ApiNode[];
  edges: ShownEdge[];
}

/** What is drawn: the visible nodes minus the filtered categories; an edge chain through
 * filtered-out nodes becomes one edge (``via`` names what it passes through), so hiding
 * runs shows datasets joined directly. */
export function shown(graph: LineageGraph, visible: Set<string>, hide: Iterable<Category> = []): Shown {
  const hidden = new Set(hide);
  const keepNode = (id: string) => {
    const node = graph.nodes.get(id);
    return node !== undefined && visible.has(id) && !hidden.has(category(node));
  };
  const visibleEdges = [...graph.edges.values()].filter(
    (e) => visible.has(e.source) && visible.has(e.target),
  );
  const nodes = [...visible].filter(keepNode).map((id) => graph.nodes.get(id)!);
  if (hidden.size === 0) {
    return { nodes, edges: visibleEdges.map((e) => ({ ...e, id: edgeKey(e) })) };
  }
  const { outgoing } = adjacency(visibleEdges);
  const edges = new Map<string, ShownEdge>();
  for (const node of nodes) {
    // Walk downstream through filtered-out nodes until kept ones.
    const stack: { id: string; via: string[]; first: ApiEdge }[] = (outgoing.get(node.id) ?? []).map(
      (e) => ({ id: e.target, via: [], first: e }),
    );
    const seen = new Set<string>();
    while (stack.length) {
      const { id, via, first } = stack.pop()!;
      if (keepNode(id)) {
        if (via.length === 0) {
          edges.set(edgeKey(first), { ...first, id: edgeKey(first) });
        } else {
          const key = `${node.id}\u2192${id}\u00b7via`;
          const before = edges.get(key);
          const names = [...new Set([...(before?.via ?? []), ...via])];
          edges.set(key, { source: node.id, target: id, kind: "via", id: key, via: names });
        }
        continue;
      }
      if (seen.has(id)) continue;
      seen.add(id);
      const label = graph.nodes.get(id)?.name ?? id;
      for (const e of outgoing.get(id) ?? []) stack.push({ id: e.target, via: [...via, label], first });
    }
  }
  return { nodes, edges: [...edges.values()] };
}

/** Whether the page may offer to expand ``id`` one more hop that way. */
export function canExpand(graph: LineageGraph, id: string, direction: "up" | "down"): boolean {
  return !(direction === "up" ? graph.loadedUp : graph.loadedDown).has(id);
}

/** Neighbour counts of a node among the loaded edges. */
export function degree(graph: LineageGraph, id: string): { up: number; down: number } {
  let up = 0;
  let down = 0;
  for (const edge of graph.edges.values()) {
    if (edge.target === id) up += 1;
    if (edge.source === id) down += 1;
  }
  return { up, down };
}

/** Toggle ``id`` in a list kept in the URL. */
export function toggle(list: string[], id: string, on: boolean): string[] {
  const without = list.filter((x) => x !== id);
  return on ? [...without, id] : without;
}

/** The readable word for an edge kind. */
export function edgeLabel(edge: Pick<ShownEdge, "kind" | "role" | "via">): string {
  const words: Record<string, string> = {
    used: "used",
    generated: "generated",
    derived_from: "derived",
    trained_on: "trained on",
  };
  if (edge.kind === "via") {
    const via = edge.via ?? [];
    return via.length === 1 ? `via ${via[0]}` : `via ${via.length} steps`;
  }
  const word = words[edge.kind] ?? edge.kind.replace(/_/g, " ");
  return edge.role ? `${word} (${edge.role})` : word;
}

/** Short label lines for a node box. */
export function nodeTitle(node: ApiNode): { title: string; subtitle: string } {
  if (node.type === "run") {
    const short = (node.run_id ?? node.id.replace(/^run:/, "")).slice(0, 8);
    return { title: node.name, subtitle: `${node.kind ?? "run"} run · #${short}` };
  }
  const at = node.label.lastIndexOf("@");
  const version = at >= 0 ? node.label.slice(at + 1) : (node.version ?? "").slice(0, 12);
  return {
    title: node.name,
    subtitle: `${node.type === "model_version" ? "model" : "dataset"} · @${version}`,
  };
}
