/**
 * The web console in a real browser against `npm start` with real invocations: every page loads, a
 * failed invocation shows its failure, a suspended one is cancelled from its page and its status
 * changes, state is edited, SQL runs — and the page never trips its Content-Security-Policy.
 * With CAPSTAN_CONSOLE_SCREENSHOTS=<dir>, it also saves a screenshot of each page (docs/console.md).
 */
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./support/browser";
import { PlatformProcess } from "./support/platform-process";

jest.setTimeout(180_000);
/** Generous: a page waits for the runtime to act and its live refresh (every 2 s) to show it. */
const UI_TIMEOUT_MS = 30_000;

async function post(base: string, route: string, body: unknown): Promise<Response> {
  return fetch(base + route, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("web console", () => {
  let platform: PlatformProcess;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const screenshots = process.env.CAPSTAN_CONSOLE_SCREENSHOTS;

  async function shot(name: string): Promise<void> {
    if (screenshots !== undefined)
      await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    platform = await PlatformProcess.create();
    await platform.start();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    // A CSP violation or a script error is a console error: none may happen on any page.
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.kill("SIGTERM", "group");
  });

  afterEach(() => {
    expect(problems.splice(0)).toEqual([]);
  });

  it("lists invocations and services, and opens a failed invocation to its failure", async () => {
    const { ingressUrl, adminUrl } = platform;
    expect((await post(ingressUrl, "/Greeter/greet", "Ada")).status).toBe(200);
    const declined = await post(ingressUrl, "/Checkout/placeOrder", {
      userId: "bob",
      items: [{ sku: "book-durable-execution", qty: 1 }],
      card: "4000-0000-0000-0002",
    });
    expect(declined.status).toBe(402);
    const failureMessage = ((await declined.json()) as { message: string }).message;

    // Without the admin token the shell loads but the API refuses it: the console asks for the token.
    await page.goto(`${adminUrl}/ui/`);
    await page.getByLabel("admin token").fill(platform.adminToken);
    // The refused API calls show in the browser's console as 401s: expected, and only those.
    expect(problems.splice(0).filter((p) => !p.includes("401"))).toEqual([]);
    await page.getByRole("button", { name: "Use token" }).click();
    await page.getByRole("cell", { name: "Greeter/greet" }).first().waitFor();
    await shot("invocations");

    await page.getByRole("link", { name: "Services" }).click();
    await page.locator("table.services").getByRole("link", { name: "Checkout", exact: true }).waitFor();
    await page.getByRole("heading", { name: "Deployments" }).waitFor();
    await shot("services");

    // A page at a time: the next page starts after the last row of this one.
    await page.goto(`${adminUrl}/ui/#/invocations?limit=1`);
    const firstRow = await page.locator("table.invocations tbody tr").first().getByRole("link").textContent();
    await page.getByRole("link", { name: "Next page" }).click();
    await page.getByRole("link", { name: "Newest" }).waitFor();
    // The link shows before the next page's rows replace this one's: wait for the rows to change.
    await page.waitForFunction(
      `document.querySelector("table.invocations tbody tr a")?.textContent !== ${JSON.stringify(firstRow)}`,
    );
    const nextRow = await page.locator("table.invocations tbody tr").first().getByRole("link").textContent();
    expect(nextRow).not.toBe(firstRow);
    expect(await page.locator("table.invocations tbody tr").count()).toBe(1);
    await shot("invocations-next-page");

    await page.getByRole("link", { name: "Invocations" }).click();
    await page.locator("select[name=service]").selectOption("Checkout");
    const row = page
      .locator("tr", { hasText: "Checkout/placeOrder" })
      .filter({ hasText: "completed (failed)" });
    await row.first().getByRole("link").click();
    await page.getByText("completed (failed)").first().waitFor();
    await page.locator("pre.result", { hasText: failureMessage }).waitFor();
    await page.getByRole("heading", { name: "Journal" }).waitFor();
    await shot("invocation-failed");
  });

  it("cancels a suspended workflow from its page and shows its new status", async () => {
    const { ingressUrl, adminUrl } = platform;
    const sent = await post(ingressUrl, "/Signup/console-1/run/send", "ada@example.com");
    expect(sent.status).toBe(202);
    const { invocationId } = (await sent.json()) as { invocationId: string };

    await page.goto(`${adminUrl}/ui/#/invocations/${invocationId}`);
    await page.locator(".status", { hasText: "suspended" }).waitFor();
    // What the handler printed, from the local Lambda endpoint: its attempt and its line.
    const logLine = page.locator("table.logs tr", { hasText: "verification email sent to ada@example.com" });
    await logLine.waitFor();
    expect(await logLine.locator("td").first().textContent()).toBe("1");
    await shot("invocation-suspended");
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Yes, cancel" }).click();
    await page.locator(".status", { hasText: "completed (failed)" }).waitFor();

    const res = await fetch(`${adminUrl}/invocations/${invocationId}`, {
      headers: { authorization: `Bearer ${platform.adminToken}` },
    });
    expect(((await res.json()) as { status: string; outcome: string }).outcome).toBe("failed");
  });

  it("edits an object's state and runs a read-only SQL query", async () => {
    const { ingressUrl, adminUrl } = platform;
    expect((await post(ingressUrl, "/Counter/console-key/add", 5)).status).toBe(200);

    await page.goto(`${adminUrl}/ui/#/state/Counter/console-key`);
    const value = page.getByLabel("value of count");
    await value.waitFor();
    expect(await value.inputValue()).toBe("5");
    await value.fill("42");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("button", { name: "Yes, save" }).click();
    await page.waitForFunction(
      async ([url, token]) => {
        const r = await fetch(url!, { headers: { authorization: `Bearer ${token}` } });
        return ((await r.json()) as { state: { count?: number } }).state.count === 42;
      },
      [`${adminUrl}/state/Counter/console-key`, platform.adminToken],
      { polling: 200 },
    );
    await shot("state");

    await page.getByRole("link", { name: "SQL" }).click();
    await page.getByRole("button", { name: "Run" }).click();
    await page.getByRole("columnheader", { name: "status" }).waitFor();
    await page.getByRole("cell", { name: "completed" }).first().waitFor();
    await shot("sql");
  });
});
