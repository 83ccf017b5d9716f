/**
 * A small JSON POST: the checkpoint channel's hot path. http: URLs go through the SDK's own
 * HTTP/1.1 client (transport/http1-client.ts), https: through node:https with a keep-alive agent.
 * Node's global fetch (undici + web streams) costs several times more CPU per request, which a
 * handler pays on every `ctx.run`.
 */
import https from "node:https";
import { Http1Client, Http1Error } from "../transport/http1-client";

const httpsAgent = new https.Agent({ keepAlive: true });
/** An ack is small; anything larger is not an ack. */
export const MAX_ACK_BYTES = 8 * 1024 * 1024;

export interface PostResult {
  status: number;
  text: string;
}

const JSON_HEADERS = { "Content-Type": "application/json" } as const;
const clients = new Map<string, Http1Client>();

/**
 * Posts once more when a reused keep-alive socket turns out dead (a Lambda thawed after a pause):
 * checkpoints are idempotent, so resending is safe.
 */
export async function postJson(
  url: string,
  body: string,
  timeoutMs: number,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<PostResult> {
  const target = parseTarget(url);
  if (target.secure) {
    try {
      return await postHttps(target.url, body, timeoutMs, extraHeaders);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ECONNRESET" || code === "EPIPE")
        return postHttps(target.url, body, timeoutMs, extraHeaders);
      throw e;
    }
  }
  const res = await target.client.request(
    {
      method: "POST",
      path: target.path,
      headers: { ...extraHeaders, ...JSON_HEADERS },
      body,
      timeoutMs,
      maxBodyBytes: MAX_ACK_BYTES,
    },
    true,
  );
  return { status: res.status, text: res.body.toString("utf8") };
}

type Target = { secure: true; url: URL } | { secure: false; client: Http1Client; path: string };

/** The last URL parsed: a handler posts every checkpoint of an attempt to the same one. */
let lastTarget: { url: string; target: Target } | undefined;

function parseTarget(url: string): Target {
  if (lastTarget?.url === url) return lastTarget.target;
  const parsed = new URL(url);
  let target: Target;
  if (parsed.protocol === "https:") target = { secure: true, url: parsed };
  else if (parsed.protocol === "http:") {
    const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = parsed.port === "" ? 80 : Number(parsed.port);
    const key = `${host}:${port}`;
    let client = clients.get(key);
    if (client === undefined) {
      client = new Http1Client(host, port);
      clients.set(key, client);
    }
    target = { secure: false, client, path: `${parsed.pathname}${parsed.search}` };
  } else throw new Http1Error(`unsupported checkpoint URL protocol ${parsed.protocol}`, "ERR_INVALID_URL");
  lastTarget = { url, target };
  return target;
}

function postHttps(
  target: URL,
  body: string,
  timeoutMs: number,
  extraHeaders: Readonly<Record<string, string>>,
): Promise<PostResult> {
  const payload = Buffer.from(body, "utf8");
  return new Promise((resolve, reject) => {
    const req = https.request(
      target,
      {
        method: "POST",
        agent: httpsAgent,
        headers: { ...extraHeaders, "content-type": "application/json", "content-length": payload.length },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > MAX_ACK_BYTES) req.destroy(new Error(`response larger than ${MAX_ACK_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}
