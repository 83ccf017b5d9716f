import { useState } from "preact/hooks";
import { api } from "../api";
import { ConfirmButton } from "../components/confirm-button";
import { ErrorBox } from "../components/error-box";
import { href, useLoad } from "../hooks";

/** Pick an object or workflow by service and key. */
export function StateLookup() {
  const [service, setService] = useState("");
  const [key, setKey] = useState("");
  return (
    <section>
      <h1>State</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          if (service.trim() !== "" && key !== "") location.hash = href(["state", service.trim(), key]);
        }}
      >
        <label>
          Service <input name="service" value={service} onInput={(e) => setService(e.currentTarget.value)} />
        </label>
        <label>
          Key <input name="key" value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <button type="submit">Show</button>
      </form>
    </section>
  );
}

/** One object's or workflow's K/V state: every value as JSON, editable, each edit confirmed. */
export function StatePage({ service, objectKey }: { service: string; objectKey: string }) {
  const state = useLoad(() => api.state(service, objectKey), `${service}/${objectKey}`);
  const [editError, setEditError] = useState<Error | undefined>(undefined);
  const [newKey, setNewKey] = useState("");

  const patch = (p: { set?: Record<string, unknown>; clear?: string[] }): void => {
    setEditError(undefined);
    api.patchState(service, objectKey, p).then(state.reload, (e: unknown) => setEditError(e as Error));
  };

  return (
    <section>
      <p>
        <a href={href(["state"])}>← State</a> ·{" "}
        <a href={href(["invocations"], { service, key: objectKey })}>invocations of this key</a>
      </p>
      <h1>
        {service}/{objectKey}
      </h1>
      <ErrorBox error={state.error} />
      <ErrorBox error={editError} />
      {state.data === undefined ? null : (
        <table class="state">
          <thead>
            <tr>
              <th>Key</th>
              <th>Value (JSON)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {Object.entries(state.data).map(([k, v]) => (
              <StateRow
                key={k}
                name={k}
                value={v}
                onSave={(value) => patch({ set: { [k]: value } })}
                onClear={() => patch({ clear: [k] })}
              />
            ))}
          </tbody>
        </table>
      )}
      {state.data !== undefined && Object.keys(state.data).length === 0 ? (
        <p class="empty">No state.</p>
      ) : null}
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          if (newKey !== "") patch({ set: { [newKey]: null } });
          setNewKey("");
        }}
      >
        <label>
          New key <input name="new-key" value={newKey} onInput={(e) => setNewKey(e.currentTarget.value)} />
        </label>
        <button type="submit">Add</button>
      </form>
    </section>
  );
}

function StateRow(props: {
  name: string;
  value: unknown;
  onSave: (v: unknown) => void;
  onClear: () => void;
}) {
  const [text, setText] = useState(JSON.stringify(props.value, null, 2));
  const [invalid, setInvalid] = useState(false);
  return (
    <tr>
      <td>
        <code>{props.name}</code>
      </td>
      <td>
        <textarea
          aria-label={`value of ${props.name}`}
          value={text}
          rows={Math.min(10, text.split("\n").length)}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        {invalid ? <div class="error">Not valid JSON.</div> : null}
      </td>
      <td class="row-actions">
        <ConfirmButton
          label="Save"
          question={`Write ${props.name}?`}
          onConfirm={() => {
            let value: unknown;
            try {
              value = JSON.parse(text);
            } catch {
              setInvalid(true);
              return;
            }
            setInvalid(false);
            props.onSave(value);
          }}
        />
        <ConfirmButton label="Clear" question={`Delete ${props.name}?`} danger onConfirm={props.onClear} />
      </td>
    </tr>
  );
}
