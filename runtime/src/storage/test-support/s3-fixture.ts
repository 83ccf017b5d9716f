/**
 * Buckets on a test file's S3 stand-in: a client for its endpoint, and a fresh bucket per test.
 */
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

let bucketCounter = 0;

export function localS3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}

export async function freshBucket(client: S3Client): Promise<string> {
  const name = `capstan-test-${process.pid}-${++bucketCounter}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Objects under a prefix (one page is enough for tests). */
export async function countObjects(client: S3Client, bucket: string, prefix: string): Promise<number> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return page.KeyCount ?? page.Contents?.length ?? 0;
}
