import { object, service, workflow } from "../index";

/** Handlers exercising every journal entry kind; shared by the replay tests and the golden fixtures. */
export const greeter = service({
  name: "Greeter",
  handlers: { greet: async (_ctx, name: string) => `hello ${name}` },
});

export const runCounts = { step: 0 };

export const kitchenSink = workflow({
  name: "KitchenSink",
  handlers: {
    run: async (ctx, name: string) => {
      const step = await ctx.run("step", () => {
        runCounts.step++;
        return `s-${name}`;
      });
      const keys = await ctx.stateKeys();
      const count = await ctx.get<number>("count");
      ctx.set("count", (count ?? 0) + 1);
      ctx.clear("tmp");
      await ctx.sleep(100, "nap");
      const greeting = await ctx.serviceClient(greeter).greet(name);
      ctx.serviceSendClient(greeter).greet("later", { delay: 1000 });
      const awk = ctx.awakeable<string>();
      ctx.resolveAwakeable(awk.id, "self");
      const awoken = await awk.promise;
      const peeked = await ctx.promise<string>("p").peek();
      await ctx.promise<string>("p").resolve("done");
      const promised = await ctx.promise<string>("p").get();
      const attached = await ctx.attach<string>("inv_2_otherinvocation");
      ctx.cancel("inv_2_otherinvocation");
      ctx.clearAll();
      ctx.set("done", true);
      return { step, keys, count, greeting, awoken, peeked, promised, attached, id: ctx.rand.uuidv4() };
    },
  },
});

export const kv = object({ name: "Kv", handlers: { noop: async () => undefined } });
