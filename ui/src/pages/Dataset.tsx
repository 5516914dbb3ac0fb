// A dataset (or model): versions timeline, fingerprint and schema, intended use,
// lifecycle, evaluations as charts, certificates, downstream consumers.

import { useEffect, useMemo, useState, type ReactNode } from "react";
import { useApi, useTitle } from "../lib/hooks";
import { Link, useRouter } from "../lib/router";
import { href, pageFor, seriesRef } from "../lib/route";
import { byFamily, parseEvaluation, type Evaluation } from "../lib/evaluations";
import type { AnnotationBody, ApiNode, LogEntry, ShowAnswer, TraceAnswer } from "../lib/types";
import { asRecord, formatNumber, isRedacted, plural, shortHash } from "../lib/values";
import { HeadlineBars, MetricBars } from "../components/Bars";
import { Empty, ErrorBox, KindBadge, KV, Loading, RefLink, Pill, Redacted, Section, StatusPill, Time, Value, Verdict } from "../components/ui";

interface CertificateEntry extends LogEntry<AnnotationBody> {
  revoked_by: number | null;
}

export function DatasetPage({ refName, version }: { refName: string; version: string | null }) {
  const series = useApi<ShowAnswer>("/show", { node: refName });
  const { navigate } = useRouter();
  // A version reference opens its dataset's page at that version.
  const single = series.data && series.data.type.endsWith("_version") ? series.data.members[0] : null;
  useEffect(() => {
    if (single) navigate(href.dataset(seriesRef(single), single.version ?? null), { replace: true });
  }, [single, navigate]);
  const members = useMemo(() => [...(series.data?.members ?? [])].sort((a, b) => a.seq - b.seq), [series.data]);
  const selected = members.find((m) => m.version === version) ?? members[members.length - 1] ?? null;
  const name = members[0]?.name ?? refName;
  useTitle(name);
  if (series.error) {
    return (
      <main className="page" id="main">
        <ErrorBox error={series.error} onRetry={series.reload} />
      </main>
    );
  }
  if (!series.data || single) return <Loading what="Loading the dataset" />;
  if (!selected) {
    return (
      <main className="page" id="main">
        <ErrorBox error={new Error(`${refName} has no versions`)} />
      </main>
    );
  }
  const isModel = selected.type === "model_version";
  return (
    <main className="page" id="main">
      <div className="page-head">
        <div>
          <div className="eyebrow">
            <KindBadge type={selected.type} /> {selected.namespace}
          </div>
          <h1 className="title">{name}</h1>
        </div>
        <div className="page-actions">
          <Link className="button button-primary" to={href.lineage(selected.id)}>
            Lineage graph
          </Link>
        </div>
      </div>
      <Timeline members={members} selected={selected} refName={refName} />
      <VersionDetails key={selected.id} node={selected} isModel={isModel} seriesAnnotations={series.data.annotations} />
    </main>
  );
}

function Timeline({ members, selected, refName }: { members: ApiNode[]; selected: ApiNode; refName: string }) {
  const { navigate } = useRouter();
  const [other, setOther] = useState<string>("");
  return (
    <Section title={`Versions (${members.length})`} id="versions">
      <ol className="timeline" aria-label="Versions, oldest first">
        {members.map((m, i) => (
          <li key={m.id} className={m.id === selected.id ? "timeline-item current" : "timeline-item"}>
            <Link
              to={href.dataset(refName, m.version ?? null)}
              aria-current={m.id === selected.id ? "true" : undefined}
              className="timeline-link"
            >
              <span className="timeline-dot" aria-hidden="true" />
              <span className="timeline-label">
                v{i + 1} · <code>{shortHash(m.version)}</code>
              </span>
              <span className="timeline-meta">
                <Time iso={m.recorded_at} /> <StatusPill status={m.status} />
              </span>
            </Link>
          </li>
        ))}
      </ol>
      {members.length > 1 && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (other) navigate(href.compare(other, selected.id));
          }}
        >
          <label htmlFor="compare-with">Compare this version with</label>
          <select id="compare-with" value={other} onChange={(e) => setOther(e.target.value)}>
            <option value="">choose a version…</option>
            {members
              .filter((m) => m.id !== selected.id)
              .map((m) => (
                <option key={m.id} value={m.id}>
                  {shortHash(m.version)} ({m.recorded_at.slice(0, 19).replace("T", " ")})
                </option>
              ))}
          </select>
          <button type="submit" className="button" disabled={!other}>
            Compare
          </button>
        </form>
      )}
    </Section>
  );
}

function latestOfKind(annotations: LogEntry<AnnotationBody>[], kind: string): LogEntry<AnnotationBody> | null {
  const list = annotations.filter((a) => a.body.kind === kind).sort((a, b) => a.seq - b.seq);
  return list[list.length - 1] ?? null;
}

function VersionDetails({ node, isModel, seriesAnnotations }: { node: ApiNode; isModel: boolean; seriesAnnotations: LogEntry<AnnotationBody>[] }) {
  const show = useApi<ShowAnswer>("/show", { node: node.id });
  const certificates = useApi<{ certificates: CertificateEntry[] }>("/certificates", { node: node.id });
  const impact = useApi<TraceAnswer>("/impact", { node: node.id });
  if (show.error) return <ErrorBox error={show.error} onRetry={show.reload} />;
  if (!show.data) return <Loading what="Loading the version" />;
  const record = show.data.record;
  const body = asRecord(record?.body) ?? {};
  // Annotations on this version, and those on the dataset as a whole.
  const annotations = [
    ...show.data.annotations,
    ...seriesAnnotations.filter((a) => a.body.target.type !== "version" && a.body.target.type !== "run"),
  ];
  const intended = latestOfKind(annotations, "intended_use");
  const lifecycle = annotations.filter((a) => a.body.kind === "lifecycle").sort((a, b) => a.seq - b.seq);
  const evaluations = annotations
    .filter((a) => a.body.kind === "evaluation")
    .sort((a, b) => b.seq - a.seq)
    .map(parseEvaluation);
  const columns = Array.isArray(body.columns) ? (body.columns as Record<string, unknown>[]) : null;
  const columnDigests = asRecord(asRecord(body.facets)?.column_digests);
  return (
    <div className="grid-2 dataset-grid">
      <div className="stack">
        <Section title="This version" id="version">
          <KV
            rows={[
              ["Version", <code className="hash" title={node.version}>{node.version}</code>],
              ["Fingerprint", isRedacted(body.fingerprint) ? <Redacted reason={body.fingerprint.reason} /> : body.fingerprint ? <code className="hash">{String(body.fingerprint)}</code> : <span className="muted">files only</span>],
              ["Lifecycle", <StatusPill status={node.status} />],
              ["Rows", body.row_count === undefined ? <span className="muted">—</span> : <Value value={body.row_count} />],
              ["Recorded", <Time iso={record?.time ?? node.recorded_at} />],
              ["By", record ? <code>{record.actor}</code> : "—"],
              ["Record", record ? <span>#{record.seq} <span className="muted">{record.schema}</span></span> : "—"],
              ...(isModel ? ([["Framework", <Value value={body.framework} />], ["Model class", <Value value={body.model_class} />]] as [string, ReactNode][]) : []),
              ...(body.uri !== undefined ? ([["Location", <Value value={body.uri} />]] as [string, ReactNode][]) : []),
              ...(body.description !== undefined ? ([["Description", <Value value={body.description} />]] as [string, ReactNode][]) : []),
            ]}
          />
        </Section>
        <Section title={columns ? `Schema (${columns.length} columns)` : "Schema"} id="schema">
          {isRedacted(body.columns) ? (
            <Redacted reason={body.columns.reason} />
          ) : !columns ? (
            <Empty>No columns recorded.</Empty>
          ) : (
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Column</th>
                  <th scope="col">Type</th>
                  <th scope="col">Content digest</th>
                </tr>
              </thead>
              <tbody>
                {columns.map((c) => (
                  <tr key={String(c.name)}>
                    <td>
                      <code>{String(c.name)}</code>
                    </td>
                    <td>{String(c.type ?? "")}</td>
                    <td>
                      {isRedacted(body.facets) ? (
                        <Redacted reason={body.facets.reason} />
                      ) : columnDigests && typeof columnDigests[String(c.name)] === "string" ? (
                        <code className="muted">{String(columnDigests[String(c.name)]).slice(0, 16)}</code>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <Section title="Intended use" id="intended-use">
          {!intended ? <Empty>No intended use declared.</Empty> : <Value value={intended.body.body} />}
        </Section>
        <Section title="Lifecycle" id="lifecycle">
          <p>
            Current state: <StatusPill status={node.status} />
          </p>
          {lifecycle.length === 0 ? (
            <p className="muted small">No lifecycle changes recorded (a version starts active).</p>
          ) : (
            <ol className="events">
              {lifecycle.map((a) => (
                <li key={a.seq}>
                  <Time iso={a.time} /> · <code>{a.actor}</code> · <Value value={a.body.body} />
                </li>
              ))}
            </ol>
          )}
        </Section>
        <Certificates data={certificates.data?.certificates ?? null} error={certificates.error} reload={certificates.reload} />
      </div>
      <div className="stack">
        <Section title={`Evaluations (${evaluations.length})`} id="evaluations">
          {evaluations.length === 0 ? <Empty>Not evaluated. Run <code>pedigree eval</code> to measure fidelity, privacy, fairness and utility.</Empty> : evaluations.map((e, i) => <EvaluationView key={e.seq} evaluation={e} latest={i === 0} />)}
        </Section>
        <Section title="Made by" id="upstream">
          {show.data.upstream.length === 0 ? (
            <Empty>Nothing upstream recorded.</Empty>
          ) : (
            <ul className="list">
              {show.data.upstream.map((n) => (
                <li key={n.node} className="list-item">
                  <RefLink id={n.node} type={n.type} label={n.label} />
                  <span className="edge-word">{n.kind.replace(/_/g, " ")}{n.role ? ` (${n.role})` : ""}</span>
                </li>
              ))}
            </ul>
          )}
        </Section>
        <Consumers impact={impact.data} error={impact.error} reload={impact.reload} />
      </div>
    </div>
  );
}

function EvaluationView({ evaluation, latest }: { evaluation: Evaluation; latest: boolean }) {
  const [open, setOpen] = useState(false);
  if (evaluation.redacted) {
    return (
      <div className="evaluation">
        <p>
          Evaluation #{evaluation.seq} · <Time iso={evaluation.time} /> · results <Redacted reason="summary" />
        </p>
      </div>
    );
  }
  return (
    <div className="evaluation" data-testid="evaluation">
      <div className="evaluation-head">
        <Verdict ok={evaluation.passed} yes="all thresholds met" no="thresholds missed" />
        <span>{evaluation.summary}</span>
        <span className="muted small">
          #{evaluation.seq} · <Time iso={evaluation.time} /> {latest && "· latest"}
        </span>
      </div>
      <p className="muted small">
        Bars: measured values; black line: the threshold (scores must reach it, risks must stay below it)
        {evaluation.thresholdSource && `; thresholds from ${evaluation.thresholdSource}`}.
      </p>
      {byFamily(evaluation.headline).map(([family, items]) => (
        <div key={family} className="family">
          <h3 className="family-title">{family}</h3>
          <HeadlineBars items={items} title={`${family} headline figures`} />
        </div>
      ))}
      {evaluation.metrics.length > 0 && (
        <details open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
          <summary>All {plural(evaluation.metrics.length, "metric")}</summary>
          {open &&
            byFamily(evaluation.metrics).map(([family, items]) => (
              <div key={family} className="family">
                <h3 className="family-title">{family}</h3>
                <MetricBars items={items} title={`${family} metrics`} />
              </div>
            ))}
        </details>
      )}
    </div>
  );
}

function Certificates({ data, error, reload }: { data: CertificateEntry[] | null; error: unknown; reload: () => void }) {
  return (
    <Section title="Certificates" id="certificates">
      {error ? (
        <ErrorBox error={error} onRetry={reload} compact />
      ) : !data ? (
        <Loading />
      ) : data.length === 0 ? (
        <Empty>
          No certificate issued. <code>pedigree certify NAME --key KEY -o cert.json</code> issues one.
        </Empty>
      ) : (
        <ul className="list">
          {data.map((c) => {
            const body = asRecord(c.body.body);
            const sha = body && typeof body.statement_sha256 === "string" ? body.statement_sha256 : null;
            return (
              <li key={c.seq} className="list-item list-item-block" data-testid="certificate">
                <div>
                  <strong>Certificate</strong> <code>{sha ? sha.slice(0, 16) : "…"}</code> · <Time iso={c.time} /> ·{" "}
                  {c.revoked_by ? <Pill tone="bad">revoked at record #{c.revoked_by}</Pill> : <Pill tone="good">not revoked</Pill>}
                </div>
                <div className="small">
                  {body ? (
                    <>
                      signed by key <code>{String(body.signing_key_id ?? "").slice(0, 16)}</code> against a checkpoint of {formatNumber(Number(body.checkpoint_size ?? 0))} records
                    </>
                  ) : (
                    <Redacted reason="summary" />
                  )}
                </div>
                <div>
                  <Link className="button small" to={href.verify(sha)}>
                    Verify this certificate…
                  </Link>
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </Section>
  );
}

function Consumers({ impact, error, reload }: { impact: TraceAnswer | null; error: unknown; reload: () => void }) {
  const downstream = (impact?.nodes ?? []).filter((n) => (n.distance ?? 0) > 0).sort((a, b) => (a.distance ?? 0) - (b.distance ?? 0) || a.label.localeCompare(b.label));
  const direct = downstream.filter((n) => n.distance === 1);
  const further = downstream.filter((n) => (n.distance ?? 0) > 1);
  return (
    <Section title="Downstream consumers" id="consumers">
      {error ? (
        <ErrorBox error={error} onRetry={reload} compact />
      ) : !impact ? (
        <Loading />
      ) : downstream.length === 0 ? (
        <Empty>Nothing uses this version.</Empty>
      ) : (
        <>
          <p className="small muted">
            {plural(direct.length, "run")} read it directly; {plural(further.length, "node")} further downstream.
            {impact.hidden_nodes > 0 && ` ${plural(impact.hidden_nodes, "node")} outside your namespaces not shown.`}
          </p>
          <ul className="list">
            {downstream.slice(0, 60).map((n) => (
              <li key={n.id} className="list-item">
                <Link to={pageFor(n)} className="node-link">
                  <KindBadge type={n.type} /> {n.label}
                </Link>
                <span className="meta">
                  <span className="muted small">{n.distance === 1 ? "direct" : `${n.distance} hops`}</span>
                  <StatusPill status={n.status} />
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Section>
  );
}
