import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_ECS_METADATA_BYTES, resolveNodeAddress } from "./node-address";

let server: Server;
let metadataUri: string;
let answer: { status: number; body: string } = { status: 200, body: "{}" };

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.statusCode = answer.status;
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  metadataUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4/abc`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const awsvpc = (ip: string) =>
  JSON.stringify({ Name: "runtime", Networks: [{ NetworkMode: "awsvpc", IPv4Addresses: [ip] }] });

test("CAPSTAN_NODE_ADDRESS wins; without ECS metadata the listener's own URL", async () => {
  const env = { ECS_CONTAINER_METADATA_URI_V4: metadataUri };
  expect(await resolveNodeAddress("http://peer.internal:9072", "http://127.0.0.1:9072", 9072, env)).toBe(
    "http://peer.internal:9072",
  );
  expect(await resolveNodeAddress(undefined, "http://127.0.0.1:9072", 9072, {})).toBe(
    "http://127.0.0.1:9072",
  );
});

test("on ECS the task's awsvpc IPv4 address with the peer port", async () => {
  answer = { status: 200, body: awsvpc("10.0.2.106") };
  const env = { ECS_CONTAINER_METADATA_URI_V4: metadataUri };
  expect(await resolveNodeAddress(undefined, "http://127.0.0.1:9072", 9072, env)).toBe(
    "http://10.0.2.106:9072",
  );
});

test("no usable address from the metadata is a start-up error naming CAPSTAN_NODE_ADDRESS", async () => {
  const env = { ECS_CONTAINER_METADATA_URI_V4: metadataUri };
  for (const bad of [
    { status: 500, body: awsvpc("10.0.2.106") },
    { status: 200, body: awsvpc("not-an-ip") },
    { status: 200, body: "not json" },
    { status: 200, body: awsvpc("10.0.2.106").padEnd(MAX_ECS_METADATA_BYTES + 1, " ") },
  ]) {
    answer = bad;
    await expect(resolveNodeAddress(undefined, "http://127.0.0.1:9072", 9072, env)).rejects.toThrow(
      /CAPSTAN_NODE_ADDRESS/,
    );
  }
  // At the size limit the answer is still read.
  answer = { status: 200, body: awsvpc("10.0.2.7").padEnd(MAX_ECS_METADATA_BYTES, " ") };
  expect(await resolveNodeAddress(undefined, "http://127.0.0.1:9072", 9072, env)).toBe(
    "http://10.0.2.7:9072",
  );
});
