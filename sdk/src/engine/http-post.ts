/**
 * A small JSON POST over node:http(s) with keep-alive agents: the checkpoint channel's hot path.
 * Node's global fetch (undici + web streams) costs several times more CPU per request, which a
 * handler pays on every `ctx.run`.
 */
import http from "node:http";
import https from "node:https";

const httpAgent = new http.Agent({ keepAlive: true });
const httpsAgent = new https.Agent({ keepAlive: true });
/** An ack is small; anything larger is not an ack. */
export const MAX_ACK_BYTES = 8 * 1024 * 1024;

export interface PostResult {
  status: number;
  text: string;
}

/**
 * Posts once more when a reused keep-alive socket turns out dead (a Lambda thawed after a pause):
 * checkpoints are idempotent, so resending is safe.
 */
export async function postJson(url: string, body: string, timeoutMs: number): Promise<PostResult> {
  try {
    return await postOnce(url, body, timeoutMs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ECONNRESET" || code === "EPIPE") return postOnce(url, body, timeoutMs);
    throw e;
  }
}

function postOnce(url: string, body: string, timeoutMs: number): Promise<PostResult> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  const payload = Buffer.from(body, "utf8");
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      target,
      {
        method: "POST",
        agent: secure ? httpsAgent : httpAgent,
        headers: { "content-type": "application/json", "content-length": payload.length },
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
