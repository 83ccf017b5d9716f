/**
 * The network between the handlers and the simulated runtime incarnations: the SDK's checkpoint
 * requests go to the incarnation their URL names, in-process. An incarnation that crashed answers
 * nothing (the request fails as a refused connection would), and an answer computed while it crashed
 * is lost with it — so a handler only ever sees an acknowledgement from a live runtime.
 */
import { checkpointCredentialFrom, decodeCheckpointRequest } from "@capstan/sdk/protocol";
import { isApiError } from "../../../runtime/src/server/api-error";
import { toApiError } from "../../../runtime/src/server/error-status";
import type { SimulatedNode } from "./simulated-node";

export class CheckpointTransport {
  private readonly nodes = new Map<string, SimulatedNode>();

  /** Routes requests to `baseUrl` to `node` from now on. */
  attach(node: SimulatedNode): void {
    this.nodes.set(node.baseUrl, node);
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const node = [...this.nodes.values()].find((n) => url.startsWith(n.baseUrl));
    if (node === undefined || node.crashed) throw unreachable(url);
    let status: number;
    let body: unknown;
    try {
      // As the checkpoint listener does: the credential first, from the headers, then the body
      // (which the SDK's checkpoint client sends as a JSON string).
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      const credential = checkpointCredentialFrom(headers);
      const verified = node.runtime.authenticateCheckpoint(
        credential?.invocationId,
        credential?.attemptToken,
      );
      const request = decodeCheckpointRequest(JSON.parse(init?.body as string), credential!);
      body = await node.runtime.checkpoint(request, verified, init?.signal ?? undefined);
      status = 200;
    } catch (e) {
      const error = toApiError(e);
      status = isApiError(error) ? error.status : 500;
      body = isApiError(error)
        ? { code: error.code, message: error.message }
        : { code: "INTERNAL", message: String(e) };
    }
    if (node.crashed) throw unreachable(url);
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  };
}

function unreachable(url: string): Error {
  return new TypeError(`fetch failed: ${url} is down`, { cause: new Error("ECONNREFUSED") });
}
