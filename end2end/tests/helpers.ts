import { expect, type Page } from "@playwright/test";

export const ADMIN = { email: "admin@e2e.test", password: "tall admin stairs 42" };
export const VIEWER = { email: "viewer@e2e.test", password: "quiet viewer lamp 7" };

/** Saved sessions (global-setup.ts); `test.use({ storageState: ADMIN_STATE })`. */
export const ADMIN_STATE = ".data/admin-session.json";
export const VIEWER_STATE = ".data/viewer-session.json";

/** Opens a page of a signed-in test and waits for hydration. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await expect(page).toHaveURL(new RegExp(path.replace(/[?]/g, "\\?") + "$"));
  await hydrated(page);
}

/** Waits until the wasm bundle has hydrated the page (the root Effect ran). */
export async function hydrated(page: Page) {
  await expect(page.locator(".app-root[data-hydrated=true]")).toBeAttached();
}

/** Signs in through the login form; `path` is the page asked for first. */
export async function signIn(page: Page, who: { email: string; password: string }, path = "/users") {
  await page.goto(path);
  await expect(page).toHaveURL(/\/login\?next=/);
  await hydrated(page);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(path.replace(/[?]/g, "\\?") + "$"));
  await hydrated(page);
}
