import type { InvocationStatus } from "../../../src/core/state";
import { api } from "../api";
import { ErrorBox } from "../components/error-box";
import { StatusBadge } from "../components/status-badge";
import { formatTime, targetLabel } from "../format";
import { href, useLoad, type Route } from "../hooks";

/** Rows per page, and per "show more"; the admin API serves at most MAX_LIST_LIMIT (1000). */
export const PAGE_ROWS = 50;
const MAX_ROWS = 1_000;

const STATUSES = Object.keys({
  scheduled: true,
  inboxed: true,
  running: true,
  suspended: true,
  "backing-off": true,
  paused: true,
  completed: true,
} satisfies Record<InvocationStatus, true>);

/** Invocations, newest first, filtered by service, status and key; refreshed every two seconds. */
export function InvocationsPage({ route }: { route: Route }) {
  const filter = {
    service: route.query.get("service") ?? undefined,
    status: route.query.get("status") ?? undefined,
    key: route.query.get("key") ?? undefined,
  };
  const limit = Math.min(MAX_ROWS, Number(route.query.get("limit") ?? PAGE_ROWS) || PAGE_ROWS);
  const services = useLoad(() => api.services(), "services");
  const list = useLoad(
    () => api.invocations({ ...filter, limit }),
    JSON.stringify({ ...filter, limit }),
    true,
  );
  const go = (change: Record<string, string | undefined>): void => {
    location.hash = href(["invocations"], { ...filter, ...change });
  };

  return (
    <section>
      <h1>Invocations</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Service{" "}
          <select
            name="service"
            value={filter.service ?? ""}
            onChange={(e) => go({ service: e.currentTarget.value })}
          >
            <option value="">all</option>
            {(services.data ?? []).map((s) => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{" "}
          <select
            name="status"
            value={filter.status ?? ""}
            onChange={(e) => go({ status: e.currentTarget.value })}
          >
            <option value="">all</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Key{" "}
          <input
            name="key"
            value={filter.key ?? ""}
            onChange={(e) => go({ key: e.currentTarget.value.trim() || undefined })}
          />
        </label>
      </form>
      <ErrorBox error={list.error} />
      <table class="invocations">
        <thead>
          <tr>
            <th>Invocation</th>
            <th>Target</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Created</th>
            <th>Last change</th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((inv) => (
            <tr key={inv.id}>
              <td>
                <a href={href(["invocations", inv.id])}>{inv.id}</a>
              </td>
              <td>{targetLabel(inv.target)}</td>
              <td>
                <StatusBadge status={inv.status} outcome={inv.outcome} />
              </td>
              <td>{inv.attempt}</td>
              <td>{formatTime(inv.createdAtMs)}</td>
              <td>{formatTime(inv.modifiedAtMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.data !== undefined && list.data.length === 0 ? <p class="empty">No invocations match.</p> : null}
      {list.data !== undefined && list.data.length >= limit && limit < MAX_ROWS ? (
        <button type="button" onClick={() => go({ limit: String(Math.min(MAX_ROWS, limit + PAGE_ROWS)) })}>
          Show more
        </button>
      ) : null}
    </section>
  );
}
