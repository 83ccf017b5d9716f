/**
 * Runs `npm start`'s entry point (`capstan dev`) as a child process on free ports, the way a user
 * does, and stops it with SIGTERM or SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../../..");
export const CLI = path.join(REPO_ROOT, "runtime/dist/cli/main.js");
/** What `npx capstan` runs: the bin `npm install` linked. */
export const CAPSTAN_BIN = path.join(REPO_ROOT, "node_modules/.bin/capstan");
/** Startup includes building every example function with esbuild. */
const STARTUP_DEADLINE_MS = 60_000;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PlatformPorts {
  ingress: number;
  admin: number;
  checkpoint: number;
  lambda: number;
}

export class PlatformProcess {
  private child: ChildProcess | undefined;
  output = "";

  private constructor(
    readonly ports: PlatformPorts,
    readonly dataDir: string,
  ) {}

  static async create(): Promise<PlatformProcess> {
    const ports = {
      ingress: await freePort(),
      admin: await freePort(),
      checkpoint: await freePort(),
      lambda: await freePort(),
    };
    return new PlatformProcess(ports, mkdtempSync(path.join(os.tmpdir(), "capstan-e2e-")));
  }

  get ingressUrl(): string {
    return `http://127.0.0.1:${this.ports.ingress}`;
  }
  get adminUrl(): string {
    return `http://127.0.0.1:${this.ports.admin}`;
  }
  /** The admin token the platform generated in its data directory on first start. */
  get adminToken(): string {
    return readFileSync(path.join(this.dataDir, "admin-token"), "utf8").trim();
  }

  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      CAPSTAN_INGRESS_PORT: String(this.ports.ingress),
      CAPSTAN_ADMIN_PORT: String(this.ports.admin),
      CAPSTAN_CHECKPOINT_PORT: String(this.ports.checkpoint),
      CAPSTAN_LAMBDA_PORT: String(this.ports.lambda),
      CAPSTAN_DATA_DIR: this.dataDir,
    };
  }

  /** Starts `capstan dev` and resolves once `/health/ready` answers 200 (every function registered). */
  async start(): Promise<void> {
    this.output = "";
    const child = spawn(process.execPath, [CLI, "dev", "--no-watch"], {
      cwd: REPO_ROOT,
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, which a terminal's Ctrl-C signals as a whole
    });
    this.child = child;
    child.stdout.on("data", (d: Buffer) => (this.output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + STARTUP_DEADLINE_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`capstan dev exited with ${child.exitCode}:\n${this.output}`);
      // The route the docs tell users to wait on: 200 once every function is registered.
      if (this.output.includes("Capstan is running.") && (await this.ready())) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`capstan dev did not start within ${STARTUP_DEADLINE_MS} ms:\n${this.output}`);
  }

  private async ready(): Promise<boolean> {
    const res = await fetch(`${this.adminUrl}/health/ready`).catch(() => undefined);
    return res?.status === 200;
  }

  /** Signals `capstan dev` alone (SIGKILL: as a crash), or its whole process group (as Ctrl-C does). */
  async kill(
    signal: NodeJS.Signals = "SIGKILL",
    target: "process" | "group" = "process",
  ): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    if (target === "group") process.kill(-child.pid!, signal);
    else child.kill(signal);
    return exited;
  }
}

/** Runs the CLI against the platform; resolves with its exit code and output. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CAPSTAN_BIN, ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}
