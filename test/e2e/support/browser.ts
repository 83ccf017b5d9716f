/**
 * A real browser for the console tests: Debian's chromium driven by playwright-core, which downloads
 * nothing (.ci/run installs the `chromium` package when it is missing).
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"];

export async function launchChromium(): Promise<Browser> {
  const executablePath = CANDIDATES.find((p): p is string => p !== undefined && existsSync(p));
  if (executablePath === undefined) {
    throw new Error("no chromium found: install Debian's `chromium` package (or set CHROMIUM_PATH)");
  }
  return chromium.launch({
    executablePath,
    // As root in a sandbox with no network: no setuid sandbox, and none of the background fetches
    // that a closed network refuses.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
