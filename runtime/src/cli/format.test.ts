import { failureLines } from "./format";

const atMs = Date.UTC(2026, 11, 7, 2, 40);
const stack = "Error: card declined\n    at chargeCard (checkout.ts:12:11)\n    at run (run.ts:3:1)";

test("describe shows the failed attempt's step, the next retry and the stack's frames", () => {
  const lines = failureLines(
    {
      message: "card declined",
      atMs,
      attempt: 3,
      stack,
      entry: { index: 2, kind: "run", name: "charge" },
      nextRetryAtMs: atMs + 2_000,
    },
    "backing-off",
    "inv_1_abcdefgh1234",
  );
  expect(lines).toEqual([
    'last failure: attempt 3 at 2026-12-07T02:40:00.000Z, in run "charge" (entry 2): card declined',
    "next retry: 2026-12-07T02:40:02.000Z",
    "stack:",
    "  at chargeCard (checkout.ts:12:11)",
    "  at run (run.ts:3:1)",
  ]);
});

test("a paused invocation says how to resume it; a failure outside any step names none", () => {
  expect(failureLines({ message: "boom", atMs, attempt: 5 }, "paused", "inv_1_abcdefgh1234")).toEqual([
    "last failure: attempt 5 at 2026-12-07T02:40:00.000Z: boom",
    "next retry: none, paused (capstan invocations resume inv_1_abcdefgh1234)",
  ]);
});
