/** `@capstan/sdk/transport`: the HTTP/1.1 client shared by the SDK's checkpoints and the runtime's local invokes. */
export {
  DEFAULT_IDLE_SOCKET_MS,
  Http1Client,
  Http1Error,
  MAX_IDLE_SOCKETS,
  MAX_RESPONSE_HEAD_BYTES,
  SWEEP_MS,
} from "./http1-client";
export type { Http1Request, Http1Response } from "./http1-client";
