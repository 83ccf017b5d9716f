/**
 * What a function prints under the local Lambda endpoint is kept per Capstan invocation and attempt,
 * read from the invocation request the event is; other events' output is not kept.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { buildFunction } from "./function-builder";
import { FunctionRegistry } from "./function-registry";
import { HandlerLogBuffer, MAX_HANDLER_LOG_LINE_CHARS } from "./handler-log-buffer";
import { type EndpointUnderTest, startEndpointWithClient } from "./test-support/local-endpoint";

jest.setTimeout(20_000);

let outDir: string;
let endpoint: EndpointUnderTest;
const logs = new HandlerLogBuffer();

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), "capstan-log-capture-"));
  const lab = await buildFunction({
    name: "lab",
    entry: join(__dirname, "test-support", "functions", "lab", "handler.ts"),
    outDir,
  });
  const registry = new FunctionRegistry({ handlerLogs: logs });
  await registry.publish("lab", lab);
  endpoint = await startEndpointWithClient({ registry });
});

afterAll(async () => {
  await endpoint?.close();
  await rm(outDir, { recursive: true, force: true });
});

async function invoke(event: unknown): Promise<void> {
  const out = await endpoint.client.send(
    new InvokeCommand({ FunctionName: "lab", Payload: Buffer.from(JSON.stringify(event)) }),
  );
  expect(out.FunctionError).toBeUndefined();
}

test("console lines and direct writes of an invocation request are kept by invocation and attempt", async () => {
  const invocationId = "inv_capture-test";
  await invoke({ type: "invoke", invocationId, attempt: 1, action: "print", bytes: 10 });
  await invoke({
    type: "invoke",
    invocationId,
    attempt: 2,
    action: "print",
    bytes: MAX_HANDLER_LOG_LINE_CHARS + 5,
  });
  await invoke({ action: "print" }); // not an invocation request: nothing kept

  const page = logs.read(invocationId, 0, 100);
  const seen = page.lines.map((l) => [l.attempt, l.stream, l.text.replace(/^\S+\t\S+\t/, "")]);
  expect(seen.slice(0, 5)).toEqual([
    [1, "stdout", `INFO\tprinted by ${invocationId} attempt 1`],
    [1, "stderr", "ERROR\tan error line"],
    [1, "stdout", "direct one"],
    [1, "stdout", "direct two"],
    [1, "stdout", "y".repeat(10)],
  ]);
  expect(seen.slice(5, 9).map(([attempt]) => attempt)).toEqual([2, 2, 2, 2]);
  expect(page.lines[9]!.text).toHaveLength(MAX_HANDLER_LOG_LINE_CHARS);
  expect(page.lines).toHaveLength(10);
  expect(logs.size()).toBe(10);
});
