import { expect, test } from "@playwright/test";
import { ADMIN_STATE, hydrated, open } from "./helpers";

test.use({ storageState: ADMIN_STATE });

test("the Users page lists seeded users and its menu works after hydration", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));

  await open(page, "/users");
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  // 60 seeded users, and any that other tests added through the API.
  const count = page.getByText(/^\d+ users$/);
  await expect(count).toBeVisible();
  const total = Number((await count.innerText()).split(" ")[0]);
  expect(total).toBeGreaterThanOrEqual(60);
  await expect(page.locator("tbody tr")).toHaveCount(50);
  await hydrated(page);

  // The Audience menu collapses and expands: only hydrated code handles this click.
  const audience = page.getByRole("button", { name: "Audience" });
  await expect(audience).toHaveAttribute("aria-expanded", "true");
  await audience.click();
  await expect(audience).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByRole("link", { name: "Users", exact: true })).toBeHidden();
  await audience.click();
  await expect(page.getByRole("link", { name: "Users", exact: true })).toBeVisible();

  // Client-side paging: the next page loads without a full reload.
  await page.getByRole("link", { name: "Next page" }).click();
  await expect(page).toHaveURL(/after=/);
  await expect(page.locator("tbody tr")).toHaveCount(Math.min(50, total - 50));
  expect(errors).toEqual([]);
});

test("the root redirects to Users and unknown pages say not found", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/users$/);
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});

test("searching as you type narrows the list and the URL keeps it", async ({ page }) => {
  await open(page, "/users");
  await page.getByRole("searchbox").fill("demo-user-0042");
  await expect(page).toHaveURL(/q=demo-user-0042/);
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await expect(page.getByText("1 user", { exact: true })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("searchbox")).toHaveValue("demo-user-0042");
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await page.getByRole("searchbox").fill("no-such-person");
  await expect(page.getByText("No users match “no-such-person”.")).toBeVisible();
});

test.describe("app switcher", () => {
  test.use({ storageState: ADMIN_STATE });

  test("switching apps reloads the page's data in place, without a full reload", async ({ page }) => {
    await open(page, "/users?q=a");
    await page.evaluate(() => ((window as any).__samePage = true));
    // The switcher sits in a Suspense boundary, which hydrates after the root.
    await expect(page.locator(".app-switcher[data-ready=true]")).toBeAttached();
    const switcher = page.getByLabel("App");
    await switcher.selectOption({ label: "Second" });
    await expect(page).toHaveURL(/\/users$/);
    await expect(page.getByText("No users yet.")).toBeVisible();
    expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
    // Back to the demo app (the saved session is shared with other tests).
    await switcher.selectOption({ label: "Demo" });
    await expect(page.locator("td.user-name a").first()).toBeVisible();
    expect(await page.evaluate(() => (window as any).__samePage)).toBe(true);
  });
});
