/**
 * A small S3 API on 127.0.0.1, driven by the real `@aws-sdk/client-s3` (`forcePathStyle`): the
 * snapshot store's S3 for tests and for `capstan dev --nodes`.
 *
 * It exists because the S3 emulators that run offline here ignore conditional writes (s3rver answers
 * 200 to `If-None-Match: *` on an existing key), and the snapshot store's safety rests on them. It
 * speaks only what the snapshot store uses: CreateBucket, PutObject (with `If-None-Match: *` and
 * `If-Match`), GetObject, HeadObject, ListObjectsV2 and DeleteObject. Objects live in memory; with a
 * `dir` (what `capstan dev` gives it) every bucket is a directory there and every object a file
 * (written to a temporary name, then renamed), loaded again on the next start.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

export interface S3StandIn {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint` (with `forcePathStyle: true`). */
  endpoint: string;
  /** Number of objects held, across buckets. */
  objectCount(): number;
  stop(): Promise<void>;
}

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
}

/** ListObjectsV2's default and maximum page, as on S3. */
const MAX_KEYS = 1_000;
/**
 * Longest object key accepted, in bytes. S3 allows 1,024; a persisted object's file name is its key
 * in base64url, and file names stop at 255 bytes on common file systems (4/3 × 180 = 240).
 */
export const MAX_STAND_IN_KEY_BYTES = 180;
/** S3's bucket naming rule (lower case, digits, dots, hyphens): also a safe directory name. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

type Buckets = Map<string, Map<string, StoredObject>>;

export interface S3StandInOptions {
  /** Keep the objects as files under this directory, across restarts; absent: in memory only. */
  dir?: string;
}

/**
 * @example
 * const s3 = await startS3StandIn();
 * const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: "us-east-1" });
 */
export async function startS3StandIn(options: S3StandInOptions = {}): Promise<S3StandIn> {
  const files = options.dir === undefined ? undefined : new ObjectFiles(options.dir);
  const buckets: Buckets = files?.load() ?? new Map();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        handle(buckets, files, req, decodeBody(req, Buffer.concat(chunks)), res);
      } catch (e) {
        sendError(res, 500, "InternalError", String(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objectCount: () => [...buckets.values()].reduce((n, b) => n + b.size, 0),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function handle(
  buckets: Buckets,
  files: ObjectFiles | undefined,
  req: http.IncomingMessage,
  body: Buffer,
  res: http.ServerResponse,
): void {
  const url = new URL(req.url ?? "/", "http://s3.local");
  const [bucketName = "", ...rest] = url.pathname.slice(1).split("/");
  const key = decodeURIComponent(rest.join("/"));
  const method = req.method ?? "GET";
  if (!BUCKET_NAME.test(bucketName)) return sendError(res, 400, "InvalidBucketName", bucketName);
  if (Buffer.byteLength(key) > MAX_STAND_IN_KEY_BYTES) {
    return sendError(res, 400, "KeyTooLongError", `keys are at most ${MAX_STAND_IN_KEY_BYTES} bytes here`);
  }
  if (key === "" && method === "PUT") {
    if (!buckets.has(bucketName)) {
      files?.createBucket(bucketName);
      buckets.set(bucketName, new Map());
    }
    res.writeHead(200).end();
    return;
  }
  const bucket = buckets.get(bucketName);
  if (bucket === undefined) return sendError(res, 404, "NoSuchBucket", bucketName);
  if (key === "" && method === "GET") return listObjects(bucket, url.searchParams, res);
  const existing = bucket.get(key);
  switch (method) {
    case "PUT": {
      const ifNoneMatch = req.headers["if-none-match"];
      const ifMatch = req.headers["if-match"];
      if (ifNoneMatch === "*" && existing !== undefined) {
        return sendError(res, 412, "PreconditionFailed", "the object exists");
      }
      if (ifMatch !== undefined) {
        if (existing === undefined) return sendError(res, 404, "NoSuchKey", key);
        if (ifMatch !== existing.etag) return sendError(res, 412, "PreconditionFailed", "ETag differs");
      }
      const stored = files?.put(bucketName, key, body) ?? storedObject(body, new Date());
      bucket.set(key, stored);
      res.writeHead(200, { ETag: stored.etag }).end();
      return;
    }
    case "GET":
    case "HEAD": {
      if (existing === undefined) {
        if (method === "HEAD") return void res.writeHead(404).end();
        return sendError(res, 404, "NoSuchKey", key);
      }
      res.writeHead(200, {
        ETag: existing.etag,
        "Content-Length": existing.body.length,
        "Content-Type": "application/octet-stream",
        "Last-Modified": existing.lastModified.toUTCString(),
      });
      res.end(method === "GET" ? existing.body : undefined);
      return;
    }
    case "DELETE":
      files?.delete(bucketName, key);
      bucket.delete(key);
      res.writeHead(204).end();
      return;
    default:
      sendError(res, 405, "MethodNotAllowed", method);
  }
}

function storedObject(body: Buffer, lastModified: Date): StoredObject {
  return { body, etag: `"${createHash("md5").update(body).digest("hex")}"`, lastModified };
}

/** Buckets as directories under `dir`, objects as files named by their key in base64url. */
class ObjectFiles {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  load(): Buckets {
    const buckets: Buckets = new Map();
    for (const name of fs.readdirSync(this.dir)) {
      const bucketDir = path.join(this.dir, name);
      if (!BUCKET_NAME.test(name) || !fs.statSync(bucketDir).isDirectory()) continue;
      const objects = new Map<string, StoredObject>();
      for (const file of fs.readdirSync(bucketDir)) {
        if (file.startsWith(".")) continue; // an interrupted write's temporary file
        const full = path.join(bucketDir, file);
        objects.set(
          Buffer.from(file, "base64url").toString("utf8"),
          storedObject(fs.readFileSync(full), fs.statSync(full).mtime),
        );
      }
      buckets.set(name, objects);
    }
    return buckets;
  }

  createBucket(bucket: string): void {
    fs.mkdirSync(path.join(this.dir, bucket), { recursive: true, mode: 0o700 });
  }

  put(bucket: string, key: string, body: Buffer): StoredObject {
    const file = this.file(bucket, key);
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}`);
    fs.writeFileSync(temporary, body, { mode: 0o600 });
    fs.renameSync(temporary, file);
    return storedObject(body, fs.statSync(file).mtime);
  }

  delete(bucket: string, key: string): void {
    fs.rmSync(this.file(bucket, key), { force: true });
  }

  private file(bucket: string, key: string): string {
    return path.join(this.dir, bucket, Buffer.from(key, "utf8").toString("base64url"));
  }
}

function listObjects(
  bucket: Map<string, StoredObject>,
  query: URLSearchParams,
  res: http.ServerResponse,
): void {
  const prefix = query.get("prefix") ?? "";
  const maxKeys = Math.min(Number(query.get("max-keys") ?? MAX_KEYS), MAX_KEYS);
  const after = query.get("continuation-token") ?? query.get("start-after") ?? "";
  const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
  const page = keys.slice(0, maxKeys);
  const truncated = keys.length > page.length;
  const contents = page
    .map((k) => {
      const o = bucket.get(k)!;
      return (
        `<Contents><Key>${xml(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>` +
        `<ETag>${xml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`
      );
    })
    .join("");
  const next = truncated
    ? `<NextContinuationToken>${xml(page[page.length - 1]!)}</NextContinuationToken>`
    : "";
  res.writeHead(200, { "Content-Type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Prefix>${xml(prefix)}</Prefix>` +
      `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>` +
      `<IsTruncated>${truncated}</IsTruncated>${next}${contents}</ListBucketResult>`,
  );
}

/**
 * The SDK may send a body in `aws-chunked` encoding (with a trailing checksum): strip the framing.
 * Each chunk is `<hex size>[;extensions]\r\n<data>\r\n`, ending with a zero-size chunk and trailers.
 */
function decodeBody(req: http.IncomingMessage, raw: Buffer): Buffer {
  if (!String(req.headers["content-encoding"] ?? "").includes("aws-chunked")) return raw;
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", at);
    if (lineEnd < 0) break;
    const size = parseInt(raw.subarray(at, lineEnd).toString("latin1").split(";")[0]!, 16);
    if (!(size > 0)) break;
    parts.push(raw.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "Content-Type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`,
  );
}

function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
