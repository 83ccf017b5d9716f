/** A histogram with fixed upper bounds (seconds), per label set: Prometheus text and OTel points. */
import { labelText, type Labels } from "./labels";

/** One label set's cumulative counts per bound (Prometheus `le`), sum and count. */
export interface HistogramSeries {
  labels: Labels;
  cumulative: number[];
  sum: number;
  count: number;
}

export class Histogram {
  /** Label set (rendered) → its series. */
  private readonly series = new Map<string, HistogramSeries>();

  constructor(readonly boundsSeconds: readonly number[]) {}

  observe(labels: Labels, seconds: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, cumulative: this.boundsSeconds.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.boundsSeconds.length; i++)
      if (seconds <= this.boundsSeconds[i]!) s.cumulative[i]! += 1;
    s.sum += seconds;
    s.count += 1;
  }

  /** Every label set observed so far (live objects: read, do not keep). */
  all(): HistogramSeries[] {
    return [...this.series.values()];
  }

  /** Exposition lines of `name`. */
  render(name: string): string[] {
    return renderHistogram(name, this.boundsSeconds, this.all());
  }
}

/** Prometheus exposition lines of a histogram's series: buckets with `le`, then `+Inf`, sum, count. */
export function renderHistogram(
  name: string,
  boundsSeconds: readonly number[],
  series: readonly HistogramSeries[],
): string[] {
  const lines: string[] = [];
  for (const s of series) {
    const labels = labelText(s.labels);
    const sep = labels === "" ? "" : ",";
    boundsSeconds.forEach((bound, i) =>
      lines.push(`${name}_bucket{${labels}${sep}le="${bound}"} ${s.cumulative[i]}`),
    );
    lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${s.count}`);
    const braces = labels === "" ? "" : `{${labels}}`;
    lines.push(`${name}_sum${braces} ${s.sum.toFixed(6)}`);
    lines.push(`${name}_count${braces} ${s.count}`);
  }
  return lines;
}
