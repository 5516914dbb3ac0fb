// Evaluation figures as SVG bars: value, threshold line, pass/fail colour, confidence interval.

import type { Headline, Metric } from "../lib/evaluations";
import { formatNumber } from "../lib/values";

const WIDTH = 560;
const LABEL = 220;
const ROW = 26;
const BAR_H = 12;

function scaleMax(values: (number | null)[]): number {
  const max = Math.max(1, ...values.filter((v): v is number => v !== null && Number.isFinite(v)));
  return max;
}

function words(name: string): string {
  return name.replace(/_/g, " ");
}

/** Headline figures with their thresholds. */
export function HeadlineBars({ items, title }: { items: Headline[]; title: string }) {
  if (items.length === 0) return null;
  const max = scaleMax(items.flatMap((h) => [h.value, h.threshold, h.ci?.[1] ?? null]));
  const span = WIDTH - LABEL - 70;
  const x = (v: number) => LABEL + (Math.max(0, v) / max) * span;
  const height = items.length * ROW + 8;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} width="100%" role="img" aria-label={title}>
        <title>{title}</title>
        {items.map((h, i) => {
          const y = 4 + i * ROW;
          const tone = h.passed === false ? "bad" : h.passed ? "good" : "muted";
          const rule = h.threshold === null ? "" : `${h.higherIsBetter ? "≥" : "≤"} ${formatNumber(h.threshold)}`;
          return (
            <g key={h.name} className={`bar-row bar-${tone}`}>
              <title>
                {`${words(h.name)}: ${h.value === null ? "n/a" : formatNumber(h.value)} (needs ${rule || "no threshold"})${h.columns.length ? ` · columns ${h.columns.join(", ")}` : ""}${h.ci ? ` · 95% CI ${formatNumber(h.ci[0])}–${formatNumber(h.ci[1])}` : ""}`}
              </title>
              <text x={LABEL - 8} y={y + BAR_H} textAnchor="end" className="bar-label">
                {words(h.name)}
              </text>
              <rect x={LABEL} y={y + 2} width={span} height={BAR_H} className="bar-track" rx="3" />
              {h.value !== null && <rect x={LABEL} y={y + 2} width={Math.max(1, x(h.value) - LABEL)} height={BAR_H} className="bar-fill" rx="3" />}
              {h.ci && <line x1={x(h.ci[0])} x2={x(h.ci[1])} y1={y + 8} y2={y + 8} className="bar-ci" />}
              {h.threshold !== null && <line x1={x(h.threshold)} x2={x(h.threshold)} y1={y - 1} y2={y + BAR_H + 5} className="bar-threshold" />}
              <text x={LABEL + span + 6} y={y + BAR_H} className="bar-value">
                {h.value === null ? "n/a" : formatNumber(h.value)} {h.passed === false ? "✗" : h.passed ? "✓" : ""}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** Plain metric values (no threshold), one bar each. */
export function MetricBars({ items, title }: { items: Metric[]; title: string }) {
  if (items.length === 0) return null;
  const max = scaleMax(items.map((m) => m.value));
  const span = WIDTH - LABEL - 70;
  const height = items.length * ROW + 8;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${height}`} width="100%" role="img" aria-label={title}>
        <title>{title}</title>
        {items.map((m, i) => {
          const y = 4 + i * ROW;
          const label = `${words(m.name)}${m.columns.length ? ` (${m.columns.join(", ")})` : ""}`;
          return (
            <g key={`${m.name}-${i}`} className="bar-row bar-info">
              <title>{`${label}: ${m.value === null ? "n/a" : formatNumber(m.value)} (${m.higherIsBetter ? "higher" : "lower"} is better)`}</title>
              <text x={LABEL - 8} y={y + BAR_H} textAnchor="end" className="bar-label">
                {label.length > 34 ? `${label.slice(0, 33)}…` : label}
              </text>
              <rect x={LABEL} y={y + 2} width={span} height={BAR_H} className="bar-track" rx="3" />
              {m.value !== null && <rect x={LABEL} y={y + 2} width={Math.max(1, (Math.max(0, m.value) / max) * span)} height={BAR_H} className="bar-fill" rx="3" />}
              <text x={LABEL + span + 6} y={y + BAR_H} className="bar-value">
                {m.value === null ? "n/a" : formatNumber(m.value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
