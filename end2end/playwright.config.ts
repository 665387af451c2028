import { defineConfig } from "@playwright/test";
import { execSync } from "node:child_process";

// Debian's chromium: Playwright must never download a browser here.
const chromium = process.env.CHROMIUM_PATH ?? execSync("command -v chromium").toString().trim();
// A free port, chosen once and passed to the workers through the environment,
// so the tests can run while `bash .ci/serve` holds the default ports.
if (!process.env.E2E_PORT) {
  process.env.E2E_PORT = execSync(
    `python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"`,
  )
    .toString()
    .trim();
}
const port = Number(process.env.E2E_PORT);

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
