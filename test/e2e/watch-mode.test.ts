/**
 * Changed handler code becomes a new pinned deployment, while an invocation that started on the old
 * version finishes on it — the dev platform's rebuild path, with real esbuild bundles behind the local
 * Lambda endpoint — and published versions survive a restart of the platform, as on AWS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "@capstan/runtime";
import { startDevPlatform, type DevPlatform } from "../../runtime/src/dev/dev-platform";
import { messageText, type Log } from "../../runtime/src/log";
import { REPO_ROOT } from "./support/platform-process";

jest.setTimeout(60_000);

function handlerSource(version: string): string {
  return `
import { service } from "@capstan/sdk";
import { lambdaHandler } from "@capstan/sdk/lambda";
export const versioned = service({
  name: "Versioned",
  handlers: {
    which: async () => "${version}",
    waitThenWhich: async (ctx) => {
      const approval = ctx.awakeable<string>();
      await ctx.run("publish-id", () => approval.id);
      await approval.promise;
      return "${version}";
    },
  },
});
export const handler = lambdaHandler(versioned);
`;
}

describe("watch mode", () => {
  // Inside the repo, so the bundle resolves @capstan/sdk from its node_modules (.capstan/ is ignored by git).
  mkdirSync(path.join(REPO_ROOT, ".capstan"), { recursive: true });
  const handlersDir = mkdtempSync(path.join(REPO_ROOT, ".capstan", "watch-test-"));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-watch-"));
  const config = loadConfig(
    {},
    {
      CAPSTAN_HANDLERS_DIR: handlersDir,
      CAPSTAN_DATA_DIR: dataDir,
      CAPSTAN_INGRESS_PORT: "0",
      CAPSTAN_ADMIN_PORT: "0",
      CAPSTAN_CHECKPOINT_PORT: "0",
      CAPSTAN_LAMBDA_PORT: "0",
    },
  );
  let platform: DevPlatform;
  const logs: string[] = [];
  const progress: string[] = [];
  const log: Log = (message, level = "info") => void logs.push(`${level}: ${messageText(message)}`);
  const writeHandler = (version: string): void =>
    writeFileSync(path.join(handlersDir, "versioned", "handler.ts"), handlerSource(version));
  const call = async (handler: string): Promise<string> => {
    const runtime = platform.node.runtime;
    const { invocationId } = await runtime.submit({
      target: { service: "Versioned", handler },
      input: "",
      headers: {},
    });
    const result = await runtime.awaitResult(invocationId, AbortSignal.timeout(20_000));
    return result.kind === "value" ? (JSON.parse(result.value) as string) : JSON.stringify(result);
  };
  const deployedVersions = async (): Promise<string[]> =>
    (await platform.node.runtime.listDeployments())
      .map((d) => (d.endpoint.kind === "lambda" ? d.endpoint.arn : ""))
      .sort();

  beforeAll(async () => {
    mkdirSync(path.join(handlersDir, "versioned"));
    writeHandler("v1");
    platform = await startDevPlatform(config, log, (line) => void progress.push(line));
  });
  afterAll(async () => {
    await platform.close();
    rmSync(handlersDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a rebuilt function is a new deployment; in-flight invocations stay on theirs, across restarts", async () => {
    const runtime = platform.node.runtime;
    expect(await call("which")).toBe("v1");
    const { invocationId: waiting } = await runtime.submit({
      target: { service: "Versioned", handler: "waitThenWhich" },
      input: "",
      headers: {},
    });
    let awakeableId: string | undefined;
    for (let i = 0; i < 200 && awakeableId === undefined; i++) {
      const journal = (await runtime.describeInvocation(waiting))?.journal ?? [];
      const run = journal.find((e) => e.kind === "run");
      if (run && run.kind === "run" && run.result?.kind === "value")
        awakeableId = JSON.parse(run.result.value) as string;
      else await new Promise((r) => setTimeout(r, 25));
    }
    expect(awakeableId).toBeDefined();

    writeHandler("v2");
    expect(await platform.rebuild()).toEqual(["versioned:2"]);
    progress.length = 0;
    expect(await platform.rebuild()).toEqual([]); // unchanged code: no new version, no esbuild run
    expect(progress).toEqual([
      expect.stringMatching(/^built and published 1\/1 functions in \d+ ms \(1 unchanged\)$/),
    ]);
    expect(await call("which")).toBe("v2");
    expect(await deployedVersions()).toEqual(["versioned:1", "versioned:2"]);

    // A restart keeps both versions, each with its own code: new calls still reach v2, and the
    // invocation pinned to v1 resumes on v1's code, not on what is on disk now.
    await platform.close();
    platform = await startDevPlatform(config, log, (line) => void progress.push(line));
    expect(await platform.rebuild()).toEqual([]);
    expect(await deployedVersions()).toEqual(["versioned:1", "versioned:2"]);
    expect(await call("which")).toBe("v2");
    await platform.node.runtime.completeAwakeable(awakeableId!, { kind: "value", value: '"go"' });
    const result = await platform.node.runtime.awaitResult(waiting, AbortSignal.timeout(20_000));
    expect(result).toEqual({ kind: "value", value: '"v1"' });

    // Code changed while the platform was stopped: the next start publishes it as the next version.
    await platform.close();
    writeHandler("v3");
    platform = await startDevPlatform(config, log, (line) => void progress.push(line));
    expect(await deployedVersions()).toEqual(["versioned:1", "versioned:2", "versioned:3"]);
    expect(await call("which")).toBe("v3");
  });

  test("a broken function is reported and skipped; the others still register; a removed one is noted", async () => {
    const addFunction = (dir: string, source: string, functionJson?: string): void => {
      mkdirSync(path.join(handlersDir, dir), { recursive: true });
      writeFileSync(path.join(handlersDir, dir, "handler.ts"), source);
      if (functionJson !== undefined)
        writeFileSync(path.join(handlersDir, dir, "function.json"), functionJson);
    };
    addFunction("boom", 'throw new Error("boom at load");\nexport const handler = async () => null;\n');
    addFunction("badconfig", handlerSource("x").replace('"Versioned"', '"BadConfig"'), '{"memorymb": 256}');
    addFunction("later", handlerSource("later").replace('"Versioned"', '"Later"'));
    logs.length = 0;
    expect(await platform.rebuild()).toEqual(["later:1"]);
    expect(logs.join("\n")).toMatch(/error: boom: .*boom at load/);
    expect(logs.join("\n")).toMatch(/error: .*badconfig: .*unknown setting\(s\) memorymb/);
    // Not ready while a function on disk is not registered, and the reason names them.
    const ready = (): Promise<Response> => fetch(`${platform.node.adminUrl}/health/ready`);
    const notReady = await ready();
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { reason: string }).reason).toMatch(
      /functions not registered: .*(badconfig.*boom|boom.*badconfig)/,
    );

    // An edit to a good function registers although the broken ones are still there.
    writeHandler("v4");
    expect(await platform.rebuild()).toEqual(["versioned:4"]);
    expect(await call("which")).toBe("v4");

    // Fixed, boom registers; removed, later's deployment stays (pinned invocations) and a warning says so.
    addFunction("boom", handlerSource("boom").replace('"Versioned"', '"Boom"'));
    rmSync(path.join(handlersDir, "badconfig"), { recursive: true });
    rmSync(path.join(handlersDir, "later"), { recursive: true });
    logs.length = 0;
    expect(await platform.rebuild()).toEqual(["boom:2"]);
    expect((await ready()).status).toBe(200);
    expect(logs).toEqual([expect.stringMatching(/^warn: later is no longer under .*later:1 still serves/)]);
    expect(await platform.rebuild()).toEqual([]);
  });
});
