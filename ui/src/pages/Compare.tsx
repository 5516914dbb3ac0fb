// Two versions side by side: what differs in their upstream (input versions,
// parameters, seeds, code, environment of the runs that made them).

import { useMemo, useState, type FormEvent } from "react";
import { api } from "../lib/api";
import { compareProfiles, differences, runFacts, SECTION_TITLES, type Profile, type Row, type Section as SectionName } from "../lib/compare";
import { useLoader, useTitle } from "../lib/hooks";
import { Link, useRouter } from "../lib/router";
import { href, pageFor } from "../lib/route";
import type { ShowAnswer, TraceAnswer } from "../lib/types";
import { asRecord, plural } from "../lib/values";
import { Empty, ErrorBox, KindBadge, Loading, Section } from "../components/ui";

const MAX_RUNS = 60;

async function loadProfile(ref: string, signal: AbortSignal): Promise<Profile> {
  const [show, up] = await Promise.all([
    api<ShowAnswer>("/show", { params: { node: ref }, signal }),
    api<TraceAnswer>("/trace", { params: { node: ref, direction: "up" }, signal }),
  ]);
  const target = show.members[show.members.length - 1];
  if (!target || target.type === "run") throw new Error(`${ref} is not a dataset or model version`);
  if (show.members.length > 1) throw new Error(`${ref} names a dataset with ${show.members.length} versions: pick one version`);
  const body = asRecord(show.record?.body) ?? {};
  const versions = new Map<string, Set<string>>();
  const runs = up.nodes.filter((n) => n.type === "run").slice(0, MAX_RUNS);
  for (const n of up.nodes) {
    if (n.type === "run" || n.id === target.id) continue;
    const key = `${n.namespace}:${n.name}`;
    (versions.get(key) ?? versions.set(key, new Set()).get(key)!).add(n.version ?? "?");
  }
  const shown = await Promise.all(runs.map((r) => api<ShowAnswer>("/show", { params: { node: r.id }, signal })));
  const byJob = new Map<string, ReturnType<typeof runFacts>[]>();
  for (const s of shown) {
    const facts = runFacts(asRecord(s.record?.body) ?? {});
    if (facts.job === "?") facts.job = `${s.members[0]?.namespace}:${s.members[0]?.name}`;
    (byJob.get(facts.job) ?? byJob.set(facts.job, []).get(facts.job)!).push(facts);
  }
  const producers = up.edges.filter((e) => e.target === target.id && e.kind === "generated").map((e) => e.source);
  return {
    target,
    fingerprint: typeof body.fingerprint === "string" ? body.fingerprint : null,
    rowCount: body.row_count,
    columns: Array.isArray(body.columns) ? (body.columns as Record<string, unknown>[]).map((c) => `${c.name}:${c.type}`) : body.columns,
    versions,
    runs: byJob,
    producers,
  };
}

export function ComparePage({ a, b }: { a: string; b: string }) {
  useTitle("Compare versions");
  const key = a && b ? `${a}\u0000${b}` : null;
  const loaded = useLoader<[Profile, Profile]>(key, (signal) => Promise.all([loadProfile(a, signal), loadProfile(b, signal)]));
  const [all, setAll] = useState(false);
  const rows = useMemo(() => (loaded.data ? compareProfiles(loaded.data[0], loaded.data[1]) : []), [loaded.data]);
  const shown = all ? rows : differences(rows);
  return (
    <main className="page" id="main">
      <div className="page-head">
        <div>
          <h1 className="title">Compare two versions</h1>
          <p className="muted">What differs between the upstream of two dataset or model versions: the input versions, and the parameters, seeds, code and environment of every run that led to them.</p>
        </div>
      </div>
      <ChooseForm a={a} b={b} />
      {!key ? null : loaded.error ? (
        <ErrorBox error={loaded.error} onRetry={loaded.reload} />
      ) : !loaded.data ? (
        <Loading what="Tracing both versions" />
      ) : (
        <>
          <div className="compare-heads">
            {loaded.data.map((p, i) => (
              <div key={i} className="card compare-head">
                <div className="eyebrow">{i === 0 ? "A" : "B"}</div>
                <Link to={pageFor(p.target)} className="node-link">
                  <KindBadge type={p.target.type} /> {p.target.label}
                </Link>
                <div className="muted small">
                  {plural([...p.runs.values()].reduce((n, l) => n + l.length, 0), "run")} upstream · {plural(p.versions.size, "dataset")} upstream
                </div>
              </div>
            ))}
          </div>
          <div className="toolbar">
            <span>
              <strong>{differences(rows).length}</strong> of {rows.length} compared values differ.
            </span>
            <label className="check-label">
              <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> show identical values too
            </label>
          </div>
          <CompareTable rows={shown} />
        </>
      )}
    </main>
  );
}

function ChooseForm({ a, b }: { a: string; b: string }) {
  const { navigate } = useRouter();
  const [x, setX] = useState(a);
  const [y, setY] = useState(b);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (x.trim() && y.trim()) navigate(href.compare(x.trim(), y.trim()));
  };
  return (
    <form className="card compare-form" onSubmit={submit}>
      <div className="card-body form-grid">
        <label htmlFor="compare-a">Version A</label>
        <input id="compare-a" value={x} onChange={(e) => setX(e.target.value)} placeholder="synthetic/turnout@776086f2" />
        <label htmlFor="compare-b">Version B</label>
        <input id="compare-b" value={y} onChange={(e) => setY(e.target.value)} placeholder="synthetic/turnout@919db23e" />
        <div />
        <div>
          <button type="submit" className="button button-primary">
            Compare
          </button>
        </div>
      </div>
    </form>
  );
}

function CompareTable({ rows }: { rows: Row[] }) {
  if (rows.length === 0) return <Empty>The two upstreams are identical.</Empty>;
  const sections = [...new Set(rows.map((r) => r.section))] as SectionName[];
  return (
    <>
      {sections.map((section) => (
        <Section key={section} title={SECTION_TITLES[section]} id={`cmp-${section}`}>
          <table className="table compare-table">
            <thead>
              <tr>
                <th scope="col">What</th>
                <th scope="col">A</th>
                <th scope="col">B</th>
              </tr>
            </thead>
            <tbody>
              {rows
                .filter((r) => r.section === section)
                .map((r, i) => (
                  <tr key={i} className={r.same ? "same" : "differs"}>
                    <th scope="row">{r.key}</th>
                    <td>
                      <code className="wrap">{r.a}</code>
                    </td>
                    <td>
                      <code className="wrap">{r.b}</code>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </Section>
      ))}
    </>
  );
}
