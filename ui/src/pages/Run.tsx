// A run: job, kind, intent and whether its expectations held, parameters, seeds, code,
// environment, inputs and outputs, status and error. And a job: its runs.

import type { ReactNode } from "react";
import { useApi, useTitle } from "../lib/hooks";
import { Link } from "../lib/router";
import { href } from "../lib/route";
import type { AnnotationBody, ApiNode, LogEntry, Neighbour, ShowAnswer } from "../lib/types";
import { asRecord, duration, isRedacted, plural, relativeTime } from "../lib/values";
import { Empty, ErrorBox, KindBadge, KV, Loading, Pill, Redacted, RefLink, Section, StatusPill, Time, Value, Verdict } from "../components/ui";

function Field({ value, empty = "none recorded" }: { value: unknown; empty?: string }) {
  if (value === undefined || value === null) return <span className="muted">{empty}</span>;
  const record = asRecord(value);
  if (record && Object.keys(record).length === 0) return <span className="muted">{empty}</span>;
  return <Value value={value} />;
}

export function RunPage({ id }: { id: string }) {
  const show = useApi<ShowAnswer>("/show", { node: id });
  const node = show.data?.members[0];
  useTitle(node ? node.label : "Run");
  if (show.error) {
    return (
      <main className="page" id="main">
        <ErrorBox error={show.error} onRetry={show.reload} />
      </main>
    );
  }
  if (!show.data || !node) return <Loading what="Loading the run" />;
  const body = asRecord(show.data.record?.body) ?? {};
  const intent = body.intent;
  const intentRecord = asRecord(intent);
  const expects = intentRecord && Array.isArray(intentRecord.expect) ? (intentRecord.expect as unknown[]) : [];
  const expectations = show.data.annotations.filter((a) => a.body.kind === "expectations").sort((a, b) => b.seq - a.seq);
  const others = show.data.annotations.filter((a) => a.body.kind !== "expectations");
  const env = asRecord(body.environment);
  const packages = env ? env.packages : undefined;
  const packageCount = asRecord(packages) ? Object.keys(asRecord(packages)!).length : 0;
  return (
    <main className="page" id="main">
      <div className="page-head">
        <div>
          <div className="eyebrow">
            <KindBadge type="run" /> {node.kind} run · {node.namespace}
          </div>
          <h1 className="title">
            <Link to={href.job(`job:${node.namespace}:${node.name}`)}>{node.name}</Link> <span className="muted">#{(node.run_id ?? "").slice(0, 8)}</span>
          </h1>
        </div>
        <div className="page-actions">
          <StatusPill status={node.status} />
          <Link className="button button-primary" to={href.lineage(node.id)}>
            Lineage graph
          </Link>
        </div>
      </div>
      <div className="grid-2">
        <div className="stack">
          <Section title="Run" id="run">
            <KV
              rows={[
                ["Job", <Link to={href.job(`job:${node.namespace}:${node.name}`)}>{node.namespace}:{node.name}</Link>],
                ["Kind", node.kind ?? "—"],
                ["Status", <StatusPill status={node.status} />],
                ["Run id", <code>{node.run_id}</code>],
                ["Started", <Time iso={typeof body.started_at === "string" ? body.started_at : null} />],
                ["Ended", <Time iso={typeof body.ended_at === "string" ? body.ended_at : null} />],
                ["Took", duration(body.started_at as string, body.ended_at as string) || "—"],
                ["Recorded by", show.data.record ? <code>{show.data.record.actor}</code> : "—"],
                ...(body.parent_run_id ? ([["Parent run", <Link to={href.run(String(body.parent_run_id))}>{String(body.parent_run_id).slice(0, 8)}</Link>]] as [string, ReactNode][]) : []),
                ...(body.agents !== undefined ? ([["Agents", <Field value={body.agents} />]] as [string, ReactNode][]) : []),
              ]}
            />
            {body.error !== undefined && body.error !== null && (
              <div className="notice notice-bad" role="note">
                <strong>Error</strong>
                <div>
                  <Value value={body.error} />
                </div>
              </div>
            )}
          </Section>
          <Section title="Intent" id="intent">
            {isRedacted(intent) ? (
              <Redacted reason={intent.reason} />
            ) : !intentRecord ? (
              <Empty>No intent recorded.</Empty>
            ) : (
              <>
                <p className="intent-text">“{String(intentRecord.text ?? "")}”</p>
                {expects.length === 0 ? (
                  <p className="muted small">No machine-checkable expectations.</p>
                ) : (
                  <Expectations expects={expects} results={expectations[0] ?? null} />
                )}
              </>
            )}
          </Section>
          <Section title="Parameters" id="parameters">
            <Field value={body.parameters} />
          </Section>
          <Section title="Seeds" id="seeds">
            <Field value={body.seeds} empty="no seeds recorded" />
          </Section>
          <Section title="Code" id="code">
            <Field value={body.code} />
          </Section>
          <Section title="Environment" id="environment">
            {isRedacted(env) || !env ? (
              <Field value={body.environment} />
            ) : (
              <>
                <KV rows={Object.entries(env).filter(([k]) => k !== "packages").map(([k, v]) => [k, <Field value={v} empty="—" />])} />
                <details className="packages">
                  <summary>Packages ({packageCount})</summary>
                  <Field value={packages} />
                </details>
              </>
            )}
          </Section>
        </div>
        <div className="stack">
          <Section title="Inputs" id="inputs">
            <Neighbours items={show.data.upstream} empty="No inputs." />
          </Section>
          <Section title="Outputs" id="outputs">
            <Neighbours items={show.data.downstream} empty="No outputs." />
          </Section>
          {body.facets !== undefined && (
            <Section title="Facets" id="facets">
              <Field value={body.facets} />
            </Section>
          )}
          <Section title="Annotations" id="annotations">
            {others.length === 0 ? <Empty>None.</Empty> : <AnnotationList items={others} />}
          </Section>
          <Section title={`History (${plural(show.data.history.length, "record")})`} id="history">
            <ol className="events">
              {show.data.history.map((h) => (
                <li key={h.seq}>
                  #{h.seq} · <Time iso={h.time} /> · <code>{h.actor}</code> ·{" "}
                  {h.schema.startsWith("pedigree.run/") ? <StatusPill status={String(asRecord(h.body)?.status ?? "")} /> : <span className="muted">{h.schema}</span>}
                </li>
              ))}
            </ol>
          </Section>
        </div>
      </div>
    </main>
  );
}

function Expectations({ expects, results }: { expects: unknown[]; results: LogEntry<AnnotationBody> | null }) {
  const body = results ? asRecord(results.body.body) : null;
  const list = body && Array.isArray(body.results) ? (body.results as Record<string, unknown>[]) : [];
  return (
    <div className="expectations">
      <div className="expectations-head">
        {results === null ? (
          <Pill tone="muted">not checked yet</Pill>
        ) : body === null ? (
          <Redacted reason="summary" />
        ) : (
          <Verdict ok={typeof body.held === "boolean" ? body.held : null} yes="expectations held" no="expectations failed" />
        )}
        {results && <span className="muted small">checked {relativeTime(results.time)} (record #{results.seq})</span>}
      </div>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Expectation</th>
            <th scope="col">Observed</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {expects.map((e, i) => {
            const text = isRedacted(e) ? null : String(e);
            const result = list.find((r) => r.expect === text) ?? list[i];
            return (
              <tr key={i}>
                <td>{text === null ? <Redacted reason="summary" /> : <code>{text}</code>}</td>
                <td>{result ? <Value value={result.observed} /> : <span className="muted">—</span>}</td>
                <td>{result ? <StatusPill status={String(result.status)} /> : <span className="muted">not checked</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Neighbours({ items, empty }: { items: Neighbour[]; empty: string }) {
  if (items.length === 0) return <Empty>{empty}</Empty>;
  return (
    <ul className="list">
      {items.map((n) => (
        <li key={`${n.node}-${n.kind}-${n.role}`} className="list-item">
          <RefLink id={n.node} type={n.type} label={n.label} />
          <span className="meta">
            <span className="edge-word">{n.kind.replace(/_/g, " ")}</span>
            {n.role && <Pill tone="neutral">{n.role}</Pill>}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function AnnotationList({ items }: { items: LogEntry<AnnotationBody>[] }) {
  return (
    <ul className="list">
      {items.map((a) => (
        <li key={a.seq} className="list-item list-item-block">
          <div>
            <Pill tone="neutral">{a.body.kind}</Pill> <span className="muted small">#{a.seq} · {relativeTime(a.time)} · {a.actor}</span>
          </div>
          <Value value={a.body.body} />
        </li>
      ))}
    </ul>
  );
}

interface RunsAnswer {
  total: number;
  runs: ApiNode[];
}

export function JobPage({ name }: { name: string }) {
  const runs = useApi<RunsAnswer>("/runs", { job: name.replace(/^job:/, ""), limit: 200 });
  const title = name.replace(/^job:/, "");
  useTitle(title);
  return (
    <main className="page" id="main">
      <div className="page-head">
        <div>
          <div className="eyebrow">
            <KindBadge type="job" />
          </div>
          <h1 className="title">{title}</h1>
        </div>
        {runs.data && runs.data.runs[0] && (
          <div className="page-actions">
            <Link className="button button-primary" to={href.lineage(name.startsWith("job:") ? name : `job:${name}`)}>
              Lineage graph
            </Link>
          </div>
        )}
      </div>
      <Section title={runs.data ? `Runs (${runs.data.total})` : "Runs"} id="job-runs">
        {runs.error ? (
          <ErrorBox error={runs.error} onRetry={runs.reload} />
        ) : !runs.data ? (
          <Loading />
        ) : runs.data.runs.length === 0 ? (
          <Empty>No runs.</Empty>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Recorded</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link to={href.run(r.id)}>#{(r.run_id ?? "").slice(0, 8)}</Link>
                  </td>
                  <td>{r.kind}</td>
                  <td>
                    <StatusPill status={r.status} />
                  </td>
                  <td>
                    <Time iso={r.recorded_at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </main>
  );
}
