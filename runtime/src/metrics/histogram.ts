/** A Prometheus histogram with fixed upper bounds (seconds), per label set. */
export class Histogram {
  /** Label set (rendered) → cumulative counts per bound, sum and count. */
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();

  constructor(readonly boundsSeconds: readonly number[]) {}

  observe(labels: string, seconds: number): void {
    let s = this.series.get(labels);
    if (s === undefined) {
      s = { buckets: this.boundsSeconds.map(() => 0), sum: 0, count: 0 };
      this.series.set(labels, s);
    }
    for (let i = 0; i < this.boundsSeconds.length; i++)
      if (seconds <= this.boundsSeconds[i]!) s.buckets[i]! += 1;
    s.sum += seconds;
    s.count += 1;
  }

  /** Exposition lines of `name`; `labels` is `a="x",b="y"` or "". */
  render(name: string): string[] {
    const lines: string[] = [];
    for (const [labels, s] of this.series) {
      const sep = labels === "" ? "" : ",";
      this.boundsSeconds.forEach((bound, i) =>
        lines.push(`${name}_bucket{${labels}${sep}le="${bound}"} ${s.buckets[i]}`),
      );
      lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${s.count}`);
      const braces = labels === "" ? "" : `{${labels}}`;
      lines.push(`${name}_sum${braces} ${s.sum.toFixed(6)}`);
      lines.push(`${name}_count${braces} ${s.count}`);
    }
    return lines;
  }
}
