import { expect, test } from "@playwright/test";
import { ADMIN_STATE, VIEWER_STATE, open } from "./helpers";

test.describe("as an admin", () => {
test.use({ storageState: ADMIN_STATE });

test("find a user by part of the name, open the profile, generate and revoke Push Mail", async ({ page }) => {
  await open(page, "/users");
  // Pick a seeded user's first name, then find them by typing part of it.
  const firstRow = page.locator("tbody tr").first();
  const name = (await firstRow.locator("td.user-name a").innerText()).trim();
  const part = name.split(" ")[1].slice(0, 4);
  await page.getByRole("searchbox").fill(part);
  await expect(page).toHaveURL(new RegExp(`q=${part}`));
  await page.locator("td.user-name a", { hasText: name }).first().click();
  await expect(page).toHaveURL(/\/users\/\d+$/);
  await expect(page.getByRole("heading", { name: "User Profile" })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(name);

  await expect(page.getByText("No Push Mail address yet.")).toBeVisible();
  await page.getByRole("button", { name: "Generate" }).click();
  const address = page.getByTestId("push-mail-address");
  await expect(address).toHaveText(/^[0-9a-f]{40}@pushmail\.localhost$/);
  await expect(page.getByRole("button", { name: "Regenerate" })).toBeVisible();

  await page.getByRole("button", { name: "Revoke" }).click();
  await expect(address).toHaveCount(0);
  await expect(page.getByText("No Push Mail address yet.")).toBeVisible();
});

});

test.describe("as a viewer", () => {
test.use({ storageState: VIEWER_STATE });

test("a viewer sees the profile without Push Mail controls; unknown users are a clear 404", async ({ page }) => {
  await open(page, "/users");
  await page.locator("td.user-name a").first().click();
  await expect(page.getByRole("heading", { name: "User Profile" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Private messages" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Generate" })).toHaveCount(0);
  await expect(page.locator("[data-admin-only]")).toHaveCount(0);

  const response = await page.goto("/users/999999999");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("alert")).toContainText("does not exist");
});
});
