import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { addConsoleRoutes, CONSOLE_CSP } from "./console-assets";
import { startHttpServer, type ServerHandle } from "./http-server";
import { Router } from "./router";

let dir: string;
let server: ServerHandle | undefined;

async function serve(consoleDir: string): Promise<string> {
  const router = new Router("ADMIN");
  addConsoleRoutes(router, consoleDir);
  server = await startHttpServer({ host: "127.0.0.1", port: 0, router, logger: { error: () => {} } });
  return `http://127.0.0.1:${server.port}`;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "capstan-console-"));
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe("web console assets", () => {
  it("serves the page and its files under /ui with a strict CSP, and / redirects there", async () => {
    writeFileSync(path.join(dir, "index.html"), "<!doctype html><p>console</p>");
    writeFileSync(path.join(dir, "app.js"), "console.log(1)");
    writeFileSync(path.join(dir, "notes.txt"), "not a console file type");
    const url = await serve(dir);

    const page = await fetch(`${url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain("unsafe-inline");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await page.text()).toContain("console");
    expect((await fetch(`${url}/ui`)).status).toBe(200);

    const script = await fetch(`${url}/ui/app.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toBe("console.log(1)");

    const root = await fetch(`${url}/`, { redirect: "manual" });
    expect(root.status).toBe(302);
    expect(root.headers.get("location")).toBe("/ui/");
  });

  it("answers JSON 404s for unknown files, files of other types and paths outside the folder", async () => {
    writeFileSync(path.join(dir, "index.html"), "<p>console</p>");
    writeFileSync(path.join(dir, "notes.txt"), "secret");
    mkdirSync(path.join(dir, "sub"));
    const url = await serve(dir);
    for (const p of ["/ui/missing.js", "/ui/notes.txt", "/ui/..%2Fconsole-assets.ts", "/ui/sub"]) {
      const res = await fetch(url + p);
      expect([p, res.status]).toEqual([p, 404]);
      expect(((await res.json()) as { code: string }).code).toBe("ADMIN_NOT_FOUND");
    }
  });

  it("says the console was not built instead of failing the admin listener", async () => {
    const url = await serve(path.join(dir, "nowhere"));
    const res = await fetch(`${url}/ui/`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("ADMIN_CONSOLE_NOT_BUILT");
  });
});
