/**
 * `npm start` end to end, as a new user meets it: the compiled `capstan dev` in a child process on free
 * ports, the example functions built with esbuild and served by the local Lambda endpoint, reached
 * through the real @aws-sdk/client-lambda. Every example is invoked over plain HTTP and with Restate's
 * own client; the CLI is run against it; the platform is killed with SIGKILL mid-workflow and mid-burst
 * and restarted, and everything completes exactly once.
 */
import * as clients from "@restatedev/restate-sdk-clients";
import { PlatformProcess, freePort, runCli } from "./support/platform-process";

jest.setTimeout(120_000);
/** No request of these examples takes long; a hang fails fast with a clear error. */
const REQUEST_TIMEOUT_MS = 20_000;

type Json = unknown;

async function post(
  base: string,
  path: string,
  body?: Json,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

async function get(
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const res = await fetch(base + path, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

function handlerInvocations(metrics: string, service: string, handler: string): number {
  const m = new RegExp(
    `capstan_handler_invocations_total\\{service="${service}",handler="${handler}",node_id="[^"]+"\\} (\\d+)`,
  ).exec(metrics);
  return m ? Number(m[1]) : 0;
}

describe("npm start", () => {
  let platform: PlatformProcess;
  const adminGet = (path: string): Promise<{ status: number; json: Json }> =>
    get(platform.adminUrl, path, { authorization: `Bearer ${platform.adminToken}` });

  beforeAll(async () => {
    platform = await PlatformProcess.create();
    await platform.start();
  });
  afterAll(async () => {
    await platform.kill("SIGKILL");
  });

  test("prints the URLs and registers every example", async () => {
    // Progress instead of silence while functions build and register.
    expect(platform.output).toContain("building functions under handlers/src…");
    expect(platform.output).toMatch(/built and published (\d+)\/\1 functions in \d+ ms/);
    expect(platform.output).toMatch(/registering \d+ functions…[\s\S]*registered \d+ functions/);
    expect(platform.output).toContain(`ingress  ${platform.ingressUrl}`);
    // A data directory outside the working directory is shown whole, not as ../../tmp/...
    expect(platform.output).toContain(`data     ${platform.dataDir}\n`);
    expect(platform.output).toContain("curl -X POST");
    // Not on the default ports: the hint tells the CLI where the runtime is.
    expect(platform.output).toContain(
      `export CAPSTAN_ADMIN_URL=${platform.adminUrl} CAPSTAN_INGRESS_URL=${platform.ingressUrl}`,
    );
    const services = (
      (await adminGet("/services")).json as { services: Array<{ name: string }> }
    ).services.map((s) => s.name);
    expect(services).toEqual(
      expect.arrayContaining(["Greeter", "Counter", "Cart", "Checkout", "Signup", "MiddyGreeter", "Orders"]),
    );
  });

  test("every example answers over plain HTTP", async () => {
    const ingress = platform.ingressUrl;
    const greet = await post(ingress, "/Greeter/greet", "Ada");
    expect(greet).toMatchObject({ status: 200, json: "Hello, Ada!" });
    expect(greet.headers.get("x-restate-id")).toMatch(/^inv_/);
    // A step and a 100 ms sleep cost one Lambda invocation: the sleep is awaited on the checkpoint channel.
    const metrics = await (
      await fetch(`${platform.adminUrl}/metrics`, {
        headers: { authorization: `Bearer ${platform.adminToken}` },
      })
    ).text();
    expect(handlerInvocations(metrics, "Greeter", "greet")).toBe(1);

    expect((await post(ingress, "/Counter/e2e/add", 5)).json).toBe(5);
    expect((await post(ingress, "/Counter/e2e/add", 2)).json).toBe(7);
    expect((await post(ingress, "/Counter/e2e/get")).json).toBe(7);

    await post(ingress, "/Cart/ada/add", { sku: "mug-capstan", qty: 2 });
    expect((await post(ingress, "/Cart/ada/get")).json).toMatchObject({ items: expect.anything() });

    const order = {
      userId: "bob",
      items: [{ sku: "book-durable-execution", qty: 1 }],
      card: "4242-4242-4242-4242",
    };
    const ok = await post(ingress, "/Checkout/placeOrder", order, { "idempotency-key": "order-1" });
    expect(ok.status).toBe(200);
    const again = await post(ingress, "/Checkout/placeOrder", order, { "idempotency-key": "order-1" });
    expect(again.json).toEqual(ok.json);
    const declined = await post(ingress, "/Checkout/placeOrder", { ...order, card: "4000-0000-0000-0002" });
    expect(declined.status).toBe(402);
    // A step that throws is retried, and the terminal says so: error, step, attempt, next retry, stack.
    const flaky = await post(ingress, "/Checkout/placeOrder", { ...order, card: "4000-0000-0000-0119" });
    expect(flaky.status).toBe(200);
    expect(platform.output).toMatch(
      /warn: attempt 1 of inv_\S+ \(Checkout\/placeOrder\) failed at run "charge-payment" \(entry \d+\): Error: payment gateway timed out; retrying at \S+Z \(in [\d.]+ s\)\n {4}at /,
    );

    expect((await post(ingress, "/MiddyGreeter/greet", "Ada")).status).toBe(200);
    expect(
      (await post(ingress, "/Orders/fulfil", { orderId: "o-1", lines: [{ sku: "mug-capstan", qty: 1 }] }))
        .status,
    ).toBeLessThan(500);

    // Bad input gets a clear error with a stable code.
    const unknown = await post(ingress, "/Nope/greet", "x");
    expect(unknown).toMatchObject({ status: 404, json: { code: "INGRESS_SERVICE_NOT_FOUND" } });
    const badJson = await fetch(`${ingress}/Greeter/greet`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(badJson.status).toBe(400);
  });

  test("Restate's own client works against the ingress", async () => {
    const rs = clients.connect({ url: platform.ingressUrl });
    type Greeter = { greet: (ctx: unknown, name: string) => Promise<string> };
    type Counter = { add: (ctx: unknown, n: number) => Promise<number> };
    type Signup = { run: (ctx: unknown, email: string) => Promise<{ status: string }> };
    expect(await rs.serviceClient<Greeter>({ name: "Greeter" }).greet("Bob")).toBe("Hello, Bob!");
    const counter = rs.objectClient<Counter>({ name: "Counter" }, "rs");
    expect(await counter.add(1, clients.rpc.opts({ idempotencyKey: "rs-1" }))).toBe(1);
    expect(await counter.add(1, clients.rpc.opts({ idempotencyKey: "rs-1" }))).toBe(1);
    const handle = await rs
      .serviceSendClient<Greeter>({ name: "Greeter" })
      .greet("Cy", clients.rpc.sendOpts({ idempotencyKey: "rs-send" }));
    expect(await rs.result(handle)).toBe("Hello, Cy!");
    const wf = rs.workflowClient<Signup>({ name: "Signup" }, "rs-signup");
    const submission = await wf.workflowSubmit("rs@example.com");
    expect(submission.invocationId).toMatch(/^inv_/);
  });

  test("the CLI lists, describes, reads state, queries and calls", async () => {
    const env = {
      ...platform.env,
      CAPSTAN_ADMIN_URL: platform.adminUrl,
      CAPSTAN_INGRESS_URL: platform.ingressUrl,
    };
    const services = await runCli(["services", "list", "--json"], env);
    expect(services.code).toBe(0);
    expect(JSON.stringify(JSON.parse(services.stdout))).toContain("Greeter");
    const call = await runCli(["call", "Counter/cli/add", "3"], env);
    expect(call).toMatchObject({ code: 0 });
    expect(call.stdout.trim()).toBe("3");
    const state = await runCli(["state", "get", "Counter", "cli", "--json"], env);
    expect(JSON.parse(state.stdout)).toEqual({ state: { count: 3 } });
    const list = await runCli(["invocations", "list", "--service", "Counter", "--json"], env);
    const invocations = (JSON.parse(list.stdout) as { invocations: Array<{ id: string }> }).invocations;
    expect(invocations.length).toBeGreaterThan(0);
    const describe = await runCli(["invocations", "describe", invocations[0]!.id], env);
    expect(describe.code).toBe(0);
    expect(describe.stdout).toContain("input");
    const sql = await runCli(
      ["sql", "SELECT count(*) AS n FROM invocations WHERE service = 'Counter'", "--json"],
      env,
    );
    expect((JSON.parse(sql.stdout) as { rows: number[][] }).rows[0]![0]).toBeGreaterThan(0);
    const health = await runCli(["health"], env);
    expect(health.code).toBe(0);
    expect(health.stdout).toContain(`ingress ${platform.ingressUrl} (ok)`);
    expect(health.stdout).toMatch(/^ok, ready — /);
    const wrongIngress = await runCli(["health"], { ...env, CAPSTAN_INGRESS_URL: "http://127.0.0.1:1" });
    expect(wrongIngress.stdout).toContain("ingress http://127.0.0.1:1 (not reachable");
    const unknownService = await runCli(["services", "describe", "Nope"], env);
    expect(unknownService).toMatchObject({ code: 1, stderr: "error: no service Nope is registered\n" });
    expect((await runCli(["nonsense"], env)).code).toBe(2);
    const unreachable = await runCli(["health"], { ...env, CAPSTAN_ADMIN_URL: "http://127.0.0.1:1" });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain("cannot reach the runtime");
  });

  test("`invocations logs` shows what the handler printed, attempt by attempt, never twice on replay", async () => {
    const env = { ...platform.env, CAPSTAN_ADMIN_URL: platform.adminUrl };
    const sent = await post(platform.ingressUrl, "/Signup/logs-1/run/send", "logs@example.com");
    expect(sent.status).toBe(202);
    const { invocationId } = sent.json as { invocationId: string };
    // Suspended on the promise: verifying resumes it in a new attempt that replays the first steps.
    for (;;) {
      const inv = (await adminGet(`/invocations/${invocationId}`)).json as { status: string };
      if (inv.status === "suspended") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { state } = (await adminGet("/state/Signup/logs-1")).json as { state: { code: string } };
    expect((await post(platform.ingressUrl, "/Signup/logs-1/verify", state.code)).status).toBe(200);
    expect((await get(platform.ingressUrl, `/restate/invocation/${invocationId}/attach`)).status).toBe(200);

    const r = await runCli(["invocations", "logs", invocationId, "--json"], env);
    expect(r.code).toBe(0);
    const logs = JSON.parse(r.stdout) as { source: string; lines: Array<{ attempt: number; text: string }> };
    expect(logs.source).toBe("local");
    const sentLines = logs.lines.filter((l) => l.text.includes("verification email sent"));
    const verifiedLines = logs.lines.filter((l) => l.text.includes("logs@example.com verified"));
    expect(sentLines.map((l) => l.attempt)).toEqual([1]);
    expect(verifiedLines).toHaveLength(1);
    expect(verifiedLines[0]!.attempt).toBeGreaterThan(1);
    // ctx.console lines carry the invocation id, as they do in CloudWatch.
    expect(sentLines[0]!.text).toContain(invocationId);
    const text = await runCli(["invocations", "logs", invocationId], env);
    expect(text.stdout).toMatch(/^#1 {2}\S+ {2}stdout {2}.*verification email sent/m);
  });

  test("admin needs the token the CLI finds in the data directory; handlers accept only the runtime", async () => {
    // Every CLI call above went without CAPSTAN_ADMIN_TOKEN: the CLI read the data dir's token.
    const token = await runCli(["admin-token"], platform.env);
    expect(token).toMatchObject({ code: 0, stdout: `${platform.adminToken}\n` });
    // The console link hands the same token to a browser, in the fragment only.
    const link = await runCli(["console"], platform.env);
    expect(link).toMatchObject({
      code: 0,
      stdout: `${platform.adminUrl}/ui/#token=${encodeURIComponent(platform.adminToken)}\n`,
    });
    const refused = await fetch(`${platform.adminUrl}/services`);
    expect([refused.status, refused.headers.get("www-authenticate")]).toEqual([
      401,
      'Bearer realm="capstan-admin"',
    ]);
    expect(((await refused.json()) as { code: string }).code).toBe("ADMIN_UNAUTHORIZED");
    expect((await fetch(`${platform.adminUrl}/health`)).status).toBe(200);
    const wrongToken = await runCli(["services", "list"], {
      ...platform.env,
      CAPSTAN_ADMIN_TOKEN: "x".repeat(20),
    });
    expect(wrongToken).toMatchObject({ code: 1, stderr: expect.stringContaining("ADMIN_UNAUTHORIZED") });

    // The functions were given the runtime's public key: the banner's, the CLI's, and the one they enforce.
    const key = await runCli(["identity-key"], platform.env);
    expect(key.code).toBe(0);
    expect(platform.output).toContain(`identity ${key.stdout.trim()}`);
    const unsigned = await fetch(
      `http://127.0.0.1:${platform.ports.lambda}/2015-03-31/functions/greeter/invocations`,
      { method: "POST", body: JSON.stringify({ type: "discover", protocolVersion: 1 }) },
    );
    expect(unsigned.headers.get("x-amz-function-error")).toBe("Unhandled");
    expect(await unsigned.text()).toContain("PROTOCOL_IDENTITY_REJECTED");
  });

  test("a second platform on the same ports names every port taken and its variable", async () => {
    const second = await runCli(["dev", "--no-watch"], platform.env);
    expect(second.code).toBe(1);
    const { ingress, admin, checkpoint, lambda } = platform.ports;
    expect(second.stderr).toContain(
      `ports ${ingress} (CAPSTAN_INGRESS_PORT), ${admin} (CAPSTAN_ADMIN_PORT), ` +
        `${checkpoint} (CAPSTAN_CHECKPOINT_PORT) and ${lambda} (CAPSTAN_LAMBDA_PORT) are already in use`,
    );
  });

  test("a second platform on the same data directory, on other ports, is refused", async () => {
    const second = await runCli(["dev", "--no-watch"], {
      ...platform.env,
      CAPSTAN_INGRESS_PORT: String(await freePort()),
      CAPSTAN_ADMIN_PORT: String(await freePort()),
      CAPSTAN_CHECKPOINT_PORT: String(await freePort()),
      CAPSTAN_LAMBDA_PORT: String(await freePort()),
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      `the data directory ${platform.dataDir} is in use by another Capstan runtime`,
    );
    expect((await post(platform.ingressUrl, "/Greeter/greet", "Lock")).status).toBe(200);
  });

  test("SIGKILL mid-workflow and mid-burst loses nothing and repeats nothing", async () => {
    const ingress = (): string => platform.ingressUrl;
    // A signup waiting on its durable promise.
    expect((await post(ingress(), "/Signup/crash-1/run/send", "crash@example.com")).status).toBe(202);
    // A burst of idempotent increments; the platform dies in the middle of it.
    const keys = Array.from({ length: 60 }, (_, i) => `burst-${i}`);
    const acked = new Set<string>();
    const burst = keys.map(async (k, i) => {
      if (i === 30) void platform.kill("SIGKILL");
      try {
        const r = await post(ingress(), "/Counter/crash/add", 1, { "idempotency-key": k });
        if (r.status === 200) acked.add(k);
      } catch {
        // connection refused or reset: not acknowledged, the client retries below
      }
    });
    await Promise.all(burst);
    await platform.kill("SIGKILL");
    await platform.start();
    // A client retries what was not acknowledged, with the same idempotency keys (and repeats some that were).
    for (const k of keys) {
      const r = await post(ingress(), "/Counter/crash/add", 1, { "idempotency-key": k });
      expect(r.status).toBe(200);
    }
    expect((await post(ingress(), "/Counter/crash/get")).json).toBe(keys.length);

    // The workflow resumes after the restart: read its code, verify, and it completes once.
    const state = (await adminGet("/state/Signup/crash-1")).json as {
      state: { code: string; status: string };
    };
    expect(state.state.status).toBe("pending");
    expect((await post(ingress(), "/Signup/crash-1/verify", state.state.code)).json).toBe("verified");
    const result = await get(ingress(), "/restate/workflow/Signup/crash-1/attach");
    expect(result.json).toEqual({ email: "crash@example.com", status: "verified" });
    const id = await post(ingress(), "/Signup/crash-1/run/send", "crash@example.com");
    expect(id.status).toBe(202);
    const journal = (
      (await adminGet(`/invocations/${(id.json as { invocationId: string }).invocationId}`)).json as {
        journal: Array<{ kind: string; name?: string }>;
      }
    ).journal;
    expect(journal.filter((e) => e.kind === "run" && e.name === "send-verification-email")).toHaveLength(1);
  });

  test("Ctrl-C or SIGTERM to the whole process group stops everything cleanly; state is kept", async () => {
    for (const [i, signal] of (["SIGINT", "SIGTERM"] as const).entries()) {
      expect((await post(platform.ingressUrl, "/Counter/signals/add", 1)).json).toBe(i + 1);
      const before = platform.output.length;
      expect(await platform.kill(signal, "group")).toBe(0);
      const shutdown = platform.output.slice(before);
      expect(shutdown).toContain("stopping…");
      expect(shutdown).not.toMatch(/Error|EPIPE|\n\s+at /);
      // The local Lambda endpoint's process went with it.
      await expect(fetch(`http://127.0.0.1:${platform.ports.lambda}/`)).rejects.toThrow();
      await platform.start();
      expect((await post(platform.ingressUrl, "/Counter/signals/get")).json).toBe(i + 1);
    }
  });
});
