/**
 * What an invocation's handler printed, attempt by attempt (GET /invocations/:id/logs): locally the
 * lines the local Lambda endpoint kept; on AWS where they are (the function's CloudWatch log group).
 * Refreshed with the page; the first page of lines is shown, and more on request.
 */
import { useState } from "preact/hooks";
import { api, type InvocationLogs } from "../api";
import { formatTime } from "../format";
import { useLoad } from "../hooks";
import { ErrorBox } from "./error-box";

type Local = Extract<InvocationLogs, { source: "local" }>;

export function HandlerLogs({ id }: { id: string }) {
  const first = useLoad(() => api.logs(id, 0), id, true);
  /** Pages loaded with "More lines", after the first. */
  const [more, setMore] = useState<Local[]>([]);
  const [moreError, setMoreError] = useState<Error | undefined>(undefined);
  const logs = first.data;
  if (logs === undefined) return <ErrorBox error={first.error} />;
  if (logs.source === "elsewhere") {
    return (
      <p class="logs-elsewhere">
        {logs.where}
        {logs.logGroup !== undefined ? (
          <>
            {" "}
            (<code>{logs.logGroup}</code>)
          </>
        ) : null}
      </p>
    );
  }
  const pages = [logs, ...more];
  const last = pages[pages.length - 1]!;
  const lines = pages.flatMap((p) => p.lines);
  const loadMore = (): void => {
    api.logs(id, last.nextAfter!).then(
      (page) => {
        if (page.source === "local") setMore([...more, page]);
      },
      (e: unknown) => setMoreError(e as Error),
    );
  };
  return (
    <>
      <ErrorBox error={first.error ?? moreError} />
      {logs.dropped > 0 ? (
        <p class="notice">{logs.dropped} older lines were dropped by the local endpoint's bounds.</p>
      ) : null}
      {lines.length === 0 ? (
        <p class="empty">Nothing printed yet.</p>
      ) : (
        <table class="logs">
          <thead>
            <tr>
              <th>Attempt</th>
              <th>Time</th>
              <th>Stream</th>
              <th>Line</th>
            </tr>
          </thead>
          <tbody>
            {lines.map((l) => (
              <tr key={l.seq} class={l.stream}>
                <td>{l.attempt}</td>
                <td>{formatTime(l.atMs)}</td>
                <td>{l.stream}</td>
                <td>
                  <code>{l.text}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {last.nextAfter !== undefined ? (
        <button type="button" onClick={loadMore}>
          More lines
        </button>
      ) : null}
    </>
  );
}
