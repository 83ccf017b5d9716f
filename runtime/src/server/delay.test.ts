import { parseDelayMs } from "./delay";
import { MAX_DELAY_MS } from "./limits";

describe("parseDelayMs", () => {
  it("accepts Restate's humantime and ISO-8601 formats", () => {
    const cases: Array<[string, number]> = [
      ["500ms", 500],
      ["10s", 10_000],
      ["1m", 60_000],
      ["1h30m", 5_400_000],
      ["1h 30m", 5_400_000],
      ["60 sec", 60_000],
      ["1d", 86_400_000],
      ["2w", 14 * 86_400_000],
      ["1500us", 2],
      ["PT10S", 10_000],
      ["PT1.5S", 1_500],
      ["PT60S", 60_000],
      ["P1DT2H", 26 * 3_600_000],
      ["PT1H30M", 5_400_000],
      ["P2W", 14 * 86_400_000],
      ["0ms", 0],
      ["365d", MAX_DELAY_MS],
    ];
    for (const [text, ms] of cases) expect([text, parseDelayMs(text)]).toEqual([text, ms]);
  });

  it("rejects malformed, unit-less, calendar and too-long delays with INGRESS_INVALID_DELAY", () => {
    for (const text of [
      "",
      "10",
      "abc",
      "10x",
      "-5s",
      "1.5s",
      "P",
      "PT",
      "P1M",
      "1y",
      "P1Y",
      "10s!",
      "366d",
      "P366D",
    ]) {
      let code: unknown;
      try {
        parseDelayMs(text);
      } catch (e) {
        code = (e as { code?: string; status?: number }).code;
      }
      expect([text, code]).toEqual([text, "INGRESS_INVALID_DELAY"]);
    }
  });
});
