// Small helpers on API values: redaction markers, short hashes, times.

import type { RedactedMarker } from "./types";

export function isRedacted(value: unknown): value is RedactedMarker {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    (value as Record<string, unknown>).redacted === true &&
    typeof (value as Record<string, unknown>).reason === "string" &&
    Object.keys(value).length === 2
  );
}

export function redactionHint(reason: string): string {
  if (reason === "summary") return "Your role sees summaries only (analysts and above see this field).";
  if (reason === "confidential") return "Confidential: shown to stewards, auditors and admins.";
  return `Withheld: ${reason}`;
}

/** `ptf1:776086f25cce…` -> `ptf1:776086f25cce` */
export function shortHash(value: string | undefined | null, length = 12): string {
  if (!value) return "";
  const colon = value.indexOf(":");
  if (colon > 0 && colon < 10) return `${value.slice(0, colon + 1)}${value.slice(colon + 1, colon + 1 + length)}`;
  return value.slice(0, length);
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "";
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((now - then) / 1000);
  const abs = Math.abs(seconds);
  const units: [number, string][] = [
    [60, "second"],
    [60, "minute"],
    [24, "hour"],
    [30, "day"],
    [12, "month"],
    [Number.POSITIVE_INFINITY, "year"],
  ];
  let amount = abs;
  for (const [size, unit] of units) {
    if (amount < size) {
      const n = Math.max(1, Math.floor(amount));
      const words = `${n} ${unit}${n === 1 ? "" : "s"}`;
      return seconds >= 0 ? `${words} ago` : `in ${words}`;
    }
    amount /= size;
  }
  return iso;
}

export function duration(start?: string | null, end?: string | null): string {
  if (!start || !end) return "";
  const ms = new Date(end).getTime() - new Date(start).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? word : words}`;
}

export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString("en");
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 0.001 || abs >= 1e6)) return value.toExponential(2);
  return value.toFixed(abs < 1 ? 3 : 2);
}

export function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isRedacted(value)
    ? (value as Record<string, unknown>)
    : null;
}
