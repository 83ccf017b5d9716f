/**
 * `capstan serve` — the runtime alone, as a container runs it — with a container-style deployment: the
 * SDK's HTTP adapter in this process, registered through the CLI, called through the ingress, and a
 * clean exit on SIGTERM that first answers the call in flight.
 */
import { spawn } from "node:child_process";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { service } from "@capstan/sdk";
import { serve } from "@capstan/sdk/http";
import { formatIdentityPublicKey } from "@capstan/sdk/protocol";
import { CLI, freePort, REPO_ROOT, runCli } from "./support/platform-process";

jest.setTimeout(60_000);

/** Opened by the test: `Echo/later` answers once it is. */
let openGate: () => void = () => undefined;
const gate = new Promise<void>((r) => (openGate = r));
/** Resolves once `Echo/later` runs. */
let laterStarted: () => void = () => undefined;
const laterRunning = new Promise<void>((r) => (laterStarted = r));

const echo = service({
  name: "Echo",
  handlers: {
    shout: async (ctx, text: string) => ctx.run("upper", () => text.toUpperCase()),
    later: async (ctx, text: string) => {
      laterStarted();
      await gate;
      return ctx.run("upper", () => text.toUpperCase());
    },
  },
});

test("the runtime alone serves an HTTP deployment registered with the CLI", async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-serve-"));
  // The runtime's identity key from configuration; the deployment accepts only that key's signature.
  const identity = generateKeyPairSync("ed25519").privateKey;
  const publicKey = formatIdentityPublicKey(createPublicKey(identity));
  const deployment = await serve({ services: [echo], port: 0, host: "127.0.0.1", identityKeys: [publicKey] });
  const [ingressPort, adminPort, checkpointPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    CAPSTAN_DATA_DIR: dataDir,
    CAPSTAN_INGRESS_PORT: String(ingressPort),
    CAPSTAN_ADMIN_PORT: String(adminPort),
    CAPSTAN_CHECKPOINT_PORT: String(checkpointPort),
    CAPSTAN_IDENTITY_PRIVATE_KEY: identity.export({ format: "pem", type: "pkcs8" }).toString(),
  };
  const child = spawn(process.execPath, [CLI, "serve"], {
    cwd: REPO_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  try {
    for (let i = 0; i < 400 && !output.includes("Capstan runtime is running"); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(output).toContain(`ingress http://127.0.0.1:${ingressPort}`);
    expect(output).toContain(`checkpoint http://127.0.0.1:${checkpointPort}`);
    expect(output).toContain(`identity public key ${publicKey}`);
    expect(output).not.toContain("PRIVATE KEY");
    // Anyone else reaching the deployment is refused before a handler runs.
    const unsigned = await fetch(`${deployment.url}/discover`, {
      method: "POST",
      body: JSON.stringify({ type: "discover", protocolVersion: 1 }),
    });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { code: string }).code).toBe("PROTOCOL_IDENTITY_REJECTED");
    const cliEnv = {
      ...env,
      CAPSTAN_ADMIN_URL: `http://127.0.0.1:${adminPort}`,
      CAPSTAN_INGRESS_URL: `http://127.0.0.1:${ingressPort}`,
    };
    const registered = await runCli(["deployments", "register", deployment.url], cliEnv);
    expect(registered).toMatchObject({ code: 0 });
    expect(registered.stdout).toContain("Echo (service)");
    expect((await runCli(["identity-key"], cliEnv)).stdout).toBe(`${publicKey}\n`);
    const res = await fetch(`http://127.0.0.1:${ingressPort}/Echo/shout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '"hi"',
    });
    expect(await res.json()).toBe("HI");
    // A call in flight when SIGTERM arrives gets its answer; a new connection is refused meanwhile.
    const inFlight = fetch(`http://127.0.0.1:${ingressPort}/Echo/later`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '"bye"',
    });
    await laterRunning;
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    for (let i = 0; i < 400 && !output.includes("stopping: answering the requests in flight"); i++)
      await new Promise((r) => setTimeout(r, 25));
    const refused = await fetch(`http://127.0.0.1:${ingressPort}/Echo/shout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '"late"',
    }).catch((e: unknown) => e);
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
    openGate();
    const drained = await inFlight;
    expect([drained.status, await drained.json()]).toEqual([200, "BYE"]);
    expect(await exited).toBe(0);
    expect(output).toContain("stopped");
  } finally {
    openGate();
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await deployment.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
