/**
 * How an appended batch becomes DynamoDB items, and back. Pure: no I/O, no AWS SDK.
 *
 * A batch is one item while it fits; a larger one is cut, at record boundaries, into items of at most
 * MAX_ITEM_PAYLOAD_BYTES each (DynamoDB refuses items above 400 KB; the rest of the limit is left for
 * keys and attributes). Each item is keyed by the LSN of its first record. A payload above the
 * compression threshold is gzipped when that makes it smaller.
 */
import { gunzipSync, gzipSync } from "node:zlib";

/** The most payload bytes one item carries: DynamoDB's 400 KB item limit minus room for the rest. */
export const MAX_ITEM_PAYLOAD_BYTES = 350 * 1024;
/** Payloads from this size on are gzipped (smaller ones gain little and cost CPU). */
export const COMPRESS_ABOVE_BYTES = 1024;

/** One record is larger than an item can hold, even compressed. */
export class LogRecordTooLargeError extends Error {
  override readonly name = "LogRecordTooLargeError";
  readonly code = "STORE_RECORD_TOO_LARGE";
  constructor(
    readonly index: number,
    readonly sizeBytes: number,
  ) {
    super(
      `record ${index} takes ${sizeBytes} bytes, more than the ${MAX_ITEM_PAYLOAD_BYTES} bytes ` +
        `one DynamoDB log item holds (compressed where that helps)`,
    );
  }
}

/** The encoded content of one log item. */
export interface LogItemPayload {
  firstLsn: number;
  lastLsn: number;
  format: "json" | "gzip";
  bytes: Buffer;
}

/**
 * Cuts `records` (first at `firstLsn`) into item payloads.
 *
 * @example
 * const items = encodeLogItems(41, [{ kind: "invoke" }, { kind: "entries" }]); // one item, lsn 41..42
 */
export function encodeLogItems(
  firstLsn: number,
  records: readonly unknown[],
  compressAboveBytes = COMPRESS_ABOVE_BYTES,
): LogItemPayload[] {
  const texts = records.map((record, i) => {
    const text = JSON.stringify(record) as string | undefined;
    if (text === undefined) throw new TypeError(`record ${i} is not JSON-serializable`);
    return text;
  });
  const items: LogItemPayload[] = [];
  let start = 0;
  let sizeBytes = 2; // "[" and "]"
  const cut = (end: number): void => {
    items.push(encodeItem(firstLsn + start, texts.slice(start, end), start, compressAboveBytes));
    start = end;
    sizeBytes = 2;
  };
  texts.forEach((text, i) => {
    const bytes = Buffer.byteLength(text, "utf8") + 1; // and its comma
    if (i > start && sizeBytes + bytes > MAX_ITEM_PAYLOAD_BYTES) cut(i);
    sizeBytes += bytes;
  });
  if (start < texts.length) cut(texts.length);
  return items;
}

function encodeItem(
  firstLsn: number,
  texts: string[],
  firstIndex: number,
  compressAboveBytes: number,
): LogItemPayload {
  const raw = Buffer.from(`[${texts.join(",")}]`, "utf8");
  let payload: Pick<LogItemPayload, "format" | "bytes"> = { format: "json", bytes: raw };
  if (raw.length >= compressAboveBytes) {
    const zipped = gzipSync(raw);
    if (zipped.length < raw.length) payload = { format: "gzip", bytes: zipped };
  }
  // Only an item of one record can be over the limit: records are grouped below it.
  if (payload.bytes.length > MAX_ITEM_PAYLOAD_BYTES) {
    throw new LogRecordTooLargeError(firstIndex, payload.bytes.length);
  }
  return { firstLsn, lastLsn: firstLsn + texts.length - 1, ...payload };
}

/** The records of one item, in LSN order. */
export function decodeLogItem(format: string, bytes: Uint8Array): unknown[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (format === "gzip" ? gunzipSync(buffer) : buffer).toString("utf8");
  const records = JSON.parse(text) as unknown;
  if (!Array.isArray(records)) throw new Error(`log item is not a JSON array (format ${format})`);
  return records;
}
