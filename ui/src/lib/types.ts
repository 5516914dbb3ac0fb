// Shapes of the Pedigree HTTP API's answers (see /openapi.json and pedigree/server/).

export type NodeType = "dataset_version" | "model_version" | "run";
export type EdgeKind = "used" | "generated" | "derived_from" | "trained_on" | string;

/** A lineage node as the store describes it (`Node.to_json()`). */
export interface ApiNode {
  id: string;
  type: NodeType;
  label: string;
  namespace: string;
  name: string;
  /** Lifecycle state of a version, or a run's status. */
  status: string;
  recorded_at: string;
  seq: number;
  version?: string;
  run_id?: string;
  kind?: string;
  distance?: number;
}

export interface ApiEdge {
  source: string;
  target: string;
  kind: EdgeKind;
  role?: string | null;
}

export interface TraceAnswer {
  query: { node: string; direction?: string; depth?: number | null; as_of_seq?: number | null };
  roots: string[];
  nodes: ApiNode[];
  edges: ApiEdge[];
  hidden_nodes: number;
}

export interface PathAnswer extends Partial<TraceAnswer> {
  connected: boolean;
}

/** The marker the server puts where a value is withheld from the caller's role. */
export interface RedactedMarker {
  redacted: true;
  reason: "confidential" | "summary" | string;
}

export interface LogEntry<B = Record<string, unknown>> {
  seq: number;
  time: string;
  actor: string;
  schema: string;
  body: B;
}

export interface AnnotationBody {
  annotation_id?: string;
  kind: string;
  target: { type: string; namespace?: string; name?: string; version?: string | null; id?: string | null };
  body: Record<string, unknown> | RedactedMarker;
  supersedes?: string | null;
}

export interface Neighbour {
  node: string;
  label: string;
  type: string;
  kind: EdgeKind;
  role?: string | null;
}

export interface ShowAnswer {
  node: string;
  type: string;
  members: ApiNode[];
  record: LogEntry | null;
  annotations: LogEntry<AnnotationBody>[];
  upstream: Neighbour[];
  downstream: Neighbour[];
  history: LogEntry[];
  hidden_neighbours: number;
}

export interface CatalogItem {
  id: string;
  type: "dataset" | "model" | "job";
  namespace: string;
  name: string;
  versions?: number;
  runs?: number;
  latest: ApiNode | null;
}

export interface WhoAmI {
  token_id: string;
  name: string;
  role: string;
  namespaces: string[];
  actor: string;
  permissions: string[];
}

export interface VerifyCheck {
  check: string;
  ok: boolean;
  detail: string;
  skipped?: boolean;
}

export interface VerifyAnswer {
  valid: boolean;
  checks: VerifyCheck[];
  subject: { name: string; digest: Record<string, string> }[] | null;
  statement_sha256: string | null;
  issued_here: boolean;
  recorded: { seq: number; time: string; target: Record<string, unknown> } | null;
  data_file: string | null;
  trusted_keys: { name: string; kind: string; key_id: string }[];
}

export interface Checkpoint {
  checkpoint: { log_id: string; size: number; root: string; time: string };
}
