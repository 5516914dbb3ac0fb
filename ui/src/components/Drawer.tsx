// The details drawer of the selected graph node: fingerprint, who, when, parameters,
// seeds, intent and whether its expectations held, evaluations, certificates.

import { useEffect, useRef, type ReactNode } from "react";
import { useApi } from "../lib/hooks";
import { Link } from "../lib/router";
import { href, pageFor } from "../lib/route";
import { failedHeadlines, parseEvaluation } from "../lib/evaluations";
import type { AnnotationBody, LogEntry, ShowAnswer } from "../lib/types";
import { asRecord, isRedacted, shortHash } from "../lib/values";
import { HeadlineBars } from "./Bars";
import { ErrorBox, KindBadge, KV, Loading, Pill, Redacted, StatusPill, Time, Value, Verdict } from "./ui";

interface DrawerProps {
  id: string;
  asOf: string | null;
  onClose: () => void;
  onPathFrom: (id: string) => void;
  onPathTo: (id: string) => void;
  onFocus: (id: string) => void;
  pathFrom: string | null;
}

function latest(annotations: LogEntry<AnnotationBody>[], kind: string): LogEntry<AnnotationBody> | null {
  const list = annotations.filter((a) => a.body.kind === kind).sort((a, b) => a.seq - b.seq);
  return list[list.length - 1] ?? null;
}

export function Drawer({ id, asOf, onClose, onPathFrom, onPathTo, onFocus, pathFrom }: DrawerProps) {
  const show = useApi<ShowAnswer>("/show", { node: id, as_of: asOf });
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [id]);
  const node = show.data?.members[0];
  return (
    <aside
      className="drawer"
      aria-label="Node details"
      tabIndex={-1}
      ref={ref}
      onKeyDown={(e) => {
        if (e.key === "Escape") onClose();
      }}
      data-testid="drawer"
    >
      <header className="drawer-head">
        <div>
          {node && (
            <div className="eyebrow">
              <KindBadge type={node.type} /> {node.namespace}
            </div>
          )}
          <h2 className="drawer-title">{node ? node.name : id}</h2>
        </div>
        <button type="button" className="button button-ghost" onClick={onClose} aria-label="Close details">
          ✕
        </button>
      </header>
      {show.error ? (
        <ErrorBox error={show.error} onRetry={show.reload} compact />
      ) : !show.data || !node ? (
        <Loading />
      ) : (
        <div className="drawer-body">
          <div className="drawer-actions">
            <Link className="button small button-primary" to={pageFor(node)}>
              Open {node.type === "run" ? "run" : node.type === "model_version" ? "model" : "dataset"} page
            </Link>
            <button type="button" className="button small" onClick={() => onFocus(node.id)}>
              Centre graph here
            </button>
            {pathFrom && pathFrom !== node.id ? (
              <button type="button" className="button small" onClick={() => onPathTo(node.id)}>
                Path from A to here
              </button>
            ) : (
              <button type="button" className="button small" onClick={() => onPathFrom(node.id)}>
                Start a path here
              </button>
            )}
            {node.type !== "run" && (
              <Link className="button small" to={href.compare(node.id, "")}>
                Compare…
              </Link>
            )}
          </div>
          {node.type === "run" ? <RunDetails show={show.data} /> : <VersionDetails show={show.data} />}
        </div>
      )}
    </aside>
  );
}

function Who({ show }: { show: ShowAnswer }) {
  const record = show.record;
  return record ? (
    <span>
      <code>{record.actor}</code> · record #{record.seq}
    </span>
  ) : (
    <span className="muted">—</span>
  );
}

function VersionDetails({ show }: { show: ShowAnswer }) {
  const node = show.members[0];
  const body = asRecord(show.record?.body) ?? {};
  const evaluation = latest(show.annotations, "evaluation");
  const parsed = evaluation ? parseEvaluation(evaluation) : null;
  const certificates = show.annotations.filter((a) => a.body.kind === "certificate");
  const intended = latest(show.annotations, "intended_use");
  const columns = Array.isArray(body.columns) ? (body.columns as Record<string, unknown>[]) : null;
  const rows: [ReactNode, ReactNode][] = [
    ["Version", <code className="hash" title={node.version}>{shortHash(node.version, 16)}</code>],
    ["Fingerprint", isRedacted(body.fingerprint) ? <Redacted reason={body.fingerprint.reason} /> : body.fingerprint ? <code className="hash" title={String(body.fingerprint)}>{shortHash(String(body.fingerprint), 24)}</code> : <span className="muted">files only</span>],
    ["Lifecycle", <StatusPill status={node.status} />],
    ["Recorded", <Time iso={show.record?.time ?? node.recorded_at} />],
    ["By", <Who show={show} />],
    ...((node.type === "model_version"
      ? [
          ["Framework", <Value value={body.framework} />],
          ["Model class", <Value value={body.model_class} />],
        ]
      : [
          ["Rows", <Value value={body.row_count} />],
          ["Columns", isRedacted(body.columns) ? <Redacted reason={body.columns.reason} /> : columns ? columns.map((c) => String(c.name)).join(", ") : <span className="muted">—</span>],
        ]) as [ReactNode, ReactNode][]),
    ["Intended use", intended ? <Value value={intended.body.body} /> : <span className="muted">none declared</span>],
    ["Made by", show.upstream.length ? show.upstream.map((u) => <div key={u.node}>{u.kind.replace(/_/g, " ")} ← {u.label}</div>) : <span className="muted">nothing recorded</span>],
  ];
  return (
    <>
      <KV rows={rows} />
      <h3 className="drawer-section">Evaluation</h3>
      {!parsed ? (
        <p className="muted small">Not evaluated.</p>
      ) : parsed.redacted ? (
        <p>
          <Redacted reason="summary" />
        </p>
      ) : (
        <div data-testid="drawer-evaluation">
          <p>
            <Verdict ok={parsed.passed} yes="thresholds met" no="thresholds missed" /> <span className="small">{parsed.summary}</span>
          </p>
          {failedHeadlines(parsed).length > 0 && <p className="small">Missed: {failedHeadlines(parsed).map((h) => h.name.replace(/_/g, " ")).join(", ")}</p>}
          <HeadlineBars items={parsed.headline.slice(0, 8)} title="Headline figures" />
        </div>
      )}
      <h3 className="drawer-section">Certificates</h3>
      {certificates.length === 0 ? (
        <p className="muted small">None issued.</p>
      ) : (
        <ul className="plain">
          {certificates.map((c) => {
            const b = asRecord(c.body.body);
            const sha = b && typeof b.statement_sha256 === "string" ? b.statement_sha256 : null;
            return (
              <li key={c.seq}>
                <Pill tone="good">certificate</Pill> <code>{sha ? sha.slice(0, 12) : "…"}</code> <Time iso={c.time} />{" "}
                <Link to={href.verify(sha)} className="small">
                  verify
                </Link>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}

function RunDetails({ show }: { show: ShowAnswer }) {
  const node = show.members[0];
  const body = asRecord(show.record?.body) ?? {};
  const intent = asRecord(body.intent);
  const expectations = latest(show.annotations, "expectations");
  const held = expectations ? asRecord(expectations.body.body) : null;
  const rows: [ReactNode, ReactNode][] = [
    ["Job", <Link to={href.job(`job:${node.namespace}:${node.name}`)}>{node.name}</Link>],
    ["Kind", node.kind ?? "—"],
    ["Status", <StatusPill status={node.status} />],
    ["Started", <Time iso={typeof body.started_at === "string" ? body.started_at : null} />],
    ["Ended", <Time iso={typeof body.ended_at === "string" ? body.ended_at : null} />],
    ["By", <Who show={show} />],
    [
      "Intent",
      isRedacted(body.intent) ? (
        <Redacted reason={body.intent.reason} />
      ) : intent ? (
        <span className="intent-text">“{String(intent.text ?? "")}”</span>
      ) : (
        <span className="muted">none recorded</span>
      ),
    ],
    [
      "Expectations",
      intent && Array.isArray(intent.expect) && intent.expect.length ? (
        <div>
          {(intent.expect as unknown[]).map((e, i) => (
            <div key={i}>
              <Value value={e} />
            </div>
          ))}
          {!expectations ? (
            <Pill tone="muted">not checked yet</Pill>
          ) : held ? (
            <Verdict ok={typeof held.held === "boolean" ? held.held : null} yes="held" no="failed" />
          ) : (
            <Redacted reason="summary" />
          )}
        </div>
      ) : (
        <span className="muted">none</span>
      ),
    ],
    ["Parameters", <Value value={body.parameters} />],
    ["Seeds", <Value value={body.seeds} />],
    ["Code", <Value value={asRecord(body.code) ? { commit: asRecord(body.code)!.commit, dirty: asRecord(body.code)!.dirty, repository: asRecord(body.code)!.repository } : body.code} />],
  ];
  if (body.error !== undefined && body.error !== null) rows.push(["Error", <Value value={body.error} />]);
  return <KV rows={rows} />;
}
