import { stderrLog } from "./log";

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
