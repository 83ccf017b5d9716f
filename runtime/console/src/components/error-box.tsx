import { ApiFailure } from "../api";

/** A failed request, with the admin API's stable code so a user can look it up in docs/errors.md. */
export function ErrorBox({ error }: { error: Error | undefined }) {
  if (error === undefined) return null;
  return (
    <div class="error" role="alert">
      {error instanceof ApiFailure ? <code>{error.code}</code> : null} {error.message}
    </div>
  );
}
