import { expect, test } from "@playwright/test";
import { ADMIN, VIEWER, hydrated, signIn } from "./helpers";

test("an admin signs in and returns to the page asked for", async ({ page }) => {
  await signIn(page, ADMIN, "/users?sort=name");
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await expect(page.locator(".account")).toContainText(ADMIN.email);
  await expect(page.locator(".role-badge")).toHaveText("Admin");
});

test("a viewer sees the console read-only and can sign out", async ({ page }) => {
  await signIn(page, VIEWER);
  await expect(page.locator(".role-badge")).toHaveText("Viewer · read-only");
  await expect(page.locator("[data-admin-only]")).toHaveCount(0);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/users");
  await expect(page).toHaveURL(/\/login\?next=%2Fusers$/);
});

test("a wrong password shows an error and keeps the form", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL(/\/login/);
});
