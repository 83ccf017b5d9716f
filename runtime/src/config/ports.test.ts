import net from "node:net";
import { ConfigError } from "./config";
import { assertPortsFree, withPortHint } from "./ports";

describe("ports in use are named by the variable that sets them", () => {
  const taken: net.Server[] = [];
  const takePort = (): Promise<number> =>
    new Promise((resolve) => {
      const s = net
        .createServer()
        .listen(0, "127.0.0.1", () => resolve((s.address() as net.AddressInfo).port));
      taken.push(s);
    });
  afterAll(() => taken.forEach((s) => s.close()));

  test("every busy port at once, free ones and port 0 left out", async () => {
    const [a, b] = [await takePort(), await takePort()];
    const err = await assertPortsFree("127.0.0.1", {
      CAPSTAN_INGRESS_PORT: a,
      CAPSTAN_ADMIN_PORT: 0,
      CAPSTAN_LAMBDA_PORT: b,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      `ports ${a} (CAPSTAN_INGRESS_PORT) and ${b} (CAPSTAN_LAMBDA_PORT) are already in use: ` +
        "stop the processes using them or set those variables to other ports",
    );
    await expect(assertPortsFree("127.0.0.1", { CAPSTAN_ADMIN_PORT: 0 })).resolves.toBeUndefined();
  });

  test("a port taken after the check is reported the same way", async () => {
    const port = await takePort();
    const listen = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once("error", reject);
        s.listen(port, "127.0.0.1", () => resolve());
      });
    await expect(withPortHint({ CAPSTAN_ADMIN_PORT: port }, listen)).rejects.toThrow(
      `port ${port} (CAPSTAN_ADMIN_PORT) is already in use: stop the process using it or set that variable to another port`,
    );
  });
});
