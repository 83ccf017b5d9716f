import { statusLabel } from "../format";

export function StatusBadge({ status, outcome }: { status: string; outcome?: string }) {
  const tone = status === "completed" ? (outcome ?? "succeeded") : status;
  return <span class={`status status-${tone}`}>{statusLabel(status, outcome)}</span>;
}
