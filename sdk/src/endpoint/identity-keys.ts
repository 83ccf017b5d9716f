/**
 * Which runtime identities an endpoint accepts: the `identityKeys` option, else the
 * CAPSTAN_IDENTITY_PUBLIC_KEYS variable (the only environment variable the SDK reads), else none —
 * and then every message is accepted, as before request identity existed.
 */
import { parseIdentityPublicKey, type IdentityPublicKey } from "../protocol";

/** The environment variable a function's configuration sets to the runtime's public key(s). */
export const IDENTITY_PUBLIC_KEYS_ENV = "CAPSTAN_IDENTITY_PUBLIC_KEYS";

/**
 * Parsed once, when the endpoint is created: a malformed key fails the function's start, not each
 * request. Several keys (comma-separated in the variable) let a runtime rotate its key.
 */
export function resolveIdentityKeys(
  option: readonly string[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): IdentityPublicKey[] {
  const configured =
    option ??
    (env[IDENTITY_PUBLIC_KEYS_ENV] ?? "")
      .split(",")
      .map((k) => k.trim())
      .filter((k) => k !== "");
  return configured.map(parseIdentityPublicKey);
}
