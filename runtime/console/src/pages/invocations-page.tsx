import type { InvocationStatus } from "../../../src/core/state";
import { api } from "../api";
import { ErrorBox } from "../components/error-box";
import { StatusBadge } from "../components/status-badge";
import { formatTime, targetLabel } from "../format";
import { href, useLoad, type Route } from "../hooks";

/** Rows per page; the admin API serves at most MAX_LIST_LIMIT (1000). */
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
/** What `?status=` also accepts: completed with that outcome, as the list shows it. */
const OUTCOMES = ["succeeded", "failed"];

/** A `datetime-local` input's value (local time) as epoch ms, and back. */
function fromLocalInput(value: string): string | undefined {
  const ms = new Date(value).getTime();
  return value === "" || Number.isNaN(ms) ? undefined : String(ms);
}
function toLocalInput(ms: string | undefined): string {
  if (ms === undefined) return "";
  const d = new Date(Number(ms));
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/**
 * Invocations, newest first, filtered by service, status, key and creation time; a page at a time
 * (the cursor of the next page is in the address, so a page can be linked); refreshed every two
 * seconds. Changing a filter goes back to the newest page.
 */
export function InvocationsPage({ route }: { route: Route }) {
  const filter = {
    service: route.query.get("service") ?? undefined,
    status: route.query.get("status") ?? undefined,
    key: route.query.get("key") ?? undefined,
    from: route.query.get("from") ?? undefined,
    to: route.query.get("to") ?? undefined,
  };
  const cursor = route.query.get("cursor") ?? undefined;
  const limit = Math.min(MAX_ROWS, Number(route.query.get("limit") ?? PAGE_ROWS) || PAGE_ROWS);
  const services = useLoad(() => api.services(), "services");
  const list = useLoad(
    () => api.invocations({ ...filter, cursor, limit }),
    JSON.stringify({ ...filter, cursor, limit }),
    true,
  );
  const limitParam = limit === PAGE_ROWS ? undefined : String(limit);
  const go = (change: Record<string, string | undefined>): void => {
    location.hash = href(["invocations"], { ...filter, limit: limitParam, ...change });
  };
  const rows = list.data?.invocations;

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
            {[...STATUSES, ...OUTCOMES].map((s) => (
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
        <label>
          From{" "}
          <input
            name="from"
            type="datetime-local"
            value={toLocalInput(filter.from)}
            onChange={(e) => go({ from: fromLocalInput(e.currentTarget.value) })}
          />
        </label>
        <label>
          To{" "}
          <input
            name="to"
            type="datetime-local"
            value={toLocalInput(filter.to)}
            onChange={(e) => go({ to: fromLocalInput(e.currentTarget.value) })}
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
          {(rows ?? []).map((inv) => (
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
      {rows !== undefined && rows.length === 0 ? <p class="empty">No invocations match.</p> : null}
      <nav class="pager">
        {cursor !== undefined ? (
          <a href={href(["invocations"], { ...filter, limit: limitParam })}>Newest</a>
        ) : null}
        {list.data?.nextCursor !== undefined ? (
          <a href={href(["invocations"], { ...filter, limit: limitParam, cursor: list.data.nextCursor })}>
            Next page
          </a>
        ) : null}
      </nav>
    </section>
  );
}
