// One node of the graph: a box with its name, kind, status, and expand/collapse buttons
// for its upstream (left) and downstream (right).

import { createContext, memo, useContext } from "react";
import { Handle, Position, type Node, type NodeHandle, type NodeProps } from "@xyflow/react";
import { NODE_HEIGHT, NODE_WIDTH } from "../lib/layout";
import type { ApiNode } from "../lib/types";
import type { Swatch } from "../lib/colors";
import { nodeTitle } from "../lib/graph";
import type { Verdict } from "../lib/evaluations";

export type SideState = "expand" | "collapse" | "none";

export interface LineageNodeData extends Record<string, unknown> {
  node: ApiNode;
  swatch: Swatch;
  up: SideState;
  down: SideState;
  root: boolean;
  selected: boolean;
  onPath: boolean;
  dimmed: boolean;
  pathEnd: "from" | "to" | null;
  verdict: Verdict;
  loading: "up" | "down" | null;
}

export type LineageFlowNode = Node<LineageNodeData, "lineage">;

// A node's size (fixed by the stylesheet) and where its two handles below are (8-pixel
// boxes centred on the left and right borders), given with every node. Otherwise React
// Flow measures them in the page, draws an edge only once it has, and forgets the measure
// whenever a node's object is replaced (its data changed): an expanded node's edges then
// sometimes stayed missing. (Its fit-to-view counts measured nodes only.)
export const NODE_MEASURED = { width: NODE_WIDTH, height: NODE_HEIGHT };
const HANDLE = 8;
export const NODE_HANDLES: NodeHandle[] = [
  { type: "target", position: Position.Left, x: -HANDLE / 4, y: NODE_HEIGHT / 2 - HANDLE / 2, width: HANDLE, height: HANDLE },
  { type: "source", position: Position.Right, x: NODE_WIDTH - (3 * HANDLE) / 4, y: NODE_HEIGHT / 2 - HANDLE / 2, width: HANDLE, height: HANDLE },
];

export interface NodeActions {
  open: (id: string, extend: boolean) => void;
  side: (id: string, direction: "up" | "down", action: SideState) => void;
}

export const NodeActionsContext = createContext<NodeActions>({ open: () => {}, side: () => {} });

function SideButton({ id, label, direction, state, busy }: { id: string; label: string; direction: "up" | "down"; state: SideState; busy: boolean }) {
  const actions = useContext(NodeActionsContext);
  if (state === "none") return null;
  const words = direction === "up" ? "upstream" : "downstream";
  const text = state === "expand" ? `Expand ${words} of ${label}` : `Collapse ${words} of ${label}`;
  return (
    <button
      type="button"
      className={`side-button side-${direction} side-${state} nodrag nopan`}
      title={text}
      aria-label={text}
      data-action={`${state}-${direction}`}
      disabled={busy}
      onClick={(event) => {
        event.stopPropagation();
        actions.side(id, direction, state);
      }}
    >
      {busy ? "…" : state === "expand" ? "+" : "−"}
    </button>
  );
}

function LineageNodeView({ data }: NodeProps<LineageFlowNode>) {
  const actions = useContext(NodeActionsContext);
  const { node, swatch } = data;
  const { title, subtitle } = nodeTitle(node);
  const classes = ["lineage-node", `type-${node.type}`];
  if (data.root) classes.push("is-root");
  if (data.selected) classes.push("is-selected");
  if (data.onPath) classes.push("on-path");
  if (data.dimmed) classes.push("dimmed");
  return (
    <div
      className={classes.join(" ")}
      style={{ background: swatch.fill, borderColor: swatch.stroke }}
      data-node-id={node.id}
      data-node-type={node.type}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <SideButton id={node.id} label={node.name} direction="up" state={data.up} busy={data.loading === "up"} />
      <button
        type="button"
        className="node-main nodrag"
        onClick={(event) => {
          event.stopPropagation();
          actions.open(node.id, event.shiftKey);
        }}
        aria-pressed={data.selected}
        aria-label={`${node.type === "run" ? "run" : node.type === "model_version" ? "model" : "dataset"} ${node.label}, ${node.status}`}
      >
        <span className="node-title" title={node.label}>
          {title}
        </span>
        <span className="node-sub">
          <span className="node-kind" style={{ color: swatch.stroke }}>
            {subtitle}
          </span>
          <span className={`node-status status-${node.status}`}>{node.status}</span>
        </span>
        {data.pathEnd && <span className="path-end">{data.pathEnd === "from" ? "A" : "B"}</span>}
        {data.verdict === "failed" && <span className="node-flag" title="evaluation or expectations failed">!</span>}
      </button>
      <SideButton id={node.id} label={node.name} direction="down" state={data.down} busy={data.loading === "down"} />
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

export const LineageNode = memo(LineageNodeView);
