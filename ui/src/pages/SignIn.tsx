import { useState, type FormEvent } from "react";
import { api, ApiError, setToken } from "../lib/api";
import type { WhoAmI } from "../lib/types";
import { ErrorBox } from "../components/ui";
import { Brand } from "../App";
import { useTitle } from "../lib/hooks";

export function SignIn({ next, reason, onSignedIn }: { next: string | null; reason: string | null; onSignedIn: (me: WhoAmI) => void }) {
  useTitle("Sign in");
  const [token, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError(new Error("Paste a token first."));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const me = await api<WhoAmI>("/whoami", { token: value });
      setToken(value);
      onSignedIn(me);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <form className="signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <Brand />
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">
          Paste an API token. An administrator creates one with{" "}
          <code>pedigree tokens create --role analyst</code>. It is kept in this browser tab only.
        </p>
        {reason && (
          <div className="notice notice-warn" role="alert" data-error-kind="unauthorized">
            Signed out: {reason}
          </div>
        )}
        <label htmlFor="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="pdg_…"
          value={token}
          onChange={(e) => setValue(e.target.value)}
          autoFocus
        />
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        {next && <p className="muted small">Then back to {next.length > 60 ? `${next.slice(0, 60)}…` : next}</p>}
        {error !== null && (
          <ErrorBox error={error instanceof ApiError && error.kind === "unauthorized" ? new ApiError("unauthorized", 401, `That token was refused: ${error.message}`, error.path) : error} compact />
        )}
      </form>
    </main>
  );
}
