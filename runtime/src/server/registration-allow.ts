/**
 * Which deployments the admin API may register (CAPSTAN_REGISTRATION_ALLOW). Registration makes the
 * runtime send a discovery request — and later every invocation, with its journal and state — to the
 * endpoint given, so an open registration is a server-side request forgery tool and a way to route
 * an object's state to an outside endpoint. Lambda endpoints are bounded by the runtime's IAM role
 * too; HTTP ones only by this list.
 *
 * Entries, comma-separated:
 * - `http://host[:port]`, `https://host[:port]`: the scheme, host and port of the URL (its path is
 *   free); `*` in the host or port matches anything there; no port means the scheme's default.
 * - `lambda:<name or ARN>`: the function as registered; `*` matches any run of characters.
 * - `*`: anything (only for a network where every endpoint is trusted).
 */
import type { DeploymentEndpoint } from "../invoker/invoker";

/**
 * What `npm start` and local tests need and nothing an outsider can point elsewhere: HTTP deployments
 * on this machine, and Lambda functions (each Invoke is authorized by the runtime's IAM role).
 */
export const DEFAULT_REGISTRATION_ALLOW: readonly string[] = [
  "http://127.0.0.1:*",
  "http://localhost:*",
  "http://[::1]:*",
  "lambda:*",
];

type Rule =
  | { kind: "any" }
  | { kind: "lambda"; pattern: RegExp }
  | { kind: "url"; protocol: string; host: RegExp; port: RegExp };

/** A parsed allow-list. */
export interface RegistrationAllowList {
  readonly entries: readonly string[];
  readonly rules: readonly Rule[];
}

function glob(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`, "i");
}

function rule(entry: string): Rule {
  if (entry === "*") return { kind: "any" };
  if (entry.startsWith("lambda:")) {
    const name = entry.slice("lambda:".length);
    if (name === "") throw new Error(`${JSON.stringify(entry)}: lambda: needs a name, ARN or pattern`);
    return { kind: "lambda", pattern: glob(name) };
  }
  const m = /^(https?):\/\/(\[[^\]]+\]|[^/:]+)(?::(\*|\d{1,5}))?\/?$/i.exec(entry);
  if (m === null) {
    throw new Error(`${JSON.stringify(entry)} is not http(s)://host[:port], lambda:<name-or-arn> or *`);
  }
  const protocol = `${m[1]!.toLowerCase()}:`;
  const port = m[3] ?? (protocol === "https:" ? "443" : "80");
  return { kind: "url", protocol, host: glob(m[2]!), port: glob(port) };
}

/**
 * @throws Error naming the first entry that is not an allow-list entry (config turns it into CONFIG_INVALID).
 * @example parseRegistrationAllow(["https://*.internal.example.com", "lambda:arn:aws:lambda:*:123456789012:function:shop-*"])
 */
export function parseRegistrationAllow(entries: readonly string[]): RegistrationAllowList {
  const trimmed = entries.map((e) => e.trim()).filter((e) => e !== "");
  return { entries: trimmed, rules: trimmed.map(rule) };
}

/**
 * @example isRegistrationAllowed(parseRegistrationAllow(DEFAULT_REGISTRATION_ALLOW), { kind: "http", url: "http://10.0.0.5" }) // → false
 */
export function isRegistrationAllowed(allow: RegistrationAllowList, endpoint: DeploymentEndpoint): boolean {
  let url: URL | undefined;
  if (endpoint.kind === "http") {
    try {
      url = new URL(endpoint.url);
    } catch {
      return false;
    }
  }
  return allow.rules.some((r) => {
    switch (r.kind) {
      case "any":
        return true;
      case "lambda":
        return endpoint.kind === "lambda" && r.pattern.test(endpoint.arn);
      case "url": {
        if (url === undefined) return false;
        const port = url.port || (url.protocol === "https:" ? "443" : "80");
        return url.protocol === r.protocol && r.host.test(url.hostname) && r.port.test(port);
      }
    }
  });
}
