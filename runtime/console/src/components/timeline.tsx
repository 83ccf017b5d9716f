import type { JournalEntry } from "@capstan/sdk/protocol";
// The journal module itself, not the protocol's index: the index also holds Node-only code
// (identity signatures) that a browser bundle cannot take.
import { entryLabel } from "../../../../sdk/src/protocol/journal";
import { formatDuration } from "../format";
import { entryValues } from "../journal-view";

/**
 * The journal as a timeline: when each entry was recorded (from the first entry), how long it took
 * to get its result, and a bar placing it in the invocation's lifetime.
 */
export function Timeline(props: {
  journal: JournalEntry[];
  entryTimes: Array<[number, number | null]>;
  awaiting: number[];
}) {
  const start = props.entryTimes[0]?.[0] ?? 0;
  const end = Math.max(start + 1, ...props.entryTimes.map(([recorded, completed]) => completed ?? recorded));
  const span = end - start;
  return (
    <table class="timeline">
      <thead>
        <tr>
          <th>#</th>
          <th>Entry</th>
          <th>At</th>
          <th>Took</th>
          <th class="bar-cell">Timeline</th>
        </tr>
      </thead>
      <tbody>
        {props.journal.map((entry) => {
          const [recorded, completed] = props.entryTimes[entry.index] ?? [start, null];
          const waiting = props.awaiting.includes(entry.index);
          const values = entryValues(entry);
          return (
            <tr key={entry.index} class={waiting ? "awaiting" : ""}>
              <td>{entry.index}</td>
              <td>
                <strong>{entry.kind}</strong> {entryLabel(entry)}
                {waiting ? <em> (awaited)</em> : null}
                {values.length > 0 ? (
                  <details>
                    <summary>values</summary>
                    {values.map(([label, text]) => (
                      <div key={label}>
                        <span class="value-label">{label}</span>
                        <pre>{text}</pre>
                      </div>
                    ))}
                  </details>
                ) : null}
              </td>
              <td>+{formatDuration(recorded - start)}</td>
              <td>{completed === null ? "" : formatDuration(completed - recorded)}</td>
              <td class="bar-cell">
                <div
                  class="bar"
                  style={{
                    marginLeft: `${((recorded - start) / span) * 100}%`,
                    width: `${Math.max(0.5, (((completed ?? recorded) - recorded) / span) * 100)}%`,
                  }}
                />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
