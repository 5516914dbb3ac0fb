// Verify a certificate bundle (and optionally its data file) on the server; every check
// explained in plain language.

import { useState, type FormEvent } from "react";
import { api } from "../lib/api";
import { explain } from "../lib/checks";
import { useTitle } from "../lib/hooks";
import { Link } from "../lib/router";
import { href } from "../lib/route";
import type { VerifyAnswer } from "../lib/types";
import { ErrorBox, KV, Loading, Pill, Section, Time } from "../components/ui";

export function VerifyPage({ statement }: { statement: string | null }) {
  useTitle("Verify a certificate");
  const [bundle, setBundle] = useState<File | null>(null);
  const [data, setData] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<VerifyAnswer | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!bundle) {
      setError(new Error("Choose the certificate bundle (the JSON file `pedigree certify` wrote)."));
      return;
    }
    const form = new FormData();
    form.append("bundle", bundle, bundle.name);
    if (data) form.append("data", data, data.name);
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await api<VerifyAnswer>("/verify", { method: "POST", body: form }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="page narrow-wide" id="main">
      <div className="page-head">
        <div>
          <h1 className="title">Verify a certificate</h1>
          <p className="muted">
            A certificate binds a dataset's fingerprint to its signed provenance. Upload its bundle (and, to check the data itself, the data
            file) and the server checks it exactly as <code>pedigree verify</code> does offline, trusting this ledger's key and the keys in
            its keyring.
          </p>
        </div>
      </div>
      {statement && (
        <div className="notice notice-info" role="note">
          Verifying certificate <code>{statement.slice(0, 16)}…</code>: upload its bundle file (the <code>-o</code> output of{" "}
          <code>pedigree certify</code>).
        </div>
      )}
      <form className="card verify-form" onSubmit={submit}>
        <div className="card-body form-grid">
          <label htmlFor="bundle-file">Certificate bundle (JSON)</label>
          <input id="bundle-file" name="bundle" type="file" accept=".json,application/json" onChange={(e) => setBundle(e.target.files?.[0] ?? null)} />
          <label htmlFor="data-file">
            Data file <span className="muted">(optional: Parquet, CSV…)</span>
          </label>
          <input id="data-file" name="data" type="file" onChange={(e) => setData(e.target.files?.[0] ?? null)} />
          <div />
          <div>
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? "Verifying…" : "Verify"}
            </button>
          </div>
        </div>
      </form>
      {busy && <Loading what="Verifying" />}
      {error !== null && <ErrorBox error={error} />}
      {result && <Result result={result} expected={statement} />}
    </main>
  );
}

function Result({ result, expected }: { result: VerifyAnswer; expected: string | null }) {
  const mismatch = expected !== null && result.statement_sha256 !== null && expected !== result.statement_sha256;
  const failed = result.checks.filter((c) => !c.ok);
  return (
    <div className="stack" aria-live="polite">
      <div className={result.valid ? "verdict verdict-valid" : "verdict verdict-invalid"} role="status" data-testid="verdict">
        <span className="verdict-word">{result.valid ? "VALID" : "INVALID"}</span>
        <span>
          {result.valid
            ? "Every check passed: the certificate is authentic and its provenance is complete and unaltered."
            : `${failed.length} of ${result.checks.length} checks failed; each is explained below.`}
        </span>
      </div>
      {mismatch && (
        <div className="notice notice-warn" role="alert">
          This bundle is another certificate (<code>{result.statement_sha256?.slice(0, 16)}…</code>) than the one you came to verify (
          <code>{expected?.slice(0, 16)}…</code>).
        </div>
      )}
      <Section title="Checks" id="checks">
        <ol className="checks">
          {result.checks.map((c, i) => {
            const text = explain(c.check);
            return (
              <li key={i} className={c.skipped ? "check check-skipped" : c.ok ? "check check-ok" : "check check-bad"} data-check={c.check}>
                <span className="check-mark" aria-hidden="true">
                  {c.skipped ? "–" : c.ok ? "✓" : "✗"}
                </span>
                <div>
                  <div className="check-title">
                    {text.title} {c.skipped ? <Pill tone="muted">not checked</Pill> : <Pill tone={c.ok ? "good" : "bad"}>{c.ok ? "passed" : "failed"}</Pill>}
                    <span className="muted small"> ({c.check})</span>
                  </div>
                  {text.means && <p className="check-means">{text.means}</p>}
                  <p className="check-detail">{c.detail}</p>
                </div>
              </li>
            );
          })}
        </ol>
      </Section>
      <Section title="What it certifies" id="subject">
        <KV
          rows={[
            [
              "Subject",
              result.subject?.length ? (
                result.subject.map((s) => (
                  <div key={s.name}>
                    <Link to={href.dataset(`dataset:${s.name}`)}>{s.name}</Link>{" "}
                    {Object.entries(s.digest).map(([alg, value]) => (
                      <code key={alg} className="hash">
                        {alg}:{value.slice(0, 16)}…
                      </code>
                    ))}
                  </div>
                ))
              ) : (
                <span className="muted">unknown (the statement could not be read)</span>
              ),
            ],
            ["Certificate id", result.statement_sha256 ? <code className="hash">{result.statement_sha256}</code> : "—"],
            [
              "Issued by this ledger",
              result.issued_here ? (
                result.recorded ? (
                  <span>
                    yes, recorded at #{result.recorded.seq}, <Time iso={result.recorded.time} />
                  </span>
                ) : (
                  "yes"
                )
              ) : (
                "no"
              ),
            ],
            ["Data file checked", result.data_file ?? <span className="muted">none uploaded</span>],
            [
              "Trusted keys",
              <ul className="plain">
                {result.trusted_keys.map((k) => (
                  <li key={k.key_id}>
                    {k.kind === "ledger" ? "this ledger's key" : `keyring key “${k.name}”`} <code>{k.key_id.slice(0, 16)}</code>
                  </li>
                ))}
              </ul>,
            ],
          ]}
        />
      </Section>
    </div>
  );
}
