/* eslint-disable @typescript-eslint/no-explicit-any -- inference over arbitrary handler signatures needs `any` */
import { MAX_VALUE_BYTES } from "../protocol";
import { TerminalError } from "../errors/terminal-error";
import { withCode } from "../errors/sdk-error-codes";

/**
 * Turns values into journal payloads (strings) and back. Pluggable per service, handler, step or call.
 *
 * @example
 * const dateSerde: Serde<Date> = { serialize: (d) => d.toISOString(), deserialize: (s) => new Date(s) };
 * await ctx.run("now", () => new Date(), { serde: dateSerde });
 */
export interface Serde<T = unknown> {
  serialize(value: T): string;
  deserialize(data: string): T;
}

/**
 * The default serde: JSON, with `undefined` as the empty payload so `void` results round-trip.
 *
 * @example
 * jsonSerde.serialize({ a: 1 }) // '{"a":1}'; jsonSerde.serialize(undefined) // ''
 */
export const jsonSerde: Serde<any> = {
  serialize(value: unknown): string {
    return JSON.stringify(value) ?? "";
  },
  deserialize(data: string): unknown {
    return data === "" ? undefined : JSON.parse(data);
  },
};

/**
 * Serializes with `serde` and enforces MAX_VALUE_BYTES. A value that cannot be serialized (a BigInt, a
 * cycle) is a TerminalError 500 SDK_SERIALIZATION; one too large is a TerminalError 413 SDK_VALUE_TOO_LARGE.
 */
export function serializeValue<T>(serde: Serde<T>, value: T, what: string): string {
  let payload: unknown;
  try {
    payload = serde.serialize(value);
  } catch (e) {
    throw new TerminalError(
      withCode(
        "SDK_SERIALIZATION",
        `cannot serialize ${what}: ${e instanceof Error ? e.message : String(e)}`,
      ),
      { code: 500, cause: e },
    );
  }
  if (typeof payload !== "string") {
    throw new TerminalError(withCode("SDK_SERIALIZATION", `serde for ${what} did not return a string`));
  }
  if (payload.length > MAX_VALUE_BYTES / 3 && Buffer.byteLength(payload, "utf8") > MAX_VALUE_BYTES) {
    throw new TerminalError(
      withCode(
        "SDK_VALUE_TOO_LARGE",
        `${what} is ${Buffer.byteLength(payload, "utf8")} bytes, above MAX_VALUE_BYTES (${MAX_VALUE_BYTES})`,
      ),
      { code: 413 },
    );
  }
  return payload;
}

/** Deserializes with `serde`; a payload the serde rejects is a TerminalError 400 SDK_SERIALIZATION. */
export function deserializeValue<T>(serde: Serde<T>, payload: string, what: string): T {
  try {
    return serde.deserialize(payload);
  } catch (e) {
    throw new TerminalError(
      withCode(
        "SDK_SERIALIZATION",
        `cannot deserialize ${what}: ${e instanceof Error ? e.message : String(e)}`,
      ),
      { code: 400, cause: e },
    );
  }
}
