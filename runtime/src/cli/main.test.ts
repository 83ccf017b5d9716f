/**
 * The CLI as a user types it: strict flags, per-command help, and what it prints for the answers of
 * real admin and ingress servers (over a FakeRuntimeApi) on ephemeral ports.
 */
import { startAdminServer } from "../server/admin-server";
import { FakeRuntimeApi } from "../server/test-support/fake-runtime-api";
import type { ServerHandle } from "../server/http-server";
import { startIngressServer } from "../server/ingress-server";
import { LIST_STATUSES } from "./command-specs";
import { main } from "./main";

let api: FakeRuntimeApi;
let admin: ServerHandle;
let ingress: ServerHandle;
let urls: string[];

beforeEach(async () => {
  api = new FakeRuntimeApi();
  const logger = { error: () => {} };
  admin = await startAdminServer({ api, host: "127.0.0.1", port: 0, logger });
  ingress = await startIngressServer({ api, host: "127.0.0.1", port: 0, logger });
  urls = [
    "--admin-url",
    `http://127.0.0.1:${admin.port}`,
    "--ingress-url",
    `http://127.0.0.1:${ingress.port}`,
  ];
});

afterEach(async () => {
  await admin.close();
  await ingress.close();
});

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

describe("strict flags", () => {
  it("refuses an unknown flag with the command's usage and exit code 2, and sends nothing", async () => {
    const r = await cli("invocations", "list", "--bogus-flag", ...urls);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option --bogus-flag for 'invocations list'");
    expect(r.stderr).toContain("Usage: capstan invocations list");
    expect(api.filters).toHaveLength(0);
  });

  it("refuses a flag that belongs to another command, and says where it belongs", async () => {
    const r = await cli("call", "Greeter/greet", '"Ada"', "--delay", "5s", ...urls);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option --delay for 'call': a call waits for its result");
    expect(api.submits).toHaveLength(0);

    const misplaced = await cli("invocations", "describe", "inv_1_abc", "--status", "failed", ...urls);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain("unknown option --status for 'invocations describe'");
  });

  it("refuses a missing flag value, a missing argument and an extra one", async () => {
    expect((await cli("send", "Greeter/greet", "--delay")).stderr).toContain("--delay");
    expect((await cli("send", "Greeter/greet", "--delay")).code).toBe(2);
    const missing = await cli("invocations", "describe");
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("missing invocation id")]);
    const extra = await cli("health", "now");
    expect([extra.code, extra.stderr]).toEqual([2, expect.stringContaining('unexpected argument "now"')]);
  });

  it("refuses an unknown or missing subcommand with the group's help", async () => {
    const r = await cli("invocations", "frobnicate");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown invocations subcommand 'frobnicate'");
    expect(r.stderr).toContain("capstan invocations resume <id> [--deployment latest|<deployment id>]");
    expect((await cli("state")).stderr).toContain("missing subcommand");
  });
});

describe("help", () => {
  it("answers --help on every command and subcommand with its own options, exit code 0", async () => {
    const general = await cli("--help");
    expect(general.code).toBe(0);
    expect(general.stdout).toContain("capstan <command> --help");
    for (const argv of [
      ["dev"],
      ["serve"],
      ["deployments", "register"],
      ["invocations"],
      ["invocations", "list"],
      ["invocations", "resume"],
      ["send"],
      ["health"],
    ]) {
      const r = await cli(...argv, "--help");
      expect([argv, r.code]).toEqual([argv, 0]);
      expect(r.stdout).toContain(`Usage: capstan ${argv.join(" ")}`);
    }
    expect((await cli("send", "--help")).stdout).toContain("--delay VALUE");
    expect((await cli("invocations", "list", "--help")).stdout).toContain(LIST_STATUSES.join(", "));
  });
});

describe("what commands send and print", () => {
  it("sends a delayed one-way call with its delay, and says when it starts", async () => {
    const r = await cli("send", "Greeter/greet", '"later"', "--delay", "5s", ...urls);
    expect(r.code).toBe(0);
    expect(api.submits[0]!.delayMs).toBe(5000);
    expect(r.stdout).toMatch(/^accepted inv_\S+, starts at \d{4}-/);
  });

  it("says when an idempotency key deduplicated a send instead of 'accepted'", async () => {
    const first = await cli("send", "Greeter/greet", "1", "--idempotency-key", "k1", ...urls);
    const again = await cli("send", "Greeter/greet", "1", "--idempotency-key", "k1", ...urls);
    const id = /^accepted (\S+)/.exec(first.stdout)![1]!;
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(
      `deduplicated: idempotency key "k1" already started ${id}; no new invocation\n`,
    );
  });

  it("filters by every status `invocations list` prints, and refuses others before asking", async () => {
    for (const status of ["failed", "succeeded", "backing-off"]) {
      expect((await cli("invocations", "list", "--status", status, ...urls)).code).toBe(0);
    }
    expect(api.filters.map((f) => [f.status, f.outcome])).toEqual([
      ["completed", "failed"],
      ["completed", "succeeded"],
      ["backing-off", undefined],
    ]);
    const bad = await cli("invocations", "list", "--status", "done", ...urls);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--status must be one of ${LIST_STATUSES.join(", ")}`);
    expect(api.filters).toHaveLength(3);
  });

  it("lists a page with the next page's cursor, or every page with --all", async () => {
    for (let n = 0; n < 5; n++)
      api.invocations.push({
        id: `inv_1_page000${n}`,
        target: { service: "Greeter", handler: "greet" },
        status: "completed",
        outcome: "succeeded",
        attempt: 1,
        handlerInvocations: 1,
        deploymentId: "dp_1",
        createdAtMs: 1000 + n,
        modifiedAtMs: 1000 + n,
        journal: [],
        entryTimes: [],
        awaiting: [],
        headers: {},
      });
    const page = await cli("invocations", "list", "--limit", "2", ...urls);
    expect(page.code).toBe(0);
    expect(page.stdout).toContain("inv_1_page0004");
    const cursor = /more: add --cursor (\S+) \(or --all\)/.exec(page.stdout)![1]!;
    const next = await cli("invocations", "list", "--limit", "2", "--cursor", cursor, ...urls);
    expect(next.stdout).toContain("inv_1_page0002");
    expect(next.stdout).not.toContain("inv_1_page0004");

    const all = await cli("invocations", "list", "--limit", "2", "--all", "--json", ...urls);
    const ids = (JSON.parse(all.stdout) as { invocations: Array<{ id: string }> }).invocations.map(
      (i) => i.id,
    );
    expect(ids).toEqual([4, 3, 2, 1, 0].map((n) => `inv_1_page000${n}`));
    const text = await cli("invocations", "list", "--limit", "2", "--all", ...urls);
    expect(text.stdout.match(/inv_1_page/g)).toHaveLength(5);
    expect(text.stdout).not.toContain("more:");
    expect((await cli("invocations", "list", "--all", "--cursor", cursor, ...urls)).code).toBe(2);
  });

  it("prints an invocation's logs attempt by attempt, or where they are", async () => {
    api.logs.set("inv_1_logs0001", {
      invocationId: "inv_1_logs0001",
      source: "local",
      lines: [
        { seq: 1, atMs: 0, attempt: 1, stream: "stdout", text: "before the sleep" },
        { seq: 2, atMs: 0, attempt: 2, stream: "stderr", text: "after the sleep" },
      ],
      dropped: 0,
    });
    const r = await cli("invocations", "logs", "inv_1_logs0001", ...urls);
    expect([r.code, r.stdout]).toEqual([
      0,
      "#1  1970-01-01T00:00:00.000Z  stdout  before the sleep\n" +
        "#2  1970-01-01T00:00:00.000Z  stderr  after the sleep\n",
    ]);
    api.logs.set("inv_1_logs0002", {
      invocationId: "inv_1_logs0002",
      source: "elsewhere",
      where: "see CloudWatch Logs, log group /aws/lambda/greeter",
      logGroup: "/aws/lambda/greeter",
    });
    expect((await cli("invocations", "logs", "inv_1_logs0002", ...urls)).stdout).toBe(
      "see CloudWatch Logs, log group /aws/lambda/greeter\n",
    );
    expect((await cli("invocations", "logs", "inv_1_nope0001", ...urls)).code).not.toBe(0);
  });

  it("health says whether the runtime is ready, and why not", async () => {
    api.readinessGates.close("functions", "functions not registered: boom");
    const r = await cli("health", ...urls);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok, not ready: functions not registered: boom — 4 partitions/);
    api.readinessGates.open("functions");
    expect((await cli("health", ...urls)).stdout).toMatch(/^ok, ready — /);
  });

  it("resumes onto the deployment --deployment names, and restarts a completed invocation as new", async () => {
    api.invocations.push({
      id: "inv_1_stuck0001",
      target: { service: "Greeter", handler: "greet" },
      status: "paused",
      attempt: 3,
      handlerInvocations: 3,
      deploymentId: "dp_1",
      createdAtMs: 1,
      modifiedAtMs: 2,
      journal: [{ index: 0, kind: "input", value: '"Ada"' }],
      entryTimes: [[1, 1]],
      awaiting: [],
      headers: {},
    });
    const latest = await cli("invocations", "resume", "inv_1_stuck0001", "--deployment", "latest", ...urls);
    expect([latest.code, latest.stdout]).toEqual([0, "resumed inv_1_stuck0001 on deployment dp_latest\n"]);
    const plain = await cli("invocations", "resume", "inv_1_stuck0001", ...urls);
    expect(plain.stdout).toBe("resumed inv_1_stuck0001 on deployment dp_1\n");
    expect(api.resumes.map((r) => r.options)).toEqual([{ deployment: "latest" }, {}]);

    const restarted = await cli("invocations", "restart-as-new", "inv_1_stuck0001", ...urls);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(/^restarted inv_1_stuck0001 as inv_1_fake\d+\n$/);
    expect(api.submits.at(-1)).toMatchObject({
      target: { service: "Greeter", handler: "greet" },
      input: '"Ada"',
    });
  });
});
