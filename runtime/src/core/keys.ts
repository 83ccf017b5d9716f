/** Keys of the partition's lookup tables (idempotency, workflows, promises). */
import type { Target } from "@capstan/sdk/protocol";
import { objectKey } from "./state";

/**
 * Key of `PartitionState.idempotency`. Scoped like Restate: the same idempotency key on another
 * handler, service or object key is another invocation. JSON keeps the parts unambiguous.
 *
 * @example
 * idempotencyTableKey({ service: "Cart", key: "u1", handler: "checkout" }, "k-42") // '["Cart","u1","checkout","k-42"]'
 */
export function idempotencyTableKey(target: Target, idempotencyKey: string): string {
  return JSON.stringify([target.service, target.key ?? null, target.handler, idempotencyKey]);
}

/** Key of `PartitionState.workflows` (and of the workflow's K/V state and lock): `service/workflowId`. */
export function workflowKey(target: Target): string {
  return objectKey(target.service, target.key ?? "");
}

/** Key of `PartitionState.promises` (and promiseWaiters): JSON `[service, workflowId, name]`, unambiguous. */
export function promiseKey(target: Target, name: string): string {
  return JSON.stringify([target.service, target.key ?? "", name]);
}

/** Every promise key of one workflow starts with this (JSON strings are escaped, so no other workflow's do). */
export function promiseKeyPrefix(target: Target): string {
  return JSON.stringify([target.service, target.key ?? ""]).slice(0, -1) + ",";
}
