import type { CapstanPromise } from "../index";
import { object, service, shared, workflow } from "../index";

/** Compile-time checks (tsc runs over tests): handler types flow into typed clients. */
const greeter = service({
  name: "Greeter",
  handlers: {
    greet: async (_ctx, name: string) => `hello ${name}`,
    ping: async () => 1,
  },
});
const counter = object({
  name: "Counter",
  handlers: {
    add: async (ctx, n: number) => {
      ctx.set("v", n);
      return n;
    },
    current: shared(async (ctx) => (await ctx.get<number>("v")) ?? 0),
  },
});
const flow = workflow({
  name: "Flow",
  handlers: {
    run: async (ctx, input: { email: string }) => {
      ctx.set("email", input.email);
      return ctx.promise<boolean>("ok").get();
    },
    approve: async (ctx) => ctx.promise<boolean>("ok").resolve(true),
  },
});

test("clients by name are typed by a definition's type alone (import type), or left untyped", () => {
  // In another function: `import type { greeter } from "../greeter/greeter"` — no code is bundled.
  type Greeter = typeof greeter;
  const check = (ctx: Parameters<(typeof counter.handlers)["add"]>[0]) => {
    const s: CapstanPromise<string> = ctx.serviceClient<Greeter>({ name: "Greeter" }).greet("bob");
    const n: CapstanPromise<number> = ctx.objectClient<typeof counter>({ name: "Counter" }, "k").add(1);
    const b: CapstanPromise<boolean> = ctx.workflowClient<typeof flow>({ name: "Flow" }, "id").run({
      email: "a",
    });
    ctx.objectSendClient<typeof counter>({ name: "Counter" }, "k").add(2);
    // A map of handler signatures types it too.
    const m: CapstanPromise<number> = ctx
      .serviceClient<{ ping: (ctx: unknown) => Promise<number> }>({ name: "Greeter" })
      .ping();
    // @ts-expect-error the name must be the definition's
    void ctx.serviceClient<Greeter>({ name: "Greter" });
    // @ts-expect-error wrong input type
    void ctx.serviceClient<Greeter>({ name: "Greeter" }).greet(42);
    return [s, n, b, m];
  };
  expect(typeof check).toBe("function");
});

test("typed clients infer input and output", () => {
  const check = (ctx: Parameters<(typeof counter.handlers)["add"]>[0]) => {
    const s: CapstanPromise<string> = ctx.serviceClient(greeter).greet("bob");
    const p: CapstanPromise<number> = ctx.serviceClient(greeter).ping();
    const n: CapstanPromise<number> = ctx.objectClient(counter, "k").add(1, { idempotencyKey: "x" });
    const b: CapstanPromise<boolean> = ctx.workflowClient(flow, "id").run({ email: "a" });
    ctx.objectSendClient(counter, "k").add(2, { delay: { seconds: 1 } });
    // @ts-expect-error wrong input type
    void ctx.serviceClient(greeter).greet(42);
    // @ts-expect-error missing required input
    void ctx.objectClient(counter, "k").add();
    // @ts-expect-error no such handler
    void ctx.serviceClient(greeter).nope;
    return [s, p, n, b];
  };
  // Shared handlers get a read-only context.
  shared(async (ctx) => {
    // @ts-expect-error shared handlers cannot write state
    ctx.set("v", 1);
  });
  expect(typeof check).toBe("function");
  expect(counter.kind).toBe("object");
});
