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
