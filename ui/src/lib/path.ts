// Path highlighting: the path endpoint's answer as sets of node and edge ids to light up.

import { edgeKey, type ShownEdge } from "./graph";
import type { ApiEdge, PathAnswer } from "./types";

export interface Highlight {
  nodes: Set<string>;
  edges: Set<string>;
  connected: boolean;
}

export const NO_HIGHLIGHT: Highlight = { nodes: new Set(), edges: new Set(), connected: false };

/** Nodes and edges of the path answer; path nodes are joined in path order. */
export function pathHighlight(answer: PathAnswer | null): Highlight {
  if (!answer || !answer.connected) {
    return { nodes: new Set(), edges: new Set(), connected: false };
  }
  const nodes = new Set((answer.nodes ?? []).map((n) => n.id));
  const edges = new Set(
    (answer.edges ?? [])
      .filter((e: ApiEdge) => nodes.has(e.source) && nodes.has(e.target))
      .map((e) => edgeKey(e)),
  );
  return { nodes, edges, connected: true };
}

/** Whether a drawn edge lies on the path: itself, or a bridged edge whose two ends are
 * on it (the nodes it passes through are filtered out). */
export function edgeOnPath(edge: ShownEdge, highlight: Highlight): boolean {
  if (!highlight.connected) return false;
  if (highlight.edges.has(edge.id)) return true;
  return edge.kind === "via" && highlight.nodes.has(edge.source) && highlight.nodes.has(edge.target);
}

/** The next two-node selection after clicking ``id`` with path mode on: the first click
 * sets the start, the second the end, a third starts over. */
export function nextPathSelection(
  from: string | null,
  to: string | null,
  id: string,
): { from: string | null; to: string | null } {
  if (from === null || (from !== null && to !== null)) return { from: id, to: null };
  if (id === from) return { from: null, to: null };
  return { from, to: id };
}
