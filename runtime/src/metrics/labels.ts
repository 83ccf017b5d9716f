/** Metric labels (OTel attributes) and their Prometheus text form. */
export type Labels = Readonly<Record<string, string>>;

/** `a="x",b="y"` with Prometheus escaping; "" for no labels. */
export function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",");
}

export function escapeLabel(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
