/** How values read in the console: times, durations, journal payloads and results. */
import type { Completion } from "@capstan/sdk/protocol";

export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return "";
  const d = new Date(ms);
  return `${d.toLocaleDateString()} ${d.toLocaleTimeString()}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1) return "<1 ms";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** A payload is the handler's serialized value (JSON text by default): pretty-printed when it parses. */
export function formatPayload(payload: string | undefined): string {
  if (payload === undefined) return "";
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

export function formatCompletion(result: Completion | undefined): string {
  if (result === undefined) return "pending";
  switch (result.kind) {
    case "value":
      return formatPayload(result.value);
    case "empty":
      return "(empty)";
    case "failure":
      return `${result.failure.name ?? "Error"} ${result.failure.code}: ${result.failure.message}`;
  }
}

/** The status as the CLI prints it: completed invocations say how they ended. */
export function statusLabel(status: string, outcome?: string): string {
  return status === "completed" && outcome !== undefined ? `completed (${outcome})` : status;
}

export function targetLabel(t: { service: string; handler: string; key?: string }): string {
  return t.key === undefined ? `${t.service}/${t.handler}` : `${t.service}/${t.key}/${t.handler}`;
}
