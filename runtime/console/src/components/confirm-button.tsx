import { useState } from "preact/hooks";

/** A button that asks once more before it acts: cancel, kill, purge and state edits cannot be undone. */
export function ConfirmButton(props: {
  label: string;
  question: string;
  onConfirm: () => void;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class={props.danger ? "danger" : ""} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm">
      {props.question}{" "}
      <button
        type="button"
        class="danger"
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>{" "}
      <button type="button" onClick={() => setAsking(false)}>
        No
      </button>
    </span>
  );
}
