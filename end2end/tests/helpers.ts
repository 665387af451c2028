import { readFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page } from "@playwright/test";

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

/** The demo app's API key (serve-e2e.sh saves it). */
export function apiKey(): string {
  return readFileSync(".data/api-key", "utf8").trim();
}

/** Calls the ingest API as the customer's app; returns the JSON answer. */
export async function ingest(request: APIRequestContext, method: "PUT" | "POST", path: string, data: unknown) {
  const response = await request.fetch(`/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey()}` },
    data,
  });
  expect(response.status(), `${method} ${path}: ${await response.text()}`).toBeLessThan(300);
  return response.json();
}

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now. */
export async function expectNoViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`);
  expect(summary).toEqual([]);
}
