import { defineConfig } from "@playwright/test";
import { execSync } from "node:child_process";

// Debian's chromium: Playwright must never download a browser here.
const chromium = process.env.CHROMIUM_PATH ?? execSync("command -v chromium").toString().trim();
const port = Number(process.env.E2E_PORT ?? 3100);

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: chromium,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    // Builds nothing: serves the release build with a fresh demo database.
    command: `bash ./serve-e2e.sh ${port}`,
    url: `http://127.0.0.1:${port}/users`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
