import { jsonLog, stderrLog } from "./log";

describe("stderrLog", () => {
  const linesAt = (min: Parameters<typeof stderrLog>[0]): string[] => {
    const lines: string[] = [];
    const log = stderrLog(min, (l) => lines.push(l));
    log("attempt 1: completed", "debug");
    log("registered greeter:2");
    log("attempt 1 failed", "warn");
    log("partition 3 stopped", "error");
    return lines;
  };

  test("prints the configured level and the more severe ones, info lines unmarked", () => {
    expect(linesAt("debug")).toEqual([
      "[capstan] debug: attempt 1: completed\n",
      "[capstan] registered greeter:2\n",
      "[capstan] warn: attempt 1 failed\n",
      "[capstan] error: partition 3 stopped\n",
    ]);
    expect(linesAt("info")).toHaveLength(3);
    expect(linesAt("warn")).toEqual([
      "[capstan] warn: attempt 1 failed\n",
      "[capstan] error: partition 3 stopped\n",
    ]);
    expect(linesAt("error")).toEqual(["[capstan] error: partition 3 stopped\n"]);
  });
});

test("a message built by a function is built only when it is printed", () => {
  let built = 0;
  const lines: string[] = [];
  const log = stderrLog("info", (l) => lines.push(l));
  const expensive = (): string => `built ${++built}`;
  log(expensive, "debug");
  expect(built).toBe(0);
  log(expensive, "warn");
  expect([built, lines]).toEqual([1, ["[capstan] warn: built 1\n"]]);
});

describe("fields", () => {
  const fields = {
    invocationId: "inv_3_abcdefgh1234",
    service: "Checkout",
    handler: "place",
    attempt: 2,
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    stack: "Error: card declined\n    at charge (checkout.ts:12:11)\n    at run (run.ts:3:1)",
  };

  test("json: one object per line with level, time, message and the fields", () => {
    const lines: string[] = [];
    const log = jsonLog(
      "info",
      (l) => lines.push(l),
      () => Date.UTC(2026, 11, 7, 2, 40),
    );
    log("attempt 2 failed", "warn", fields);
    log("not printed", "debug", fields);

    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: "warn",
      time: "2026-12-07T02:40:00.000Z",
      message: "attempt 2 failed",
      ...fields,
    });
  });

  test("text: the stack's frames follow the line, indented; the other fields stay out of the terminal", () => {
    const lines: string[] = [];
    stderrLog("info", (l) => lines.push(l))("attempt 2 failed: card declined", "warn", fields);
    expect(lines).toEqual([
      "[capstan] warn: attempt 2 failed: card declined\n" +
        "    at charge (checkout.ts:12:11)\n" +
        "    at run (run.ts:3:1)\n",
    ]);
  });
});
