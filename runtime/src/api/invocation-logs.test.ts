import { HandlerLogBuffer } from "../lambda-local/handler-log-buffer";
import { invocationLogs, lambdaLogGroup } from "./invocation-logs";

const PAGE = { afterSeq: 0, limit: 10 };

test("with a source, answers its page; the next position only while more follow", async () => {
  const buffer = new HandlerLogBuffer();
  buffer.append("inv_1", { atMs: 5, attempt: 1, stream: "stdout", text: "one" });
  buffer.append("inv_1", { atMs: 6, attempt: 2, stream: "stderr", text: "two" });
  const source = { read: async (id: string, after: number, limit: number) => buffer.read(id, after, limit) };

  const first = await invocationLogs("inv_1", undefined, source, { afterSeq: 0, limit: 1 });
  expect(first).toEqual({
    invocationId: "inv_1",
    source: "local",
    lines: [{ seq: 1, atMs: 5, attempt: 1, stream: "stdout", text: "one" }],
    dropped: 0,
    nextAfter: 1,
  });
  const rest = await invocationLogs("inv_1", undefined, source, { afterSeq: 1, limit: 1 });
  expect(rest).toMatchObject({ lines: [{ text: "two", attempt: 2 }] });
  expect(rest).not.toHaveProperty("nextAfter");
});

test("without a source (AWS), says where the lines are instead of an empty page", async () => {
  const arn = "arn:aws:lambda:eu-west-1:123456789012:function:checkout:7";
  expect(await invocationLogs("inv_1", { kind: "lambda", arn }, undefined, PAGE)).toEqual({
    invocationId: "inv_1",
    source: "elsewhere",
    logGroup: "/aws/lambda/checkout",
    where: expect.stringContaining("CloudWatch Logs, log group /aws/lambda/checkout") as string,
  });
  // An HTTP deployment's output is never in the local Lambda endpoint's buffer, even when there is one.
  const local = { read: async () => ({ lines: [], dropped: 0 }) };
  const http = await invocationLogs("inv_1", { kind: "http", url: "http://svc:9080" }, local, PAGE);
  expect(http).toMatchObject({
    source: "elsewhere",
    where: expect.stringContaining("http://svc:9080") as string,
  });
  expect(lambdaLogGroup("orders")).toBe("/aws/lambda/orders");
  expect(lambdaLogGroup("orders:$LATEST")).toBe("/aws/lambda/orders");
});
