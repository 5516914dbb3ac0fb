// Shared building blocks: redaction pills, values, key/value lists, errors, loading.

import { Component, type ErrorInfo, type ReactNode } from "react";
import { ApiError } from "../lib/api";
import { Link } from "../lib/router";
import { href, pageFor } from "../lib/route";
import { formatNumber, formatTime, isRedacted, redactionHint, relativeTime } from "../lib/values";

export function Redacted({ reason }: { reason: string }) {
  return (
    <span className="pill pill-redacted" title={redactionHint(reason)} aria-label={`redacted (${reason})`}>
      redacted
    </span>
  );
}

export function Pill({ children, tone = "neutral", title }: { children: ReactNode; tone?: string; title?: string }) {
  return (
    <span className={`pill pill-${tone}`} title={title}>
      {children}
    </span>
  );
}

const STATUS_TONE: Record<string, string> = {
  active: "good",
  completed: "good",
  passed: "good",
  held: "good",
  valid: "good",
  running: "info",
  deprecated: "warn",
  aborted: "warn",
  withdrawn: "bad",
  failed: "bad",
  retired: "muted",
  purged: "muted",
};

export function StatusPill({ status }: { status: string | null | undefined }) {
  if (!status) return null;
  return <Pill tone={STATUS_TONE[status] ?? "neutral"}>{status}</Pill>;
}

export function Verdict({ ok, yes = "passed", no = "failed" }: { ok: boolean | null | undefined; yes?: string; no?: string }) {
  if (ok === null || ok === undefined) return <Pill tone="muted">not checked</Pill>;
  return <Pill tone={ok ? "good" : "bad"}>{ok ? `✓ ${yes}` : `✗ ${no}`}</Pill>;
}

/** Any API value: redaction markers as pills, objects as nested key/value lists. */
export function Value({ value, depth = 0 }: { value: unknown; depth?: number }): ReactNode {
  if (isRedacted(value)) return <Redacted reason={value.reason} />;
  if (value === null || value === undefined) return <span className="muted">—</span>;
  if (typeof value === "boolean") return <code>{String(value)}</code>;
  if (typeof value === "number") return <code>{formatNumber(value)}</code>;
  if (typeof value === "string") {
    if (value.length > 64 && /^[\w:]+$/.test(value)) return <code className="hash" title={value}>{value}</code>;
    return <span className="text-value">{value}</span>;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>;
    if (value.every((v) => typeof v !== "object" || v === null)) {
      return <span>{value.map((v, i) => <span key={i}>{i > 0 && ", "}<Value value={v} depth={depth + 1} /></span>)}</span>;
    }
    return (
      <ol className="value-list">
        {value.map((v, i) => (
          <li key={i}>
            <Value value={v} depth={depth + 1} />
          </li>
        ))}
      </ol>
    );
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return <span className="muted">none</span>;
    if (depth > 4) return <code>{JSON.stringify(value)}</code>;
    return <KV rows={entries.map(([k, v]) => [k, <Value value={v} depth={depth + 1} />])} nested />;
  }
  return <code>{String(value)}</code>;
}

export function KV({ rows, nested = false }: { rows: [ReactNode, ReactNode][]; nested?: boolean }) {
  return (
    <dl className={nested ? "kv kv-nested" : "kv"}>
      {rows.map(([k, v], i) => (
        <div className="kv-row" key={i}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatTime(iso)}>
      {formatTime(iso)} <span className="muted">({relativeTime(iso)})</span>
    </time>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </div>
  );
}

export function ErrorBox({ error, onRetry, compact = false }: { error: unknown; onRetry?: () => void; compact?: boolean }) {
  const api = error instanceof ApiError ? error : null;
  const title = api ? api.title : "Something went wrong";
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className={compact ? "error-box compact" : "error-box"} role="alert" data-error-kind={api?.kind ?? "client"}>
      <strong>{title}</strong>
      <p>{message}</p>
      {api?.kind === "unauthorized" && (
        <p>
          <Link to="/signin">Sign in again</Link>
        </p>
      )}
      {onRetry && (
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Section({ title, children, actions, id }: { title: ReactNode; children: ReactNode; actions?: ReactNode; id?: string }) {
  return (
    <section className="card" aria-labelledby={id ? `${id}-title` : undefined} id={id}>
      <header className="card-header">
        <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
        {actions && <div className="card-actions">{actions}</div>}
      </header>
      <div className="card-body">{children}</div>
    </section>
  );
}

export function KindBadge({ type }: { type: string }) {
  const word =
    type === "model_version" || type === "model"
      ? "model"
      : type === "run"
        ? "run"
        : type === "job"
          ? "job"
          : "dataset";
  return <span className={`kind-badge kind-${word}`}>{word}</span>;
}

export function NodeLink({ node }: { node: { id: string; type: string; namespace: string; name: string; label?: string; version?: string } }) {
  return (
    <Link to={pageFor(node)} className="node-link">
      <KindBadge type={node.type} /> {node.label ?? node.name}
    </Link>
  );
}

interface BoundaryState {
  error: Error | null;
}

/** Catches a render error below it and shows it instead of a blank screen. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, BoundaryState> {
  state: BoundaryState = { error: null };

  static getDerivedStateFromError(error: Error): BoundaryState {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    // Kept for whoever opens the browser console; the page shows the message.
    console.warn("Pedigree UI error:", error, info.componentStack);
  }

  componentDidUpdate(previous: { resetKey?: string }): void {
    if (previous.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  render() {
    if (this.state.error) {
      return (
        <div className="page">
          <div className="error-box" role="alert" data-error-kind="render">
            <strong>This page failed to display</strong>
            <p>{this.state.error.message}</p>
            <button type="button" className="button" onClick={() => this.setState({ error: null })}>
              Try again
            </button>{" "}
            <a className="button button-ghost" href="/">
              Home
            </a>
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}

/** A link to a node known only by its id (a neighbour): its run or dataset page. */
export function RefLink({ id, type, label }: { id: string; type: string; label: string }) {
  return (
    <Link to={type === "run" ? href.run(id) : href.dataset(id)} className="node-link">
      <KindBadge type={type} /> {label}
    </Link>
  );
}
