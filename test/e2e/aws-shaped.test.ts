/**
 * The AWS-shaped local run (issue 18 §3): the repository's CDK app is synthesized, and `capstan
 * serve` starts with exactly the runtime container's environment from the template — only the
 * endpoints (DynamoDB Local, the S3 stand-in, the local Lambda endpoint), the loopback host and free
 * ports, and the four secrets (generated, as Secrets Manager does) stand in for AWS. The example
 * functions are built as `npm start` builds them, with their environment from the template, and
 * published as numbered versions; the registration custom resource's Lambda entry points (onEvent,
 * isComplete) run here with the environment the template gives them, on CloudFormation-shaped
 * Create/Update/Delete events carrying the template's properties.
 *
 * Stood in, not exercised: Secrets Manager and the Lambda API's DeleteFunction (the handler's real
 * clients reach a recording stand-in; the local Lambda endpoint serves no DeleteFunction), and the
 * load balancer in front of the listeners.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  buildFunction,
  discoverFunctions,
  functionArn,
  startLocalLambdaProcess,
  type DiscoveredFunction,
  type LocalLambdaHandle,
} from "@capstan/runtime/lambda-local";
import { httpAdminApi } from "../../infra/src/registration/admin-client";
import {
  isComplete,
  onEvent,
  type RegistrationEvent,
} from "../../infra/src/registration/registration-handler";
import {
  ADMIN_TOKEN_LENGTH,
  ATTEMPT_KEY_LENGTH,
  CLUSTER_KEY_LENGTH,
} from "../../infra/src/runtime/runtime-secrets";
import {
  startDynamoDbLocal,
  type DynamoDbLocal,
} from "../../runtime/src/storage/test-support/dynamodb-local";
import { startS3StandIn, type S3StandIn } from "../../runtime/src/storage/test-support/s3-stand-in";
import { RequestSigner } from "../../runtime/src/security/request-signer";
import { startAwsApiStandIn, type AwsApiStandIn } from "./support/aws-api-stand-in";
import { resolveLocally, synthesizeExampleApp, type AwsTemplate } from "./support/aws-template";
import { freePort, REPO_ROOT } from "./support/platform-process";
import { ServeProcess } from "./support/serve-process";

/** Synth bundles every example with esbuild, then DynamoDB Local's JVM starts: generous. */
jest.setTimeout(240_000);

const REGION = "us-east-1";
const ATTACH_DEADLINE_MS = 60_000;
const STATUS_DEADLINE_MS = 60_000;
/** What the load balancer's health checks ask: ready once the node serves its partitions. */
const HEALTH_PATH = "/health/ready";

/** A Secrets Manager generated string: `passwordLength` characters of [A-Za-z0-9]. */
function generatedSecret(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join("");
}

describe("the CDK app's runtime, run locally against AWS stand-ins", () => {
  let template: AwsTemplate;
  let ddb: DynamoDbLocal | undefined;
  let s3: S3StandIn | undefined;
  let lambda: LocalLambdaHandle | undefined;
  let serve: ServeProcess | undefined;
  let workDir: string;
  let ingressUrl: string;
  let adminUrl: string;
  let publicKey: string;
  const examples = new Map<string, DiscoveredFunction>();
  /** Example name → the version ARN CloudFormation would pass (the newest published). */
  const currentArn = new Map<string, string>();
  const handlerLog: string[] = [];
  const secrets: Record<string, string> = {};

  let aws: AwsApiStandIn | undefined;
  /** What the test process's environment was before the handler's was set. */
  const savedEnv: Record<string, string | undefined> = {};
  /** The Secrets Manager ARN the handler is told (the template's is resolved at deploy). */
  const ADMIN_TOKEN_SECRET = "arn:aws:secretsmanager:us-east-1:000000000000:secret:CapstanAdminToken-AbCdEf";

  /**
   * The registration Lambdas' environment, as the template gives it (ADMIN_URL → the local admin
   * listener), in this process: the handler's own entry points read it, with their real Secrets
   * Manager and Lambda clients pointed at the stand-in.
   */
  function setHandlerEnvironment(): void {
    const env: Record<string, string> = {
      ...resolveLocally(template.registrationHandlerEnvironment, {
        ADMIN_URL: adminUrl,
        ADMIN_TOKEN_SECRET_ARN: ADMIN_TOKEN_SECRET,
      }),
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: aws!.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: aws!.endpoint,
    };
    for (const [name, value] of Object.entries(env)) {
      savedEnv[name] = process.env[name];
      process.env[name] = value;
    }
  }

  const registration = (functionName: string) => {
    const r = template.registrations.find((x) => x.functionName === functionName);
    if (r === undefined) throw new Error(`no registration for ${functionName}`);
    return r;
  };
  /** The custom resource's properties with VersionArn resolved to the local published version. */
  const properties = (functionName: string): RegistrationEvent["ResourceProperties"] => {
    const props = resolveLocally(registration(functionName).properties, {
      VersionArn: currentArn.get(functionName)!,
      ServiceToken: "arn:aws:lambda:us-east-1:000000000000:function:provider-framework-onEvent",
    });
    return props;
  };

  /** As the provider framework drives a Create/Update: onEvent once, isComplete until complete. */
  async function createOrUpdate(
    RequestType: "Create" | "Update",
    functionName: string,
    oldPhysicalId?: string,
  ): Promise<{ physicalId: string; data: Record<string, string> }> {
    const event: RegistrationEvent = {
      RequestType,
      ResourceProperties: properties(functionName),
      ...(oldPhysicalId !== undefined && { PhysicalResourceId: oldPhysicalId }),
    };
    const { PhysicalResourceId } = await onEvent(event);
    const done = await isComplete({ ...event, PhysicalResourceId });
    expect(done.IsComplete).toBe(true);
    return { physicalId: PhysicalResourceId, data: done.Data ?? {} };
  }

  async function deleteResource(functionName: string, physicalId: string): Promise<void> {
    const event: RegistrationEvent = {
      RequestType: "Delete",
      PhysicalResourceId: physicalId,
      ResourceProperties: properties(functionName),
    };
    expect(await onEvent(event)).toEqual({ PhysicalResourceId: physicalId });
    expect(await isComplete(event)).toEqual({ IsComplete: true });
  }

  /** Builds an example as `npm start` does and publishes it with its template environment (+ extra). */
  async function publish(name: string, extraEnvironment: Record<string, string> = {}): Promise<string> {
    const fn = examples.get(name)!;
    const built = await buildFunction({ name, entry: fn.entry, outDir: path.join(workDir, "build") });
    const environment = {
      ...fn.config.environment,
      ...resolveLocally(template.functionEnvironments[name] ?? {}, {
        CAPSTAN_IDENTITY_PUBLIC_KEYS: publicKey,
      }),
      ...extraEnvironment,
    };
    const version = await lambda!.publish(name, built, { ...fn.config, environment });
    const arn = functionArn(name, version);
    currentArn.set(name, arn);
    return arn;
  }

  const adminFetch = (method: string, route: string, body?: unknown) =>
    fetch(adminUrl + route, {
      method,
      headers: {
        authorization: `Bearer ${secrets.CAPSTAN_ADMIN_TOKEN}`,
        ...(body !== undefined && { "content-type": "application/json" }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const query = async (sql: string): Promise<unknown[][]> => {
    const res = await adminFetch("POST", "/query", { query: sql });
    expect(res.status).toBe(200);
    return ((await res.json()) as { rows: unknown[][] }).rows;
  };
  const invocation = async (id: string): Promise<{ status: string; deploymentId: string }> => {
    const [row] = await query(`SELECT status, deployment_id FROM invocations WHERE id = '${id}'`);
    return { status: String(row?.[0]), deploymentId: String(row?.[1]) };
  };
  /** Polls the invocation's status (bounded): the runtime's own view, not a sleep. */
  async function waitForStatus(id: string, status: string): Promise<void> {
    const deadline = Date.now() + STATUS_DEADLINE_MS;
    while ((await invocation(id)).status !== status) {
      if (Date.now() > deadline) throw new Error(`${id} not ${status} within ${STATUS_DEADLINE_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const ingress = (route: string, body?: unknown) =>
    fetch(ingressUrl + route, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? "" : JSON.stringify(body),
      signal: AbortSignal.timeout(ATTACH_DEADLINE_MS),
    });
  const attach = async (id: string): Promise<unknown> => {
    const res = await fetch(`${ingressUrl}/restate/invocation/${id}/attach`, {
      signal: AbortSignal.timeout(ATTACH_DEADLINE_MS),
    });
    expect(res.status).toBe(200);
    return res.json();
  };
  const deploymentOf = async (arn: string): Promise<string> => {
    const d = (await httpAdminApi(adminUrl, secrets.CAPSTAN_ADMIN_TOKEN!).lambdaDeployments()).find(
      (x) => x.arn === arn,
    );
    if (d === undefined) throw new Error(`${arn} is not registered`);
    return d.id;
  };

  beforeAll(async () => {
    template = synthesizeExampleApp(REPO_ROOT);
    workDir = mkdtempSync(path.join(os.tmpdir(), "capstan-aws-shaped-"));
    [ddb, s3] = await Promise.all([startDynamoDbLocal(), startS3StandIn()]);

    // The four secrets, generated as Secrets Manager (and the identity-key custom resource) would.
    const identityPem = RequestSigner.generatePem();
    publicKey = RequestSigner.fromPem(identityPem).publicKey;
    const generated: Record<string, string> = {
      CAPSTAN_ADMIN_TOKEN: generatedSecret(ADMIN_TOKEN_LENGTH),
      CAPSTAN_ATTEMPT_KEY: generatedSecret(ATTEMPT_KEY_LENGTH),
      CAPSTAN_IDENTITY_PRIVATE_KEY: identityPem,
      CAPSTAN_CLUSTER_KEY: generatedSecret(CLUSTER_KEY_LENGTH),
    };
    expect(Object.keys(template.containerSecrets).sort()).toEqual(Object.keys(generated).sort());
    Object.assign(secrets, generated);

    // The registration handler reads the very secret the container gets as CAPSTAN_ADMIN_TOKEN.
    expect(Object.keys(template.registrationHandlerEnvironment).sort()).toEqual([
      "ADMIN_TOKEN_SECRET_ARN",
      "ADMIN_URL",
    ]);
    expect(template.registrationHandlerEnvironment.ADMIN_TOKEN_SECRET_ARN).toEqual(
      template.containerSecrets.CAPSTAN_ADMIN_TOKEN,
    );

    lambda = await startLocalLambdaProcess({ host: "127.0.0.1", port: 0, maxWorkers: 8, maxQueued: 100 });
    for (const fn of await discoverFunctions(path.join(REPO_ROOT, "handlers", "src"), (dir, e) => {
      throw new Error(`${dir}: ${e.message}`);
    })) {
      examples.set(fn.name, fn);
    }
    expect([...examples.keys()].sort()).toEqual(template.registrations.map((r) => r.functionName).sort());
    for (const name of examples.keys()) await publish(name);

    const ports = {
      ingress: await freePort(),
      admin: await freePort(),
      checkpoint: await freePort(),
      peer: await freePort(),
    };
    ingressUrl = `http://127.0.0.1:${ports.ingress}`;
    adminUrl = `http://127.0.0.1:${ports.admin}`;
    const stands: Record<string, string> = {
      CAPSTAN_DYNAMODB_TABLE: "capstan-aws-shaped",
      CAPSTAN_S3_BUCKET: "capstan-aws-shaped",
      AWS_REGION: REGION,
      CAPSTAN_CHECKPOINT_URL: `http://127.0.0.1:${ports.checkpoint}`,
    };
    const fromTemplate = resolveLocally(template.containerEnvironment, stands);
    const env: Record<string, string> = {
      ...fromTemplate,
      ...secrets,
      // What is not AWS: endpoints, loopback, free ports.
      CAPSTAN_DYNAMODB_ENDPOINT: ddb.endpoint,
      CAPSTAN_S3_ENDPOINT: s3.endpoint,
      CAPSTAN_LAMBDA_ENDPOINT: lambda.url,
      CAPSTAN_HOST: "127.0.0.1",
      CAPSTAN_INGRESS_PORT: String(ports.ingress),
      CAPSTAN_ADMIN_PORT: String(ports.admin),
      CAPSTAN_CHECKPOINT_PORT: String(ports.checkpoint),
      CAPSTAN_PEER_PORT: String(ports.peer),
      // The task role's credentials (the default chain); the stand-ins accept any.
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    };
    // Only the overridden ports and host differ from the template's literals.
    for (const [name, value] of Object.entries(fromTemplate)) {
      if (
        ![
          "CAPSTAN_HOST",
          "CAPSTAN_INGRESS_PORT",
          "CAPSTAN_ADMIN_PORT",
          "CAPSTAN_CHECKPOINT_PORT",
          "CAPSTAN_PEER_PORT",
        ].includes(name)
      )
        expect([name, env[name]]).toEqual([name, value]);
    }
    serve = await ServeProcess.start(env, ["--create-table"], workDir, adminUrl + HEALTH_PATH);

    aws = await startAwsApiStandIn({ [ADMIN_TOKEN_SECRET]: secrets.CAPSTAN_ADMIN_TOKEN! });
    setHandlerEnvironment();
    // The handler logs with console.log (CloudWatch on AWS): kept for assertions instead.
    jest
      .spyOn(console, "log")
      .mockImplementation((message: unknown) => void handlerLog.push(String(message)));
  });

  afterAll(async () => {
    if (serve !== undefined) expect(await serve.stop()).toBe("0"); // SIGTERM: a clean exit
    jest.restoreAllMocks();
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await aws?.close();
    await lambda?.close();
    await Promise.all([ddb?.stop(), s3?.stop()]);
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  const physicalIds = new Map<string, string>();

  test("Create registers every example's version from the template's properties", async () => {
    for (const name of examples.keys()) {
      const { physicalId, data } = await createOrUpdate("Create", name);
      expect(physicalId).toBe(currentArn.get(name));
      expect(data).toMatchObject({ Pruned: "0", Pinned: "0" });
      physicalIds.set(name, physicalId);
    }
    const res = await adminFetch("GET", "/services");
    const { services } = (await res.json()) as { services: Array<{ name: string }> };
    expect(services.map((s) => s.name)).toEqual(expect.arrayContaining(["Greeter", "Counter", "Signup"]));
    // Every line the container prints is JSON, for CloudWatch (CAPSTAN_LOG_FORMAT=json from the template).
    const lines = serve!.output.split("\n").filter((l) => l !== "");
    const messages = lines.map((l) => (JSON.parse(l) as { message?: string }).message);
    expect(messages).toContainEqual(expect.stringContaining("Capstan runtime is running"));
  });

  test("a service with a sleep and an object answer through the ingress", async () => {
    const greet = await ingress("/Greeter/greet", "Ada");
    expect(greet.status).toBe(200);
    expect(await greet.json()).toBe("Hello, Ada!");

    expect(await (await ingress("/Counter/aws-shaped/add", 2)).json()).toBe(2);
    expect(await (await ingress("/Counter/aws-shaped/add", 3)).json()).toBe(5);
    expect(await (await ingress("/Counter/aws-shaped/get")).json()).toBe(5);
  });

  test("an Update while a workflow is suspended: it finishes on its pinned version, new ones use the new one", async () => {
    // Prepare: a Signup suspended on its durable promise (with its one-day timer) on version 1.
    const v1Arn = currentArn.get("signup")!;
    const v1 = await deploymentOf(v1Arn);
    const sent = await ingress("/Signup/first/run/send", "ada@example.com");
    expect(sent.status).toBeLessThan(300);
    const { invocationId: first } = (await sent.json()) as { invocationId: string };
    await waitForStatus(first, "suspended");
    expect((await invocation(first)).deploymentId).toBe(v1);

    // Act: a changed function (its environment) publishes version 2; CloudFormation updates the
    // resource, then deletes the old physical id.
    const v2Arn = await publish("signup", { CAPSTAN_EXAMPLE_RELEASE: "2" });
    expect(v2Arn).not.toBe(v1Arn);
    const update = await createOrUpdate("Update", "signup", physicalIds.get("signup"));
    expect(update.physicalId).toBe(v2Arn);
    expect(update.data).toMatchObject({ Pruned: "0", Pinned: "1" });
    await deleteResource("signup", v1Arn);

    // Assert: version 1 is kept (refused while pinned), version 2 serves new invocations.
    expect(aws!.deletedVersions).not.toContain(v1Arn);
    expect(await deploymentOf(v1Arn)).toBe(v1);
    expect(handlerLog.some((l) => l.includes(v1Arn) && l.includes("pinned"))).toBe(true);
    const v2 = await deploymentOf(v2Arn);
    const second = (await (await ingress("/Signup/second/run/send", "grace@example.com")).json()) as {
      invocationId: string;
    };
    await waitForStatus(second.invocationId, "suspended");
    expect((await invocation(second.invocationId)).deploymentId).toBe(v2);

    // The first one resumes on version 1 and finishes there.
    const [[code]] = (await query(
      "SELECT value FROM state WHERE service = 'Signup' AND key = 'first' AND state_key = 'code'",
    )) as [[string]];
    const verified = await ingress("/Signup/first/verify", JSON.parse(code) as string);
    expect(await verified.json()).toBe("verified");
    expect(await attach(first)).toEqual({ email: "ada@example.com", status: "verified" });
    expect(await invocation(first)).toEqual({ status: "completed", deploymentId: v1 });

    // Drained: the Delete of version 1 now unregisters it and deletes the Lambda version.
    await deleteResource("signup", v1Arn);
    expect(aws!.deletedVersions).toEqual([v1Arn]);
    await expect(deploymentOf(v1Arn)).rejects.toThrow("not registered");
    const services = (await (await adminFetch("GET", "/services")).json()) as {
      services: Array<{ name: string; deploymentId: string }>;
    };
    expect(services.services.find((s) => s.name === "Signup")?.deploymentId).toBe(v2);
  });

  test("stack teardown: Delete of every registration unregisters and deletes the drained versions", async () => {
    const before = aws!.deletedVersions.length;
    for (const name of examples.keys()) await deleteResource(name, currentArn.get(name)!);

    const remaining = await httpAdminApi(adminUrl, secrets.CAPSTAN_ADMIN_TOKEN!).lambdaDeployments();
    // Only the Signup suspended on version 2 keeps its version; everything else drained.
    expect(remaining.map((d) => d.arn)).toEqual([currentArn.get("signup")]);
    expect(aws!.deletedVersions.slice(before).sort()).toEqual(
      [...examples.keys()]
        .filter((name) => name !== "signup")
        .map((name) => currentArn.get(name)!)
        .sort(),
    );
  });
});
