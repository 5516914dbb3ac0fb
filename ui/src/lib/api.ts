// The HTTP client: bearer token from sessionStorage, errors as ApiError with a readable message.

const TOKEN_KEY = "pedigree.token";

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: nothing to clear */
  }
}

export type ErrorKind =
  | "network"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "bad_request"
  | "server"
  | "unavailable"
  | "parse";

export class ApiError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly path: string;

  constructor(kind: ErrorKind, status: number, message: string, path: string) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.path = path;
  }

  /** A one-line title for the error box. */
  get title(): string {
    switch (this.kind) {
      case "network":
        return "Cannot reach the Pedigree server";
      case "unauthorized":
        return "Your token was not accepted";
      case "forbidden":
        return "Not allowed for your role";
      case "not_found":
        return "Not found";
      case "bad_request":
        return "The request was refused";
      case "unavailable":
        return "The server is not ready";
      case "parse":
        return "Unexpected answer from the server";
      default:
        return "The server failed";
    }
  }
}

export const UNAUTHORIZED_EVENT = "pedigree:unauthorized";

export type Params = Record<string, string | number | boolean | null | undefined | string[]>;

export function buildUrl(path: string, params?: Params): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, v));
    else search.append(key, String(value));
  }
  const query = search.toString();
  return `/api/v1${path}${query ? `?${query}` : ""}`;
}

function kindOf(status: number): ErrorKind {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 503) return "unavailable";
  if (status >= 400 && status < 500) return "bad_request";
  return "server";
}

export interface RequestOptions {
  params?: Params;
  method?: string;
  body?: BodyInit;
  signal?: AbortSignal;
  /** Send without the token (sign-in passes its own). */
  token?: string | null;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const url = buildUrl(path, options.params);
  const token = options.token !== undefined ? options.token : getToken();
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? "GET",
      headers,
      body: options.body,
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error)?.name === "AbortError") throw error;
    throw new ApiError(
      "network",
      0,
      `No answer from ${window.location.origin}. Is \`pedigree serve\` running? (${(error as Error)?.message ?? error})`,
      url,
    );
  }
  let data: unknown = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      if (response.ok) throw new ApiError("parse", response.status, "The answer is not JSON.", url);
    }
  }
  if (!response.ok) {
    const detail =
      data && typeof data === "object" && "detail" in data
        ? String((data as { detail: unknown }).detail)
        : `HTTP ${response.status} ${response.statusText}`.trim();
    const error = new ApiError(kindOf(response.status), response.status, detail, url);
    if (error.kind === "unauthorized" && options.token === undefined) {
      window.dispatchEvent(new CustomEvent(UNAUTHORIZED_EVENT, { detail: detail }));
    }
    throw error;
  }
  return data as T;
}
