// Home: search, the catalog, recent and failed runs, failed evaluations, and withdrawn
// datasets that something still uses.

import { useMemo, useState, type FormEvent } from "react";
import { api } from "../lib/api";
import { useApi, useLoader, useTitle } from "../lib/hooks";
import { Link, useRouter } from "../lib/router";
import { href, pageFor } from "../lib/route";
import { failedHeadlines, latestByTarget, parseEvaluation, targetKey } from "../lib/evaluations";
import type { AnnotationBody, ApiNode, CatalogItem, LogEntry, TraceAnswer } from "../lib/types";
import { asRecord, isRedacted, plural, relativeTime } from "../lib/values";
import { Empty, ErrorBox, KindBadge, Loading, NodeLink, Pill, Section, StatusPill } from "../components/ui";

interface DatasetsAnswer {
  total: number;
  datasets: CatalogItem[];
}
interface JobsAnswer {
  total: number;
  jobs: CatalogItem[];
}
interface RunsAnswer {
  total: number;
  runs: ApiNode[];
}
interface SearchAnswer {
  total: number;
  datasets: CatalogItem[];
  jobs: CatalogItem[];
}

export function Home({ q }: { q: string }) {
  useTitle(q ? `Search: ${q}` : "Home");
  return (
    <main className="page" id="main">
      <SearchBox q={q} />
      {q ? <SearchResults q={q} /> : <Dashboard />}
    </main>
  );
}

function SearchBox({ q }: { q: string }) {
  const { navigate } = useRouter();
  const [value, setValue] = useState(q);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(href.home(value.trim()));
  };
  return (
    <form className="hero-search" role="search" onSubmit={submit}>
      <label htmlFor="home-search">
        <h1>Find a dataset, model, job or run</h1>
      </label>
      <div className="hero-row">
        <input
          id="home-search"
          type="search"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="e.g. turnout, synthetic/, a run id…"
          autoComplete="off"
        />
        <button type="submit" className="button button-primary">Search</button>
      </div>
    </form>
  );
}

function SearchResults({ q }: { q: string }) {
  const found = useApi<SearchAnswer>("/search", { q, limit: 50 });
  const runs = useApi<RunsAnswer>("/runs", { limit: 500 });
  const needle = q.toLowerCase().replace(/^run:/, "");
  const matchingRuns = useMemo(
    () =>
      (runs.data?.runs ?? []).filter(
        (r) => r.label.toLowerCase().includes(needle) || (r.run_id ?? "").toLowerCase().startsWith(needle),
      ),
    [runs.data, needle],
  );
  if (found.error) return <ErrorBox error={found.error} onRetry={found.reload} />;
  if (!found.data) return <Loading what="Searching" />;
  const datasets = found.data.datasets.filter((d) => d.type === "dataset");
  const models = found.data.datasets.filter((d) => d.type === "model");
  const total = found.data.datasets.length + found.data.jobs.length + matchingRuns.length;
  // (the runs come in their own answer: until it is here, say so rather than "no run matches")
  const runsPending = runs.data === null && !runs.error;
  return (
    <div className="results" aria-live="polite">
      <p className="muted">
        {plural(total, "result")}
        {runsPending ? " so far" : ""} for <strong>{q}</strong>
      </p>
      <div className="grid-2">
        <Section title={`Datasets (${datasets.length})`} id="found-datasets">
          <CatalogList items={datasets} empty="No dataset matches." />
        </Section>
        <Section title={`Models (${models.length})`} id="found-models">
          <CatalogList items={models} empty="No model matches." />
        </Section>
        <Section title={`Jobs (${found.data.jobs.length})`} id="found-jobs">
          <CatalogList items={found.data.jobs} empty="No job matches." />
        </Section>
        <Section title={runsPending ? "Runs" : `Runs (${matchingRuns.length})`} id="found-runs">
          {runs.error ? (
            <ErrorBox error={runs.error} onRetry={runs.reload} compact />
          ) : runsPending ? (
            <Loading what="Looking through the runs" />
          ) : (
            <RunList runs={matchingRuns.slice(0, 50)} empty="No run matches." />
          )}
        </Section>
      </div>
    </div>
  );
}

function CatalogList({ items, empty }: { items: CatalogItem[]; empty: string }) {
  if (items.length === 0) return <Empty>{empty}</Empty>;
  return (
    <ul className="list">
      {items.map((item) => (
        <li key={item.id} className="list-item">
          <Link to={item.type === "job" ? href.job(item.id) : href.dataset(item.id)} className="node-link">
            <KindBadge type={item.type} /> <span className="name">{item.name}</span>
          </Link>
          <span className="meta">
            {item.namespace !== "default" && <span className="muted">{item.namespace}</span>}
            {item.versions !== undefined && <span className="muted">{plural(item.versions, "version")}</span>}
            {item.runs !== undefined && <span className="muted">{plural(item.runs, "run")}</span>}
            {item.latest && <StatusPill status={item.latest.status} />}
            {item.latest && (
              <Link to={href.lineage(item.type === "job" ? item.latest.id : item.id)} className="small" aria-label={`Lineage of ${item.name}`}>
                lineage
              </Link>
            )}
          </span>
        </li>
      ))}
    </ul>
  );
}

function RunList({ runs, empty }: { runs: ApiNode[]; empty: string }) {
  if (runs.length === 0) return <Empty>{empty}</Empty>;
  return (
    <ul className="list">
      {runs.map((run) => (
        <li key={run.id} className="list-item">
          <NodeLink node={run} />
          <span className="meta">
            <span className="muted">{run.kind}</span>
            <StatusPill status={run.status} />
            <span className="muted small" title={run.recorded_at}>
              {relativeTime(run.recorded_at)}
            </span>
          </span>
        </li>
      ))}
    </ul>
  );
}

function Dashboard() {
  const datasets = useApi<DatasetsAnswer>("/datasets", { limit: 200 });
  const jobs = useApi<JobsAnswer>("/jobs", { limit: 200 });
  const recent = useApi<RunsAnswer>("/runs", { limit: 8 });
  const failed = useApi<RunsAnswer>("/runs", { status: "failed", limit: 20 });
  return (
    <div className="grid-2">
      <Section title="Datasets and models" id="catalog" actions={datasets.data && <span className="muted">{datasets.data.total}</span>}>
        {datasets.error ? <ErrorBox error={datasets.error} onRetry={datasets.reload} compact /> : !datasets.data ? <Loading /> : <CatalogList items={datasets.data.datasets} empty="Nothing recorded yet." />}
      </Section>
      <div className="stack">
        <Section title="Recent runs" id="recent-runs">
          {recent.error ? <ErrorBox error={recent.error} onRetry={recent.reload} compact /> : !recent.data ? <Loading /> : <RunList runs={recent.data.runs} empty="No runs recorded yet." />}
        </Section>
        <Section title="Failed runs" id="failed-runs">
          {failed.error ? <ErrorBox error={failed.error} onRetry={failed.reload} compact /> : !failed.data ? <Loading /> : <RunList runs={failed.data.runs} empty="No failed runs." />}
        </Section>
        <FailedEvaluations />
        <WithdrawnInUse catalog={datasets.data?.datasets ?? null} />
        <Section title="Jobs" id="jobs">
          {jobs.error ? <ErrorBox error={jobs.error} onRetry={jobs.reload} compact /> : !jobs.data ? <Loading /> : <CatalogList items={jobs.data.jobs} empty="No jobs yet." />}
        </Section>
      </div>
    </div>
  );
}

function targetLink(target: AnnotationBody["target"]) {
  if (target.type === "run") return <Link to={href.run(String(target.id))}>run {String(target.id).slice(0, 8)}</Link>;
  const ref = `dataset:${target.namespace}:${target.name}`;
  const label = `${target.name}${target.version ? `@${String(target.version).replace(/^\w+:/, "").slice(0, 12)}` : ""}`;
  return <Link to={href.dataset(ref, target.version ?? null)}>{label}</Link>;
}

function FailedEvaluations() {
  const evaluations = useApi<{ evaluations: LogEntry<AnnotationBody>[] }>("/evaluations", { limit: 1000 });
  const failing = useMemo(() => {
    const latest = latestByTarget(evaluations.data?.evaluations ?? []);
    return [...latest.values()]
      .map((entry) => ({ entry, evaluation: parseEvaluation(entry) }))
      .filter(({ evaluation }) => evaluation.passed === false || failedHeadlines(evaluation).length > 0);
  }, [evaluations.data]);
  const redacted = (evaluations.data?.evaluations ?? []).some((e) => isRedacted(e.body.body));
  return (
    <Section title="Evaluations that failed their thresholds" id="failed-evaluations">
      {evaluations.error ? (
        <ErrorBox error={evaluations.error} onRetry={evaluations.reload} compact />
      ) : !evaluations.data ? (
        <Loading />
      ) : failing.length === 0 ? (
        <Empty>{redacted ? "Evaluation results are redacted for your role." : `All ${plural(evaluations.data.evaluations.length, "evaluation")} met their thresholds.`}</Empty>
      ) : (
        <ul className="list">
          {failing.map(({ entry, evaluation }) => (
            <li key={entry.seq} className="list-item">
              {targetLink(entry.body.target)}
              <span className="meta">
                <Pill tone="bad">✗ failed</Pill>
                <span className="small">{failedHeadlines(evaluation).map((h) => h.name.replace(/_/g, " ")).join(", ") || evaluation.summary}</span>
              </span>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

interface Withdrawn {
  key: string;
  ref: string;
  label: string;
  since: string | null;
  reason: string | null;
  consumers: ApiNode[];
}

function WithdrawnInUse({ catalog }: { catalog: CatalogItem[] | null }) {
  const lifecycle = useApi<{ annotations: LogEntry<AnnotationBody>[] }>("/annotations", { kind: "lifecycle", limit: 1000 });
  const candidates = useMemo(() => {
    if (!lifecycle.data || !catalog) return null;
    const out = new Map<string, Omit<Withdrawn, "consumers">>();
    for (const entry of latestByTarget(lifecycle.data.annotations).values()) {
      const body = asRecord(entry.body.body);
      if (!body || body.state !== "withdrawn") continue;
      const t = entry.body.target;
      const base = `${t.type === "model" ? "model" : "dataset"}:${t.namespace}:${t.name}`;
      const ref = t.version ? `${base}@${t.version}` : base;
      out.set(targetKey(t), {
        key: targetKey(t),
        ref,
        label: `${t.name}${t.version ? `@${String(t.version).replace(/^\w+:/, "").slice(0, 12)}` : ""}`,
        since: entry.time,
        reason: typeof body.reason === "string" ? body.reason : null,
      });
    }
    // A viewer sees no annotation bodies, but the catalog's lifecycle state.
    for (const item of catalog) {
      if (item.latest?.status === "withdrawn" && item.latest.version) {
        const key = `${item.namespace}:${item.name}@${item.latest.version}`;
        if (!out.has(key) && !out.has(`${item.namespace}:${item.name}`)) {
          out.set(key, { key, ref: item.latest.id, label: item.latest.label, since: null, reason: null });
        }
      }
    }
    return [...out.values()];
  }, [lifecycle.data, catalog]);
  const key = candidates ? JSON.stringify(candidates.map((c) => c.ref)) : null;
  const consumers = useLoader<Withdrawn[]>(key, async (signal) => {
    const found = await Promise.all(
      (candidates ?? []).map(async (c) => {
        const down = await api<TraceAnswer>("/trace", { params: { node: c.ref, direction: "down", depth: 1 }, signal });
        return { ...c, consumers: down.nodes.filter((n) => n.type === "run") };
      }),
    );
    return found.filter((w) => w.consumers.length > 0);
  });
  const error = lifecycle.error ?? consumers.error;
  return (
    <Section title="Withdrawn datasets still in use" id="withdrawn-in-use">
      {error ? (
        <ErrorBox error={error} onRetry={() => { lifecycle.reload(); consumers.reload(); }} compact />
      ) : !consumers.data ? (
        <Loading />
      ) : consumers.data.length === 0 ? (
        <Empty>{candidates && candidates.length ? `${plural(candidates.length, "withdrawn dataset")}, none used.` : "No withdrawn datasets."}</Empty>
      ) : (
        <ul className="list">
          {consumers.data.map((w) => (
            <li key={w.key} className="list-item list-item-block">
              <div>
                <Link to={href.lineage(w.ref, { depth: 1, color: "lifecycle" })} className="node-link">
                  <KindBadge type="dataset" /> {w.label}
                </Link>{" "}
                <StatusPill status="withdrawn" />
                {w.since && <span className="muted small"> since {relativeTime(w.since)}</span>}
                {w.reason && <span className="small"> — {w.reason}</span>}
              </div>
              <div className="small">
                used by{" "}
                {w.consumers.map((run, i) => (
                  <span key={run.id}>
                    {i > 0 && ", "}
                    <Link to={pageFor(run)}>{run.label}</Link>
                    {w.since && run.recorded_at > w.since && <Pill tone="bad" title="recorded after the withdrawal">after withdrawal</Pill>}
                  </span>
                ))}
              </div>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}
