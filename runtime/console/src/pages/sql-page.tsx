import { useState } from "preact/hooks";
import { api, type QueryResult } from "../api";
import { ErrorBox } from "../components/error-box";

const EXAMPLE = "SELECT status, count(*) AS n FROM invocations GROUP BY status";

/** Read-only SQL over invocations, journal and state (the same views as `capstan sql`). */
export function SqlPage() {
  const [query, setQuery] = useState(EXAMPLE);
  const [result, setResult] = useState<QueryResult | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [running, setRunning] = useState(false);

  const run = (): void => {
    setRunning(true);
    setError(undefined);
    api.query(query).then(
      (r) => {
        setResult(r);
        setRunning(false);
      },
      (e: unknown) => {
        setError(e as Error);
        setRunning(false);
      },
    );
  };

  return (
    <section>
      <h1>SQL</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <textarea
          class="sql"
          aria-label="query"
          rows={4}
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="submit" disabled={running}>
          {running ? "Running…" : "Run"}
        </button>
      </form>
      <ErrorBox error={error} />
      {result === undefined ? null : (
        <>
          <table class="sql-result">
            <thead>
              <tr>
                {result.columns.map((c) => (
                  <th key={c}>{c}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {result.rows.map((row, i) => (
                <tr key={i}>
                  {row.map((cell, j) => (
                    <td key={j}>{typeof cell === "string" ? cell : JSON.stringify(cell)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <p class="empty">
            {result.rows.length} row{result.rows.length === 1 ? "" : "s"}
            {result.truncated ? " (truncated: narrow the query)" : ""}
          </p>
        </>
      )}
    </section>
  );
}
