import { useState } from "preact/hooks";
import { setAdminToken } from "../api";

/**
 * Asked for when the admin API answers 401: the admin token (`capstan admin-token` prints it, and
 * `capstan console` prints a link that carries it). Kept in this tab's sessionStorage only.
 */
export function TokenPrompt({ onSaved }: { onSaved: () => void }) {
  const [token, setToken] = useState("");
  return (
    <form
      class="token-prompt"
      onSubmit={(e) => {
        e.preventDefault();
        setAdminToken(token.trim());
        onSaved();
      }}
    >
      <p>
        The admin API needs its token. Run <code>npx capstan console</code> for a link that carries it, or
        paste what <code>npx capstan admin-token</code> prints here.
      </p>
      <input
        type="password"
        name="token"
        autocomplete="off"
        aria-label="admin token"
        value={token}
        onInput={(e) => setToken(e.currentTarget.value)}
      />
      <button type="submit">Use token</button>
    </form>
  );
}
