// The lineage graph of any node: lazy expand/collapse per node, depth, as-of time,
// colour modes, kind filter, details drawer, path highlighting; all of it in the URL.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Edge,
  type NodeTypes,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { api } from "../lib/api";
import { legend, swatchFor } from "../lib/colors";
import { latestByTarget, nodeKeys, verdictOf, type Verdict } from "../lib/evaluations";
import { canExpand, category, edgeLabel, emptyGraph, mergeTrace, shown, toggle, visibleNodes, type LineageGraph } from "../lib/graph";
import { useApi, useDebounced, useLoader, useTitle } from "../lib/hooks";
import { FAST_LAYOUT_FROM, getElk, layout, NODE_HEIGHT, NODE_WIDTH, placeNear, quickLayers, type Point } from "../lib/layout";
import { edgeOnPath, NO_HIGHLIGHT, nextPathSelection, pathHighlight } from "../lib/path";
import { Link, useRouter } from "../lib/router";
import { CATEGORIES, COLOR_MODES, href, pageFor, type Category, type ColorMode, type LineageState } from "../lib/route";
import type { AnnotationBody, ApiNode, Checkpoint, LogEntry, PathAnswer, TraceAnswer } from "../lib/types";
import { formatTime, plural } from "../lib/values";
import { Drawer } from "../components/Drawer";
import { LineageNode, NODE_HANDLES, NODE_MEASURED, NodeActionsContext, type LineageFlowNode, type NodeActions, type SideState } from "../components/LineageNode";
import { ErrorBox, KindBadge, Loading, Pill, StatusPill } from "../components/ui";

const nodeTypes: NodeTypes = { lineage: LineageNode };
const ARROW = { type: MarkerType.ArrowClosed, width: 16, height: 16 };
const LABEL_PADDING: [number, number] = [4, 2];

function miniMapColor(node: { data: Record<string, unknown> }): string {
  return (node.data as { swatch?: { stroke: string } }).swatch?.stroke ?? "#94a3b8";
}

function shallowEqual(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => a[k] === b[k]);
}

function degreesOf(graph: LineageGraph): Map<string, { up: number; down: number }> {
  const out = new Map<string, { up: number; down: number }>();
  const get = (id: string) => out.get(id) ?? out.set(id, { up: 0, down: 0 }).get(id)!;
  for (const edge of graph.edges.values()) {
    get(edge.target).up += 1;
    get(edge.source).down += 1;
  }
  return out;
}
const DEPTHS: (number | null)[] = [1, 2, 3, 4, 6, 10, null];
/** Above this many nodes only those in view are in the DOM (React Flow's
 * onlyRenderVisibleElements): panning and expanding stay fast on large graphs. */
const VIRTUALIZE_FROM = 250;

/** ``localStorage["pedigree.renderAll"] = "1"`` puts every node in the DOM (to measure). */
function virtualizeFrom(): number {
  try {
    return window.localStorage.getItem("pedigree.renderAll") === "1" ? Number.POSITIVE_INFINITY : VIRTUALIZE_FROM;
  } catch {
    return VIRTUALIZE_FROM;
  }
}

/** Timings the benchmark (benchmarks/bench_ui.py) reads: ms from the request to the
 * first painted graph (or list), from an expand click to its nodes painted and to the
 * graph laid out again, and each ELK run. */
interface Timings {
  render: number[];
  expand: number[];
  expandLayout: number[];
  layout: number[];
  /** From the request to the first ELK layout painted (after the quick one, if any). */
  laidOut: number[];
  nodes: number;
}

declare global {
  interface Window {
    __pedigreeTimings?: Timings;
  }
}

function timings(): Timings {
  window.__pedigreeTimings ??= { render: [], expand: [], expandLayout: [], layout: [], laidOut: [], nodes: 0 };
  return window.__pedigreeTimings;
}

export default function LineagePage({ state }: { state: LineageState }) {
  return (
    <ReactFlowProvider>
      <Lineage state={state} />
    </ReactFlowProvider>
  );
}

function Lineage({ state }: { state: LineageState }) {
  const { navigate } = useRouter();
  const flow = useReactFlow();
  const update = useCallback(
    (patch: Partial<LineageState>, replace = true) => navigate(href.lineage(state.node, { ...state, ...patch }), { replace }),
    [navigate, state],
  );

  // 1. The base graph: depth hops up and down from the node, as of the chosen point.
  const baseKey = `${state.node}\u0000${state.depth}\u0000${state.asOf ?? ""}`;
  const base = useLoader<LineageGraph>(baseKey, async (signal) => {
    performance.mark("pedigree:graph-start");
    if (state.view === "graph") void getElk(); // warm the layout worker during the requests
    const params = { node: state.node, depth: state.depth ?? undefined, as_of: state.asOf };
    const [up, down] = await Promise.all([
      api<TraceAnswer>("/trace", { params: { ...params, direction: "up" }, signal }),
      api<TraceAnswer>("/trace", { params: { ...params, direction: "down" }, signal }),
    ]);
    return mergeTrace(mergeTrace(emptyGraph(), up, "up", state.depth), down, "down", state.depth);
  });
  const [graph, setGraph] = useState<LineageGraph | null>(null);
  const generation = useRef(0);
  const [positions, setPositions] = useState<Map<string, Point>>(new Map());
  const positionsRef = useRef(positions);
  positionsRef.current = positions;
  const fitted = useRef(false);
  const renderPending = useRef(false);
  useEffect(() => {
    generation.current += 1;
    setGraph(base.data);
    setPositions(new Map());
    fitted.current = false;
    renderPending.current = base.data !== null;
  }, [base.data]);

  // 2. Expansions named in the URL: one hop each, loaded when their node is there.
  const inflight = useRef(new Set<string>());
  const [loadingSides, setLoadingSides] = useState<Map<string, "up" | "down">>(new Map());
  const [expandError, setExpandError] = useState<unknown>(null);
  const pendingExpand = useRef<{ id: string; direction: "up" | "down"; start: number } | null>(null);
  const lastExpand = useRef<number | null>(null);
  useEffect(() => {
    if (!graph) return;
    const wanted = [
      ...state.up.map((id) => [id, "up"] as const),
      ...state.down.map((id) => [id, "down"] as const),
    ].filter(([id, dir]) => graph.nodes.has(id) && canExpand(graph, id, dir) && !inflight.current.has(`${dir}:${id}`));
    const gen = generation.current;
    for (const [id, direction] of wanted) {
      const key = `${direction}:${id}`;
      inflight.current.add(key);
      setLoadingSides((m) => new Map(m).set(id, direction));
      api<TraceAnswer>("/trace", { params: { node: id, direction, depth: 1, as_of: state.asOf } })
        .then((answer) => {
          if (gen !== generation.current) return;
          setGraph((g) => (g ? mergeTrace(g, answer, direction, 1) : g));
        })
        .catch((error) => {
          if (gen !== generation.current) return;
          setExpandError(error);
          // Dropped from the URL so it is not retried in a loop; the message says what failed.
          update({ [direction]: toggle(direction === "up" ? state.up : state.down, id, false) } as Partial<LineageState>);
        })
        .finally(() => {
          inflight.current.delete(key);
          setLoadingSides((m) => {
            const next = new Map(m);
            next.delete(id);
            return next;
          });
        });
    }
  }, [graph, state.up, state.down, state.asOf, update]);

  // 3. Path highlighting between two nodes.
  const pathParams = state.from && state.to ? { source: state.from, target: state.to, as_of: state.asOf } : undefined;
  const path = useApi<PathAnswer>(pathParams ? "/path" : null, pathParams);
  useEffect(() => {
    if (path.data?.connected) setGraph((g) => (g ? mergeTrace(g, { nodes: path.data!.nodes ?? [], edges: path.data!.edges ?? [], roots: [] }, null, null) : g));
  }, [path.data, graph === null]);
  const highlight = useMemo(() => (path.data ? pathHighlight(path.data) : NO_HIGHLIGHT), [path.data]);

  // 4. Evaluation verdicts for the evaluation colour mode.
  const wantVerdicts = state.color === "evaluation";
  const evaluations = useApi<{ evaluations: LogEntry<AnnotationBody>[] }>(wantVerdicts ? "/evaluations" : null, { limit: 1000 });
  const expectations = useApi<{ annotations: LogEntry<AnnotationBody>[] }>(wantVerdicts ? "/annotations" : null, { kind: "expectations", limit: 1000 });
  const verdicts = useMemo(() => {
    const map = latestByTarget([...(evaluations.data?.evaluations ?? []), ...(expectations.data?.annotations ?? [])]);
    return (node: ApiNode): Verdict => {
      for (const key of nodeKeys(node)) {
        const found = map.get(key);
        if (found) return verdictOf(found);
      }
      return "none";
    };
  }, [evaluations.data, expectations.data]);

  // 5. What is drawn.
  const cuKey = state.cu.join("\u0000");
  const cdKey = state.cd.join("\u0000");
  const collapsed = useMemo(() => ({ up: new Set(state.cu), down: new Set(state.cd) }), [cuKey, cdKey]);
  const hideKey = state.hide.join(",");
  const drawn = useMemo(() => {
    if (!graph) return { nodes: [], edges: [] };
    return shown(graph, visibleNodes(graph, collapsed, highlight.nodes), state.hide);
  }, [graph, collapsed, highlight, hideKey]);

  // 6. Layout: ELK for the whole drawn graph; new nodes placed beside their neighbour
  //    at once while ELK runs.
  const layoutKey = useMemo(
    () => `${drawn.nodes.map((n) => n.id).sort().join("|")}#${drawn.edges.map((e) => e.id).sort().join("|")}`,
    [drawn],
  );
  const layoutGen = useRef(0);
  const [layoutError, setLayoutError] = useState<unknown>(null);
  useEffect(() => {
    if (drawn.nodes.length === 0 || state.view === "list") return;
    const gen = ++layoutGen.current;
    const current = positionsRef.current;
    const missing = drawn.nodes.filter((n) => !current.has(n.id)).map((n) => n.id);
    if (current.size > 0 && missing.length > 0) {
      let next = new Map(current);
      const groups = new Map<string, { anchor: string; direction: "up" | "down"; ids: string[] }>();
      const orphans: string[] = [];
      for (const id of missing) {
        const edge = drawn.edges.find((e) => (e.source === id && next.has(e.target)) || (e.target === id && next.has(e.source)));
        if (!edge) {
          orphans.push(id);
          continue;
        }
        const anchor = edge.source === id ? edge.target : edge.source;
        const direction = edge.source === id ? "up" : "down";
        const key = `${anchor}\u0000${direction}`;
        (groups.get(key) ?? groups.set(key, { anchor, direction, ids: [] }).get(key)!).ids.push(id);
      }
      for (const g of groups.values()) next = placeNear(next, g.anchor, g.ids, g.direction);
      const bottom = Math.max(0, ...[...next.values()].map((p) => p.y)) + NODE_HEIGHT * 2;
      orphans.forEach((id, i) => next.set(id, { x: i * (NODE_WIDTH + 40), y: bottom }));
      setPositions(next);
    }
    const first = current.size === 0;
    if (first && drawn.nodes.length > FAST_LAYOUT_FROM) {
      // A large graph shows at once in columns; ELK's layout follows.
      setPositions(quickLayers(drawn.nodes.map((n) => n.id), drawn.edges));
    }
    const started = performance.now();
    layout(
      drawn.nodes.map((n) => n.id),
      drawn.edges,
    )
      .then((laid) => {
        if (gen !== layoutGen.current) return;
        timings().layout.push(performance.now() - started);
        setPositions(laid);
        if (first) {
          fitted.current = false; // frame the final layout (a large graph moved from its quick one)
          requestAnimationFrame(() => {
            const entries = performance.getEntriesByName("pedigree:graph-start");
            const start = entries.length ? entries[entries.length - 1].startTime : 0;
            timings().laidOut.push(performance.now() - start);
            document.body.dataset.graphLaidOut = String(Date.now());
          });
        }
        const expanded = lastExpand.current;
        if (expanded !== null) {
          lastExpand.current = null;
          requestAnimationFrame(() => {
            timings().expandLayout.push(performance.now() - expanded);
            document.body.dataset.expandLaidOut = String(Date.now());
          });
        }
      })
      .catch((error) => {
        if (gen === layoutGen.current) setLayoutError(error);
      });
  }, [layoutKey, state.view]);

  // 7. React Flow's nodes and edges.
  const pathActive = highlight.connected;
  // Node and edge objects are reused while unchanged, so React Flow re-renders only
  // what an expansion or a click changed (it compares them by identity).
  const nodeCache = useRef(new Map<string, LineageFlowNode>());
  const edgeCache = useRef(new Map<string, Edge>());
  const degrees = useMemo(() => (graph ? degreesOf(graph) : new Map<string, { up: number; down: number }>()), [graph]);
  const rfNodes = useMemo<LineageFlowNode[]>(() => {
    if (!graph) return [];
    const out: LineageFlowNode[] = [];
    const roots = new Set(graph.roots);
    const cache = new Map<string, LineageFlowNode>();
    for (const node of drawn.nodes) {
      const position = positions.get(node.id);
      if (!position) continue;
      const deg = degrees.get(node.id) ?? { up: 0, down: 0 };
      const side = (direction: "up" | "down"): SideState => {
        const isCollapsed = (direction === "up" ? collapsed.up : collapsed.down).has(node.id);
        if (isCollapsed) return "expand";
        if (canExpand(graph, node.id, direction)) return "expand";
        return (direction === "up" ? deg.up : deg.down) > 0 ? "collapse" : "none";
      };
      const verdict = wantVerdicts ? verdicts(node) : "none";
      const data = {
        node,
        swatch: swatchFor(node, state.color, verdict),
        up: side("up"),
        down: side("down"),
        root: roots.has(node.id),
        selected: state.selected === node.id,
        onPath: highlight.nodes.has(node.id),
        dimmed: pathActive && !highlight.nodes.has(node.id),
        pathEnd: state.from === node.id ? ("from" as const) : state.to === node.id ? ("to" as const) : null,
        verdict,
        loading: loadingSides.get(node.id) ?? null,
      };
      const before = nodeCache.current.get(node.id);
      const same = before && before.position === position && shallowEqual(before.data, data);
      const flowNode: LineageFlowNode = same
        ? before
        : { id: node.id, type: "lineage", position, width: NODE_WIDTH, height: NODE_HEIGHT, measured: NODE_MEASURED, handles: NODE_HANDLES, data };
      cache.set(node.id, flowNode);
      out.push(flowNode);
    }
    nodeCache.current = cache;
    return out;
  }, [graph, drawn, positions, degrees, collapsed, state.color, state.selected, state.from, state.to, highlight, pathActive, wantVerdicts, verdicts, loadingSides]);

  const rfEdges = useMemo<Edge[]>(() => {
    const cache = new Map<string, Edge>();
    const out = drawn.edges.map((edge) => {
      const lit = edgeOnPath(edge, highlight);
      const label = edgeLabel(edge);
      const className = lit ? "edge-on-path" : pathActive ? "edge-dimmed" : `edge-${edge.kind}`;
      const before = edgeCache.current.get(edge.id);
      const flowEdge: Edge =
        before && before.label === label && before.className === className && before.source === edge.source && before.target === edge.target
          ? before
          : {
              id: edge.id,
              source: edge.source,
              target: edge.target,
              label,
              className,
              markerEnd: ARROW,
              labelBgPadding: LABEL_PADDING,
              labelBgBorderRadius: 4,
              focusable: false,
              selectable: false,
            };
      cache.set(edge.id, flowEdge);
      return flowEdge;
    });
    edgeCache.current = cache;
    return out;
  }, [drawn, highlight, pathActive]);

  // 8. Timings (read by benchmarks/bench_ui.py) and the first fit.
  useEffect(() => {
    const view = state.view;
    if (!graph) return;
    const ready = view === "list" || (rfNodes.length > 0 && rfNodes.length === drawn.nodes.length);
    if (!ready) return;
    const frame = requestAnimationFrame(() => {
      timings().nodes = drawn.nodes.length;
      if (renderPending.current) {
        renderPending.current = false;
        const entries = performance.getEntriesByName("pedigree:graph-start");
        const start = entries.length ? entries[entries.length - 1].startTime : 0;
        timings().render.push(performance.now() - start);
        document.body.dataset.graphReady = String(Date.now());
      }
      const pending = pendingExpand.current;
      if (pending && (pending.direction === "up" ? graph.loadedUp : graph.loadedDown).has(pending.id)) {
        pendingExpand.current = null;
        timings().expand.push(performance.now() - pending.start);
        document.body.dataset.expandReady = String(Date.now());
      }
      if (!fitted.current && view === "graph") {
        fitted.current = true;
        void initialView();
      }
    });
    return () => cancelAnimationFrame(frame);
  }, [rfNodes, drawn, graph, state.view, flow]);

  // The first view: the whole graph when it is readable so, else the root at a
  // readable zoom (the Fit button shows everything).
  const graphArea = useRef<HTMLDivElement>(null);
  const initialView = useCallback(async () => {
    await flow.fitView({ padding: 0.12, maxZoom: 1.1 });
    const root = graph?.roots.map((id) => positionsRef.current.get(id)).find(Boolean);
    if (root && flow.getZoom() < 0.55) {
      await flow.setCenter(root.x + NODE_WIDTH / 2, root.y + NODE_HEIGHT / 2, { zoom: 0.75 });
    }
  }, [flow, graph]);

  // Bring the selected node into view when the drawer would hide it.
  useEffect(() => {
    const id = state.selected;
    if (!id || state.view !== "graph") return;
    const frame = requestAnimationFrame(() => {
      const position = positionsRef.current.get(id);
      const area = graphArea.current;
      if (!position || !area) return;
      const { x, y, zoom } = flow.getViewport();
      const left = position.x * zoom + x;
      const top = position.y * zoom + y;
      const outside =
        left < 0 || top < 0 || left + NODE_WIDTH * zoom > area.clientWidth || top + NODE_HEIGHT * zoom > area.clientHeight;
      if (outside) void flow.setCenter(position.x + NODE_WIDTH / 2, position.y + NODE_HEIGHT / 2, { zoom, duration: 200 });
    });
    return () => cancelAnimationFrame(frame);
  }, [state.selected, state.view, flow]);

  // Actions.
  const [pathMode, setPathMode] = useState(false);
  // The latest handlers behind a stable object: every node reads it from context, so a
  // new object would re-render all of them on every URL change.
  const handlers = useRef<NodeActions>({ open: () => {}, side: () => {} });
  const actions = useMemo<NodeActions>(
    () => ({ open: (id, extend) => handlers.current.open(id, extend), side: (id, d, a) => handlers.current.side(id, d, a) }),
    [],
  );
  handlers.current = useMemo<NodeActions>(
    () => ({
      open: (id, extend) => {
        if (pathMode || extend) {
          const next = nextPathSelection(state.from, state.to, id);
          update({ ...next, selected: id });
        } else {
          update({ selected: state.selected === id ? null : id });
        }
      },
      side: (id, direction, action) => {
        const list = direction === "up" ? state.up : state.down;
        const closed = direction === "up" ? state.cu : state.cd;
        const closedKey = direction === "up" ? "cu" : "cd";
        if (action === "collapse") {
          update({ [closedKey]: toggle(closed, id, true) } as Partial<LineageState>);
          return;
        }
        setExpandError(null);
        pendingExpand.current = { id, direction, start: performance.now() };
        lastExpand.current = pendingExpand.current.start;
        update({
          [closedKey]: toggle(closed, id, false),
          [direction]: graph && canExpand(graph, id, direction) ? toggle(list, id, true) : list,
        } as Partial<LineageState>);
      },
    }),
    [pathMode, state, update, graph],
  );

  const selectedRef = useRef(state.selected);
  selectedRef.current = state.selected;
  const onPaneClick = useCallback(() => {
    if (selectedRef.current) handlers.current.open(selectedRef.current, false);
  }, []);

  const selectedNode = state.selected && graph ? graph.nodes.get(state.selected) : null;
  const rootNode = graph ? graph.nodes.get(graph.roots[0]) : null;
  useTitle(rootNode ? `Lineage of ${rootNode.name}` : "Lineage");

  if (base.error) {
    return (
      <main className="page" id="main">
        <ErrorBox error={base.error} onRetry={base.reload} />
        <p>
          <Link to="/">Back to the start page</Link> to search for what exists.
        </p>
      </main>
    );
  }

  return (
    <main className="lineage-page" id="main">
      <Toolbar state={state} update={update} graph={graph} pathMode={pathMode} setPathMode={setPathMode} drawnCount={drawn.nodes.length} />
      <div className="lineage-status" aria-live="polite">
        {rootNode && (
          <span>
            Lineage of <KindBadge type={rootNode.type} /> <strong>{rootNode.label}</strong>
            {graph && graph.roots.length > 1 && <span className="muted"> and {plural(graph.roots.length - 1, "other version")}</span>}
          </span>
        )}
        <span className="muted">{plural(drawn.nodes.length, "node")} shown</span>
        {graph && graph.hidden > 0 && <Pill tone="muted">{plural(graph.hidden, "node")} outside your namespaces hidden</Pill>}
        {state.asOf && <Pill tone="info">as of {/^\d+$/.test(state.asOf) ? `record #${state.asOf}` : formatTime(state.asOf)}</Pill>}
        {state.from && (
          <span className="path-status" data-testid="path-status">
            Path: <strong>A</strong> {graph?.nodes.get(state.from)?.name ?? state.from}
            {state.to ? (
              <>
                {" "}
                → <strong>B</strong> {graph?.nodes.get(state.to)?.name ?? state.to}{" "}
                {path.loading ? "…" : path.error ? <Pill tone="bad">error</Pill> : highlight.connected ? <Pill tone="good">{plural(highlight.nodes.size, "node")} on the path</Pill> : path.data ? <Pill tone="warn">not connected</Pill> : null}
              </>
            ) : (
              <span className="muted"> — now pick the other end (shift-click or path mode)</span>
            )}{" "}
            <button type="button" className="button button-ghost small" onClick={() => update({ from: null, to: null })}>
              Clear path
            </button>
          </span>
        )}
      </div>
      {Boolean(expandError || path.error || layoutError) && (
        <div className="toast">
          <ErrorBox error={expandError ?? path.error ?? layoutError} compact />
          <button type="button" className="button button-ghost small" onClick={() => setExpandError(null)}>
            Dismiss
          </button>
        </div>
      )}
      <div className={selectedNode || state.selected ? "lineage-body with-drawer" : "lineage-body"}>
        <div className="graph-area" ref={graphArea}>
          {!graph ? (
            <Loading what="Tracing lineage" />
          ) : state.view === "list" ? (
            <NodeList nodes={drawn.nodes} actions={actions} state={state} />
          ) : (
            <NodeActionsContext.Provider value={actions}>
              {rfNodes.length === 0 && drawn.nodes.length > 0 && <Loading what="Laying out" />}
              <ReactFlow
                nodes={rfNodes}
                edges={rfEdges}
                nodeTypes={nodeTypes}
                nodesDraggable={false}
                nodesConnectable={false}
                nodesFocusable={false}
                edgesFocusable={false}
                elementsSelectable={false}
                minZoom={0.05}
                maxZoom={2}
                onlyRenderVisibleElements={drawn.nodes.length > virtualizeFrom()}
                proOptions={{ hideAttribution: true }}
                onPaneClick={onPaneClick}
              >
                <Background gap={24} size={1} />
                <Controls showInteractive={false} position="bottom-left" />
                <MiniMap pannable zoomable position="bottom-right" nodeColor={miniMapColor} />
              </ReactFlow>
              <Legend mode={state.color} />
            </NodeActionsContext.Provider>
          )}
        </div>
        {state.selected && (
          <Drawer
            key={state.selected}
            id={state.selected}
            asOf={state.asOf}
            pathFrom={state.from}
            onClose={() => update({ selected: null })}
            onPathFrom={(id) => update({ from: id, to: null })}
            onPathTo={(id) => update({ to: id })}
            onFocus={(id) => navigate(href.lineage(id, { depth: state.depth, asOf: state.asOf, color: state.color, hide: state.hide }))}
          />
        )}
      </div>
    </main>
  );
}

function Toolbar({
  state,
  update,
  graph,
  pathMode,
  setPathMode,
  drawnCount,
}: {
  state: LineageState;
  update: (patch: Partial<LineageState>, replace?: boolean) => void;
  graph: LineageGraph | null;
  pathMode: boolean;
  setPathMode: (on: boolean) => void;
  drawnCount: number;
}) {
  const flow = useReactFlow();
  const head = useApi<Checkpoint>("/checkpoints/latest");
  const size = head.data?.checkpoint.size ?? null;
  const numeric = state.asOf !== null && /^\d+$/.test(state.asOf);
  const [local, setLocal] = useState<string>(state.asOf ?? "");
  useEffect(() => setLocal(state.asOf ?? ""), [state.asOf]);
  const committed = useDebounced(local, 350);
  useEffect(() => {
    if (size === null || !/^\d+$/.test(committed)) return;
    const value = Number(committed) >= size ? null : committed;
    if (value !== state.asOf) update({ asOf: value });
  }, [committed]);
  const sliderSeq = numeric ? Number(state.asOf) : /^\d+$/.test(local) ? Number(local) : size ?? 1;
  const record = useApi<LogEntry>(state.asOf && numeric ? `/records/${state.asOf}` : null);

  return (
    <div className="toolbar lineage-toolbar" role="toolbar" aria-label="Graph controls">
      <label>
        Depth{" "}
        <select
          value={state.depth === null ? "all" : String(state.depth)}
          onChange={(e) => update({ depth: e.target.value === "all" ? null : Number(e.target.value), up: [], down: [], cu: [], cd: [] })}
          aria-label="Depth: hops loaded each way"
        >
          {DEPTHS.map((d) => (
            <option key={String(d)} value={d === null ? "all" : String(d)}>
              {d === null ? "all" : d}
            </option>
          ))}
        </select>
      </label>
      <label>
        Colour by{" "}
        <select value={state.color} onChange={(e) => update({ color: e.target.value as ColorMode })} aria-label="Colour nodes by">
          {COLOR_MODES.map((m) => (
            <option key={m} value={m}>
              {m === "kind" ? "kind" : m === "lifecycle" ? "lifecycle / status" : "evaluation status"}
            </option>
          ))}
        </select>
      </label>
      <fieldset className="kind-filter">
        <legend>Show</legend>
        {CATEGORIES.map((c: Category) => (
          <label key={c} className="check-label">
            <input
              type="checkbox"
              checked={!state.hide.includes(c)}
              onChange={(e) => update({ hide: e.target.checked ? state.hide.filter((h) => h !== c) : [...state.hide, c] })}
            />{" "}
            {c === "run" ? "runs" : `${c}s`}
          </label>
        ))}
      </fieldset>
      <div className="asof">
        <label htmlFor="asof-slider">As of</label>
        <input
          id="asof-slider"
          type="range"
          min={1}
          max={size ?? 1}
          step={1}
          value={Math.min(sliderSeq, size ?? sliderSeq)}
          disabled={size === null}
          onChange={(e) => setLocal(e.target.value)}
          aria-valuetext={state.asOf ? `record ${state.asOf}` : "now"}
        />
        <span className="asof-value small">
          {state.asOf === null ? (
            local && local !== String(size) ? `#${local}…` : "now"
          ) : numeric ? (
            <>
              #{state.asOf}
              {record.data && <span className="muted"> · {formatTime(record.data.time)}</span>}
            </>
          ) : (
            formatTime(state.asOf)
          )}
        </span>
        {state.asOf !== null && (
          <button type="button" className="button button-ghost small" onClick={() => { setLocal(""); update({ asOf: null }); }}>
            Now
          </button>
        )}
      </div>
      <div className="toolbar-spacer" />
      <label className="check-label" title="Click two nodes to highlight the path between them (or shift-click)">
        <input type="checkbox" checked={pathMode} onChange={(e) => setPathMode(e.target.checked)} /> Path mode
      </label>
      <div className="segmented" role="group" aria-label="View">
        <button type="button" aria-pressed={state.view === "graph"} onClick={() => update({ view: "graph" })}>
          Graph
        </button>
        <button type="button" aria-pressed={state.view === "list"} onClick={() => update({ view: "list" })}>
          List
        </button>
      </div>
      <button type="button" className="button small" onClick={() => flow.fitView({ padding: 0.12, duration: 200 })} disabled={state.view !== "graph" || !graph || drawnCount === 0}>
        Fit
      </button>
    </div>
  );
}

function Legend({ mode }: { mode: ColorMode }) {
  return (
    <div className="legend" aria-label="Legend">
      {legend(mode).map((s) => (
        <span key={s.key} className="legend-item">
          <span className="legend-swatch" style={{ background: s.fill, borderColor: s.stroke }} /> {s.label}
        </span>
      ))}
    </div>
  );
}

/** The same nodes as a plain list: keyboard- and screen-reader-friendly, and the
 * benchmark's baseline. */
function NodeList({ nodes, actions, state }: { nodes: ApiNode[]; actions: NodeActions; state: LineageState }) {
  const sorted = useMemo(() => [...nodes].sort((a, b) => a.seq - b.seq || a.label.localeCompare(b.label)), [nodes]);
  return (
    <ol className="node-list" aria-label="Nodes in the graph">
      {sorted.map((n) => (
        <li key={n.id} className={state.selected === n.id ? "selected" : undefined} data-node-id={n.id}>
          <KindBadge type={n.type} />{" "}
          <button type="button" className="link-button" onClick={() => actions.open(n.id, false)}>
            {n.label}
          </button>{" "}
          <StatusPill status={n.status} /> <span className="muted small">{category(n) === "run" ? n.kind : ""}</span>{" "}
          <Link to={pageFor(n)} className="small">
            page
          </Link>
        </li>
      ))}
    </ol>
  );
}
