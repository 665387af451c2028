import { chromium, expect, type FullConfig } from "@playwright/test";
import { ADMIN, ADMIN_STATE, VIEWER, VIEWER_STATE } from "./tests/helpers";

/**
 * Signs in once per role and saves the session cookies, so tests start
 * signed in without hitting the per-account sign-in rate limit.
 */
export default async function globalSetup(config: FullConfig) {
  const { baseURL, launchOptions } = config.projects[0].use;
  const browser = await chromium.launch(launchOptions);
  for (const [who, file] of [
    [ADMIN, ADMIN_STATE],
    [VIEWER, VIEWER_STATE],
  ] as const) {
    const page = await browser.newPage({ baseURL });
    await page.goto("/login");
    await page.getByLabel("Email").fill(who.email);
    await page.getByLabel("Password").fill(who.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/users$/);
    await page.context().storageState({ path: file });
    await page.close();
  }
  await browser.close();
}
