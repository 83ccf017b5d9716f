/**
 * The S3 stand-in answers the real S3 client the way S3 does for what the snapshot store relies on:
 * a create-only put loses to an existing key, a put with a stale ETag is refused. With a directory
 * (what `capstan dev --nodes` gives it) its objects outlive a restart.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MAX_STAND_IN_KEY_BYTES, startS3StandIn, type S3StandIn } from "./s3-stand-in";

let s3: S3StandIn;
let client: S3Client;
const Bucket = "stand-in-test";

beforeAll(async () => {
  s3 = await startS3StandIn();
  client = new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await client.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  client.destroy();
  await s3.stop();
});

test("conditional puts: If-None-Match * creates once, If-Match needs the current ETag", async () => {
  const first = await client.send(
    new PutObjectCommand({ Bucket, Key: "snap/1", Body: Buffer.from("one"), IfNoneMatch: "*" }),
  );
  await expect(
    client.send(new PutObjectCommand({ Bucket, Key: "snap/1", Body: Buffer.from("two"), IfNoneMatch: "*" })),
  ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  await expect(
    client.send(
      new PutObjectCommand({ Bucket, Key: "snap/1", Body: Buffer.from("two"), IfMatch: '"stale"' }),
    ),
  ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
  const second = await client.send(
    new PutObjectCommand({ Bucket, Key: "snap/1", Body: Buffer.from("two"), IfMatch: first.ETag! }),
  );

  const got = await client.send(new GetObjectCommand({ Bucket, Key: "snap/1" }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).toString()).toBe("two");
  expect(got.ETag).toBe(second.ETag);
  expect(second.ETag).not.toBe(first.ETag);
});

test("lists by prefix in pages, heads, deletes, and answers 404 for a missing key", async () => {
  for (const key of ["p/a", "p/b", "p/c", "q/a"]) {
    await client.send(new PutObjectCommand({ Bucket, Key: key, Body: Buffer.from(key) }));
  }

  const page1 = await client.send(new ListObjectsV2Command({ Bucket, Prefix: "p/", MaxKeys: 2 }));
  const page2 = await client.send(
    new ListObjectsV2Command({ Bucket, Prefix: "p/", ContinuationToken: page1.NextContinuationToken! }),
  );
  expect(page1.Contents?.map((o) => o.Key)).toEqual(["p/a", "p/b"]);
  expect(page1.IsTruncated).toBe(true);
  expect(page2.Contents?.map((o) => o.Key)).toEqual(["p/c"]);
  expect((await client.send(new HeadObjectCommand({ Bucket, Key: "p/b" }))).ContentLength).toBe(3);

  await client.send(new DeleteObjectCommand({ Bucket, Key: "p/b" }));
  await expect(client.send(new HeadObjectCommand({ Bucket, Key: "p/b" }))).rejects.toMatchObject({
    $metadata: { httpStatusCode: 404 },
  });
  await expect(client.send(new GetObjectCommand({ Bucket, Key: "p/b" }))).rejects.toMatchObject({
    name: "NoSuchKey",
  });
});

test(`a key of ${MAX_STAND_IN_KEY_BYTES} bytes is stored, one byte more is refused with 400`, async () => {
  const atLimit = "k".repeat(MAX_STAND_IN_KEY_BYTES);
  await client.send(new PutObjectCommand({ Bucket, Key: atLimit, Body: Buffer.from("x") }));
  expect((await client.send(new HeadObjectCommand({ Bucket, Key: atLimit }))).ContentLength).toBe(1);
  await expect(
    client.send(new PutObjectCommand({ Bucket, Key: atLimit + "k", Body: Buffer.from("x") })),
  ).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
});

test("with a directory, buckets and objects (and their ETags) outlive a restart; deletes too", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-s3-"));
  const persistent = () => startS3StandIn({ dir });
  const connect = (endpoint: string): S3Client =>
    new S3Client({
      endpoint,
      forcePathStyle: true,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
  try {
    const first = await persistent();
    const c1 = connect(first.endpoint);
    await c1.send(new CreateBucketCommand({ Bucket: "kept" }));
    const put = await c1.send(
      new PutObjectCommand({ Bucket: "kept", Key: "snap/0/1", Body: Buffer.from("state"), IfNoneMatch: "*" }),
    );
    await c1.send(new PutObjectCommand({ Bucket: "kept", Key: "gone", Body: Buffer.from("x") }));
    await c1.send(new DeleteObjectCommand({ Bucket: "kept", Key: "gone" }));
    c1.destroy();
    await first.stop();

    const second = await persistent();
    const c2 = connect(second.endpoint);
    try {
      const got = await c2.send(new GetObjectCommand({ Bucket: "kept", Key: "snap/0/1" }));
      expect(Buffer.from(await got.Body!.transformToByteArray()).toString()).toBe("state");
      expect(got.ETag).toBe(put.ETag);
      expect(second.objectCount()).toBe(1);
      // Still conditional after the restart: the existing key wins.
      await expect(
        c2.send(
          new PutObjectCommand({ Bucket: "kept", Key: "snap/0/1", Body: Buffer.from("y"), IfNoneMatch: "*" }),
        ),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    } finally {
      c2.destroy();
      await second.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
