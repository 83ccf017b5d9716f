import { useState } from "preact/hooks";
import { api, type InvocationAction, type InvocationDetail } from "../api";
import { ConfirmButton } from "../components/confirm-button";
import { ErrorBox } from "../components/error-box";
import { HandlerLogs } from "../components/handler-logs";
import { StatusBadge } from "../components/status-badge";
import { Timeline } from "../components/timeline";
import { formatCompletion, formatTime, targetLabel } from "../format";
import { href, useLoad } from "../hooks";

/**
 * The failure's details (stack, failed entry, next retry) and the trace id are optional in the admin
 * API: shown when present, so the page works with runtimes that report only the message.
 */
type Detail = InvocationDetail;

const ACTIONS: Array<{ action: InvocationAction; question: string; danger: boolean }> = [
  {
    action: "cancel",
    question: "Cancel it? The handler sees CancelledError at its next await.",
    danger: true,
  },
  { action: "kill", question: "Kill it? It ends at once, without running compensations.", danger: true },
  { action: "pause", question: "Pause it? No attempt runs until it is resumed.", danger: false },
  { action: "resume", question: "Resume it now?", danger: false },
  { action: "purge", question: "Purge it? Its journal and result are deleted.", danger: true },
];

/**
 * What the runtime accepts in each status (core/records: pause only while running or backing off,
 * resume when paused or backing off, purge only once completed): the page offers nothing it would
 * refuse.
 */
function allowed(status: InvocationDetail["status"]): InvocationAction[] {
  switch (status) {
    case "completed":
      return ["purge"];
    case "paused":
      return ["resume", "cancel", "kill"];
    case "backing-off":
      return ["resume", "cancel", "kill", "pause"];
    case "running":
      return ["cancel", "kill", "pause"];
    case "suspended":
    case "scheduled":
    case "inboxed":
      return ["cancel", "kill"];
  }
}

export function InvocationPage({ id }: { id: string }) {
  const detail = useLoad(() => api.invocation(id), id, true);
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const inv = detail.data;

  const act = (action: InvocationAction): void => {
    setActionError(undefined);
    api.act(id, action).then(
      () => {
        setDone(action);
        detail.reload();
      },
      (e: unknown) => setActionError(e as Error),
    );
  };

  return (
    <section>
      <p>
        <a href={href(["invocations"])}>← Invocations</a>
      </p>
      <h1>{id}</h1>
      <ErrorBox error={detail.error} />
      {inv === undefined ? null : (
        <>
          <dl class="facts">
            <dt>Target</dt>
            <dd>{targetLabel(inv.target)}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={inv.status} outcome={inv.outcome} />
              {inv.cancelRequested ? " (cancel requested)" : ""}
            </dd>
            <dt>Deployment</dt>
            <dd>{inv.deploymentId}</dd>
            <dt>Attempts</dt>
            <dd>
              {inv.attempt} ({inv.handlerInvocations} handler invocations)
            </dd>
            <dt>Created</dt>
            <dd>{formatTime(inv.createdAtMs)}</dd>
            {inv.scheduledAtMs !== undefined ? (
              <>
                <dt>Starts</dt>
                <dd>{formatTime(inv.scheduledAtMs)}</dd>
              </>
            ) : null}
            {inv.completedAtMs !== undefined ? (
              <>
                <dt>Completed</dt>
                <dd>{formatTime(inv.completedAtMs)}</dd>
              </>
            ) : null}
            {inv.idempotencyKey !== undefined ? (
              <>
                <dt>Idempotency key</dt>
                <dd>{inv.idempotencyKey}</dd>
              </>
            ) : null}
            {inv.traceId !== undefined ? (
              <>
                <dt>Trace</dt>
                <dd>
                  <code>{inv.traceId}</code>
                </dd>
              </>
            ) : null}
            {inv.target.key !== undefined ? (
              <>
                <dt>State</dt>
                <dd>
                  <a href={href(["state", inv.target.service, inv.target.key])}>
                    {inv.target.service}/{inv.target.key}
                  </a>
                </dd>
              </>
            ) : null}
          </dl>
          <div class="actions">
            {ACTIONS.filter((a) => allowed(inv.status).includes(a.action)).map((a) => (
              <ConfirmButton
                key={a.action}
                label={a.action[0]!.toUpperCase() + a.action.slice(1)}
                question={a.question}
                danger={a.danger}
                onConfirm={() => act(a.action)}
              />
            ))}
          </div>
          {done !== undefined ? <p class="notice">{done}: requested</p> : null}
          <ErrorBox error={actionError} />
          {inv.lastFailure !== undefined ? <FailurePanel inv={inv} /> : null}
          {inv.result !== undefined ? (
            <>
              <h2>Result</h2>
              <pre class="result">{formatCompletion(inv.result)}</pre>
            </>
          ) : null}
          <h2>Journal</h2>
          <Timeline journal={inv.journal} entryTimes={inv.entryTimes} awaiting={inv.awaiting} />
          <h2>Handler logs</h2>
          <HandlerLogs id={id} />
        </>
      )}
    </section>
  );
}

function FailurePanel({ inv }: { inv: Detail }) {
  const f = inv.lastFailure!;
  return (
    <div class="failure">
      <h2>Last failure</h2>
      <p>
        Attempt {f.attempt} at {formatTime(f.atMs)}
        {f.entry !== undefined
          ? `, at entry ${f.entry.index} (${f.entry.kind}${f.entry.name !== undefined ? ` "${f.entry.name}"` : ""})`
          : ""}
        {f.nextRetryAtMs !== undefined ? `; next retry ${formatTime(f.nextRetryAtMs)}` : ""}
      </p>
      <pre class="stack">{f.stack ?? f.message}</pre>
    </div>
  );
}
