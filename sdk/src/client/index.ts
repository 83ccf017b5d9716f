/**
 * @capstan/sdk/client: a typed client of the runtime's ingress over fetch, for code outside handlers.
 */
export { connect } from "./ingress";
export type {
  Ingress,
  IngressClient,
  IngressSendClient,
  IngressWorkflowClient,
  IngressCallOptions,
  IngressSendOptions,
  ConnectOptions,
  Send,
  SendHandle,
  Output,
} from "./ingress";
export { IngressError, isIngressError } from "./ingress-error";
