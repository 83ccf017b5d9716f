/**
 * `capstan cluster`: what it prints for fixtures of `GET /cluster`, and the command end to end
 * against an HTTP server on an ephemeral port answering that fixture (with the bearer token checked).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { formatCluster, type ClusterView } from "./cluster-format";
import { main } from "./main";

const threeNodes: ClusterView = {
  nodeId: "node-1",
  mode: "cluster",
  leaseDurationMs: 10_000,
  nodes: [
    {
      nodeId: "node-1",
      address: "http://127.0.0.1:9273",
      pid: 4102,
      live: true,
      self: true,
      heartbeatAgeMs: 0,
    },
    {
      nodeId: "node-0",
      address: "http://127.0.0.1:9272",
      pid: 4101,
      live: true,
      self: false,
      heartbeatAgeMs: 1480,
    },
    {
      nodeId: "node-2",
      address: "http://127.0.0.1:9274",
      pid: 4188,
      live: false,
      self: false,
      heartbeatAgeMs: 12345,
    },
  ],
  partitions: [
    { partition: 0, leader: "node-0", epoch: 4, state: "elsewhere" },
    { partition: 1, leader: "node-0", epoch: 4, state: "elsewhere" },
    { partition: 2, leader: "node-0", epoch: 4, state: "elsewhere" },
    { partition: 3, leader: "node-1", epoch: 2, state: "leading" },
    { partition: 4, leader: "node-0", epoch: 5, state: "elsewhere" },
    { partition: 5, state: "unassigned" },
    { partition: 6, leader: "node-1", epoch: 3, state: "leading" },
    { partition: 7, leader: "node-1", epoch: 3, state: "leading" },
  ],
};

test("nodes as a table (self starred, heartbeat age in seconds), partitions grouped by leader as ranges", () => {
  expect(formatCluster(threeNodes)).toEqual([
    "cluster of 3 nodes (2 live), answered by node-1, lease 10000 ms",
    "",
    [
      "node      address                pid   live  heartbeat",
      "--------  ---------------------  ----  ----  ----------",
      "node-0    http://127.0.0.1:9272  4101  yes   1.5 s ago",
      "node-1 *  http://127.0.0.1:9273  4102  yes   0.0 s ago",
      "node-2    http://127.0.0.1:9274  4188  no    12.3 s ago",
    ].join("\n"),
    "",
    [
      "leader  partitions  partition@epoch",
      "------  ----------  ---------------",
      "node-0  4           0-2@4 4@5",
      "node-1  3           3@2 6-7@3",
      "(none)  1           5",
    ].join("\n"),
    "",
    "not served now (moving or stopped): 5 (unassigned)",
  ]);
});

test("a single node: one line of partitions, no heartbeat column value", () => {
  const single: ClusterView = {
    nodeId: "node-a",
    mode: "single",
    leaseDurationMs: 10_000,
    nodes: [{ nodeId: "node-a", address: "http://127.0.0.1:9072", pid: 7, live: true, self: true }],
    partitions: Array.from({ length: 1024 }, (_, p) => ({
      partition: p,
      leader: "node-a",
      epoch: 1,
      state: "leading" as const,
    })),
  };
  const lines = formatCluster(single);
  expect(lines[0]).toBe("single node, answered by node-a, lease 10000 ms");
  expect(lines[2]).toContain("node-a *  http://127.0.0.1:9072  7    yes");
  expect(lines[4]!.split("\n")[2]).toBe("node-a  1024        0-1023@1");
});

describe("capstan cluster against an admin endpoint", () => {
  let server: http.Server;
  let adminUrl: string;
  let answer: { status: number; body: unknown };
  let seenAuth: string | undefined;

  beforeEach(async () => {
    answer = { status: 200, body: threeNodes };
    server = http.createServer((req, res) => {
      seenAuth = req.headers.authorization;
      const found = req.url === "/cluster" && req.method === "GET";
      const { status, body } = found
        ? answer
        : { status: 404, body: { code: "ADMIN_NOT_FOUND", message: "no such route" } };
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    adminUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = "";
    let stderr = "";
    const code = await main(
      argv,
      (s) => (stdout += s + "\n"),
      (s) => (stderr += s + "\n"),
    );
    return { code, stdout, stderr };
  }

  test("prints the cluster, sending the admin token", async () => {
    process.env.CAPSTAN_ADMIN_TOKEN = "cluster-test-token-0123456789";
    try {
      const r = await cli("cluster", "--admin-url", adminUrl);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("cluster of 3 nodes (2 live), answered by node-1");
      expect(r.stdout).toContain("node-0  4           0-2@4 4@5");
      expect(seenAuth).toBe("Bearer cluster-test-token-0123456789");
      const json = await cli("cluster", "--admin-url", adminUrl, "--json");
      expect(JSON.parse(json.stdout)).toEqual(threeNodes);
    } finally {
      delete process.env.CAPSTAN_ADMIN_TOKEN;
    }
  });

  test("a runtime without the route, and an answer of another shape, are errors (exit 1)", async () => {
    answer = { status: 404, body: { code: "ADMIN_NOT_FOUND", message: "no such route" } };
    const old = await cli("cluster", "--admin-url", adminUrl);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain("has no GET /cluster");
    answer = { status: 200, body: { nodes: "?" } };
    const odd = await cli("cluster", "--admin-url", adminUrl);
    expect(odd.code).toBe(1);
    expect(odd.stderr).toContain("unexpected answer from GET /cluster");
  });

  test("takes no arguments", async () => {
    const r = await cli("cluster", "extra", "--admin-url", adminUrl);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Usage: capstan cluster");
  });
});
