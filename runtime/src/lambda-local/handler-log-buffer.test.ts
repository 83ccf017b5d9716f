import {
  boundLogLine,
  HandlerLogBuffer,
  MAX_HANDLER_LOG_LINE_CHARS,
  MAX_HANDLER_LOG_LINES,
  MAX_HANDLER_LOG_LINES_PER_INVOCATION,
} from "./handler-log-buffer";

const line = (text: string, attempt = 1) => ({ atMs: 1, attempt, stream: "stdout" as const, text });

test("pages an invocation's lines in order, after a seq, with the next position while more follow", () => {
  const logs = new HandlerLogBuffer();
  logs.append("a", line("a1"));
  logs.append("b", line("b1"));
  logs.append("a", line("a2", 2));
  logs.append("a", line("a3", 2));

  const first = logs.read("a", 0, 2);
  expect(first.lines.map((l) => [l.text, l.attempt])).toEqual([
    ["a1", 1],
    ["a2", 2],
  ]);
  expect(first.dropped).toBe(0);
  const second = logs.read("a", first.nextAfterSeq!, 2);
  expect(second.lines.map((l) => l.text)).toEqual(["a3"]);
  expect(second.nextAfterSeq).toBeUndefined();
  expect(logs.read("a", second.lines[0]!.seq, 2)).toEqual({ lines: [], dropped: 0 });
  expect(logs.read("unknown", 0, 10)).toEqual({ lines: [], dropped: 0 });
});

test("keeps MAX_HANDLER_LOG_LINES_PER_INVOCATION lines of one invocation: one more drops its oldest", () => {
  const logs = new HandlerLogBuffer();
  for (let i = 0; i < MAX_HANDLER_LOG_LINES_PER_INVOCATION; i++) logs.append("a", line(`l${i}`));
  expect(logs.read("a", 0, 1).lines[0]!.text).toBe("l0");
  expect(logs.read("a", 0, 1).dropped).toBe(0);

  logs.append("a", line("one more"));

  const page = logs.read("a", 0, MAX_HANDLER_LOG_LINES_PER_INVOCATION + 1);
  expect(page.lines).toHaveLength(MAX_HANDLER_LOG_LINES_PER_INVOCATION);
  expect(page.lines[0]!.text).toBe("l1");
  expect(page.lines.at(-1)!.text).toBe("one more");
  expect(page.dropped).toBe(1);
  expect(logs.size()).toBe(MAX_HANDLER_LOG_LINES_PER_INVOCATION);
});

test("keeps MAX_HANDLER_LOG_LINES overall: the invocation that printed least recently loses lines first", () => {
  const logs = new HandlerLogBuffer();
  const perInvocation = MAX_HANDLER_LOG_LINES_PER_INVOCATION;
  const invocations = MAX_HANDLER_LOG_LINES / perInvocation;
  for (let n = 0; n < invocations; n++)
    for (let i = 0; i < perInvocation; i++) logs.append(`inv${n}`, line(`${n}:${i}`));
  expect(logs.size()).toBe(MAX_HANDLER_LOG_LINES);
  // inv0 prints again: it is now the most recent writer, so inv1 is the oldest.
  logs.append("inv0", line("inv0 again"));
  logs.append("late", line("late"));

  expect(logs.size()).toBe(MAX_HANDLER_LOG_LINES);
  expect(logs.read("inv1", 0, 1).lines[0]!.text).toBe("1:1");
  expect(logs.read("inv1", 0, 1).dropped).toBe(1);
  // inv0 lost only its own oldest line, to its own bound.
  expect(logs.read("inv0", 0, 1).lines[0]!.text).toBe("0:1");
  expect(logs.read("late", 0, 1).lines[0]!.text).toBe("late");
});

test("cuts a line at MAX_HANDLER_LOG_LINE_CHARS, marked", () => {
  const exact = "x".repeat(MAX_HANDLER_LOG_LINE_CHARS);
  expect(boundLogLine(exact)).toBe(exact);
  const cut = boundLogLine(exact + "y");
  expect(cut).toHaveLength(MAX_HANDLER_LOG_LINE_CHARS);
  expect(cut.endsWith("…[cut]")).toBe(true);
});
