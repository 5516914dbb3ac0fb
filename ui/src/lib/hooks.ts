// Data loading hooks: one request per dependency change, aborted when superseded.

import { useCallback, useEffect, useRef, useState } from "react";
import { api, type Params } from "./api";

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useApi<T>(path: string | null, params?: Params): Loaded<T> {
  const key = path === null ? null : `${path}?${JSON.stringify(params ?? {})}`;
  return useLoader<T>(key, (signal) => api<T>(path!, { params, signal }));
}

/** Run ``load`` whenever ``key`` changes (null: nothing to load). */
export function useLoader<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ key: string | null; data: T | null; error: unknown; loading: boolean }>({
    key: null,
    data: null,
    error: null,
    loading: key !== null,
  });
  const [attempt, setAttempt] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    if (key === null) {
      setState({ key, data: null, error: null, loading: false });
      return;
    }
    const controller = new AbortController();
    setState((s) => ({ key, data: s.key === key ? s.data : null, error: null, loading: true }));
    loadRef
      .current(controller.signal)
      .then((data) => {
        if (!controller.signal.aborted) setState({ key, data, error: null, loading: false });
      })
      .catch((error) => {
        if (!controller.signal.aborted) setState({ key, data: null, error, loading: false });
      });
    return () => controller.abort();
  }, [key, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Pedigree` : "Pedigree";
  }, [title]);
}
