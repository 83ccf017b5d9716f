import { formatInvocationId } from "@capstan/sdk/protocol";
import {
  PARTITION_OVERLOADED_RETRY_AFTER_MS,
  PARTITION_UNAVAILABLE_RETRY_AFTER_MS,
  PartitionOverloadedError,
  PartitionUnavailableError,
} from "../partition/partition-errors";
import type { PartitionRouter } from "../partition/partition-router";
import type { HealthInfo } from "../server/runtime-api";
import { PartitionAccess } from "./partition-access";

/** A router whose appends fail with `failure` (nothing else is used here). */
function failingRouter(failure: Error): PartitionRouter {
  return {
    partitions: 4,
    append: () => Promise.reject(failure),
    view: () => {
      throw new Error("not read here");
    },
    health: () => ({ state: "leading", epoch: 1, pendingRecords: 0 }),
  };
}

const record = { kind: "recover", epoch: 1 } as const;

function storeError(code: string): Error {
  return Object.assign(new Error(`the store says ${code}`), { code });
}

describe("PartitionAccess", () => {
  it("turns the router's refusals into runtime codes with a retry hint, and passes bugs through", async () => {
    const refusal = (failure: Error): Promise<unknown> =>
      new PartitionAccess(failingRouter(failure), () => "ok").append(1, record).catch((e: unknown) => e);

    expect(await refusal(new PartitionOverloadedError("too many pending records"))).toMatchObject({
      code: "RUNTIME_OVERLOADED",
      retryAfterMs: PARTITION_OVERLOADED_RETRY_AFTER_MS,
    });
    expect(await refusal(storeError("STORE_OVERLOADED"))).toMatchObject({ code: "RUNTIME_OVERLOADED" });
    expect(await refusal(new PartitionUnavailableError(1, "stopped: STORE_LOG_CONFLICT"))).toMatchObject({
      code: "RUNTIME_PARTITION_UNAVAILABLE",
      retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS,
      message: expect.stringContaining("STORE_LOG_CONFLICT"),
    });
    expect(await refusal(storeError("STORE_WRITER_FAILED"))).toMatchObject({
      code: "RUNTIME_PARTITION_UNAVAILABLE",
      message: expect.stringContaining("STORE_WRITER_FAILED"),
    });
    const bug = new TypeError("a bug");
    expect(await refusal(bug)).toBe(bug);
  });

  it("refuses requests while the runtime is not running, and ids it cannot route", async () => {
    let status: HealthInfo["status"] = "starting";
    const access = new PartitionAccess(failingRouter(new Error("unused")), () => status);

    await expect(access.append(0, record)).rejects.toMatchObject({ code: "RUNTIME_UNAVAILABLE" });
    status = "ok";
    expect(() => access.locate("not-an-id")).toThrow(
      expect.objectContaining({ code: "INVOCATION_INVALID_ID" }),
    );
    expect(() => access.locate(formatInvocationId(4, "abcdefgh1234"))).toThrow(
      expect.objectContaining({ code: "INVOCATION_NOT_FOUND" }),
    );
    expect(access.locate(formatInvocationId(3, "abcdefgh1234")).p).toBe(3);
  });
});
