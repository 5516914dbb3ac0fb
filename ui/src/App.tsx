// The shell: who is signed in, the header, and the page for the current URL.

import { createContext, lazy, Suspense, useCallback, useContext, useEffect, useState, type FormEvent } from "react";
import { api, ApiError, clearToken, getToken, UNAUTHORIZED_EVENT } from "./lib/api";
import { Link, Router, useRouter } from "./lib/router";
import { formatRoute } from "./lib/route";
import type { WhoAmI } from "./lib/types";
import { ErrorBoundary, ErrorBox, Loading, Pill } from "./components/ui";
import { SignIn } from "./pages/SignIn";
import { Home } from "./pages/Home";
import { DatasetPage } from "./pages/Dataset";
import { RunPage, JobPage } from "./pages/Run";
import { VerifyPage } from "./pages/Verify";
import { ComparePage } from "./pages/Compare";

// The graph page carries React Flow and ELK: loaded when first opened.
const LineagePage = lazy(() => import("./pages/Lineage"));

interface Session {
  me: WhoAmI;
  signOut: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a session");
  return session;
}

export function App() {
  return (
    <Router>
      <ErrorBoundary>
        <Shell />
      </ErrorBoundary>
    </Router>
  );
}

type AuthState =
  | { state: "checking" }
  | { state: "signed-out"; reason: string | null }
  | { state: "signed-in"; me: WhoAmI }
  | { state: "unreachable"; error: unknown };

function Shell() {
  const { route, location, navigate } = useRouter();
  const [auth, setAuth] = useState<AuthState>(() => (getToken() ? { state: "checking" } : { state: "signed-out", reason: null }));
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!getToken()) return;
    const controller = new AbortController();
    api<WhoAmI>("/whoami", { signal: controller.signal, token: getToken() })
      .then((me) => setAuth({ state: "signed-in", me }))
      .catch((error) => {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.kind === "unauthorized") {
          clearToken();
          setAuth({ state: "signed-out", reason: error.message });
        } else {
          setAuth({ state: "unreachable", error });
        }
      });
    return () => controller.abort();
  }, [attempt]);

  useEffect(() => {
    const onUnauthorized = (event: Event) => {
      clearToken();
      setAuth({ state: "signed-out", reason: String((event as CustomEvent).detail ?? "") || null });
    };
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, []);

  // Once signed in, fetch the graph page's code while the browser is idle.
  useEffect(() => {
    if (auth.state !== "signed-in") return;
    const idle = window.requestIdleCallback ?? ((fn: () => void) => window.setTimeout(fn, 1500));
    idle(() => void import("./pages/Lineage").catch(() => undefined));
  }, [auth.state]);

  const signOut = useCallback(() => {
    clearToken();
    setAuth({ state: "signed-out", reason: null });
    navigate("/");
  }, [navigate]);

  const signedIn = useCallback(
    (me: WhoAmI) => {
      setAuth({ state: "signed-in", me });
      if (route.page === "signin") navigate(route.next && route.next.startsWith("/") ? route.next : "/", { replace: true });
    },
    [navigate, route],
  );

  if (auth.state === "checking") return <Loading what="Signing in" />;
  if (auth.state === "unreachable") {
    return (
      <main className="page narrow">
        <Brand />
        <ErrorBox error={auth.error} onRetry={() => { setAuth({ state: "checking" }); setAttempt((n) => n + 1); }} />
      </main>
    );
  }
  if (auth.state === "signed-out") {
    const here = location.pathname + location.search;
    const next = route.page === "signin" ? route.next : here === "/" ? null : here;
    const reason = auth.reason ?? (route.page === "signin" ? route.reason : null);
    return <SignIn next={next} reason={reason} onSignedIn={signedIn} />;
  }
  return (
    <SessionContext.Provider value={{ me: auth.me, signOut }}>
      <Header me={auth.me} onSignOut={signOut} />
      <ErrorBoundary resetKey={formatRoute(route)}>
        <Suspense fallback={<Loading what="Loading the page" />}>
          <Page />
        </Suspense>
      </ErrorBoundary>
    </SessionContext.Provider>
  );
}

function Page() {
  const { route } = useRouter();
  switch (route.page) {
    case "home":
      return <Home q={route.q} />;
    case "signin":
      return <Home q="" />;
    case "lineage":
      return <LineagePage state={route.state} />;
    case "dataset":
      return <DatasetPage key={route.ref} refName={route.ref} version={route.version} />;
    case "run":
      return <RunPage key={route.id} id={route.id} />;
    case "job":
      return <JobPage name={route.name} />;
    case "compare":
      return <ComparePage a={route.a} b={route.b} />;
    case "verify":
      return <VerifyPage statement={route.statement} />;
    case "notfound":
      return (
        <main className="page">
          <div className="error-box" role="alert" data-error-kind="not_found">
            <strong>No such page</strong>
            <p>Nothing lives at {route.path}.</p>
            <Link to="/" className="button">Home</Link>
          </div>
        </main>
      );
  }
}

export function Brand() {
  return (
    <Link to="/" className="brand" aria-label="Pedigree home">
      <svg viewBox="0 0 32 32" width="24" height="24" aria-hidden="true">
        <rect width="32" height="32" rx="7" fill="currentColor" />
        <circle cx="10" cy="10" r="4" fill="#fff" />
        <circle cx="22" cy="16" r="4" fill="#fff" />
        <circle cx="10" cy="22" r="4" fill="#fff" />
        <path d="M13 11.5l6 3M13 20.5l6-3" stroke="#fff" strokeWidth="2" />
      </svg>
      <span>Pedigree</span>
    </Link>
  );
}

function Header({ me, onSignOut }: { me: WhoAmI; onSignOut: () => void }) {
  const { route, navigate } = useRouter();
  const [q, setQ] = useState(route.page === "home" ? route.q : "");
  useEffect(() => {
    if (route.page === "home") setQ(route.q);
  }, [route]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    navigate(formatRoute({ page: "home", q: q.trim() }));
  };
  const current = route.page;
  return (
    <header className="topbar">
      <a href="#main" className="skip-link">Skip to content</a>
      <Brand />
      <nav aria-label="Main">
        <Link to="/" aria-current={current === "home" ? "page" : undefined}>Home</Link>
        <Link to="/verify" aria-current={current === "verify" ? "page" : undefined}>Verify</Link>
      </nav>
      <form className="topbar-search" role="search" onSubmit={submit}>
        <label htmlFor="global-search" className="sr-only">Search datasets, models, jobs and runs</label>
        <input
          id="global-search"
          type="search"
          placeholder="Search datasets, models, jobs, runs…"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
      </form>
      <div className="whoami" title={`token ${me.token_id} · ${me.actor}`}>
        <span className="whoami-name">{me.name}</span>
        <Pill tone="info">{me.role}</Pill>
        {me.namespaces.length > 0 && <span className="muted small">{me.namespaces.join(", ")}</span>}
        <button type="button" className="button button-ghost small" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
