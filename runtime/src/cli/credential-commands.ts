/**
 * `capstan admin-token`, `capstan console` and `capstan identity-key`: show a local runtime's
 * credentials, from the configuration variables or from the data directory where the runtime
 * generated them.
 */
import path from "node:path";
import { readSecret } from "../security/key-files";
import { IDENTITY_KEY_FILE } from "../security/node-credentials";
import { RequestSigner } from "../security/request-signer";
import type { ParsedArgs } from "./args";
import type { CliContext } from "./commands";
import { CliError, EXIT_API_ERROR } from "./http-client";

function adminToken(ctx: CliContext): string {
  if (ctx.adminToken === undefined)
    throw new CliError(
      `no admin token: CAPSTAN_ADMIN_TOKEN is unset and ${ctx.dataDir} has none (start the runtime once, or pass --data-dir)`,
      EXIT_API_ERROR,
    );
  return ctx.adminToken;
}

/** Prints the admin token (for `curl -H "Authorization: Bearer $(npx capstan admin-token)"`). */
export async function showAdminToken(ctx: CliContext, _args: ParsedArgs): Promise<void> {
  const token = adminToken(ctx);
  ctx.out(ctx.json ? JSON.stringify({ adminToken: token }) : token);
}

/**
 * Prints the web console's address with the admin token in its fragment: the page moves the token
 * into the tab's sessionStorage and out of the address bar; a fragment is never sent to a server.
 */
export async function showConsoleLink(ctx: CliContext, _args: ParsedArgs): Promise<void> {
  const url = `${ctx.adminUrl}/ui/#token=${encodeURIComponent(adminToken(ctx))}`;
  ctx.out(ctx.json ? JSON.stringify({ consoleUrl: url }) : url);
}

/** Prints the public key deployments must accept (their CAPSTAN_IDENTITY_PUBLIC_KEYS). */
export async function showIdentityKey(ctx: CliContext, _args: ParsedArgs): Promise<void> {
  const file = path.join(ctx.dataDir, IDENTITY_KEY_FILE);
  const pem = ctx.identityPrivateKeyPem ?? readSecret(file);
  if (pem === undefined)
    throw new CliError(
      `no identity key: CAPSTAN_IDENTITY_PRIVATE_KEY is unset and ${file} does not exist (start the runtime once)`,
      EXIT_API_ERROR,
    );
  const publicKey = RequestSigner.fromPem(pem).publicKey;
  ctx.out(ctx.json ? JSON.stringify({ identityPublicKey: publicKey }) : publicKey);
}
