import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

// The documentation's screenshots (docs/screenshots/*.png), taken from the
// release build with demo data: `npx playwright test -c playwright.screenshots.config.ts`.
export default defineConfig({
  ...base,
  testDir: "./screenshots",
  use: { ...base.use, viewport: { width: 1440, height: 1000 } },
});
