import { expect, test } from "@playwright/test";
import { ADMIN_STATE, expectNoViolations, hydrated, open } from "./helpers";

test("the sign-in page has no WCAG 2.1 AA violations", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await expectNoViolations(page);
});

test.describe("signed in", () => {
  test.use({ storageState: ADMIN_STATE });

  test("the users list and a profile have no WCAG 2.1 AA violations", async ({ page }) => {
    await open(page, "/users");
    await expectNoViolations(page);
    await page.locator("td.user-name a").first().click();
    await expect(page.getByRole("heading", { name: "User Profile" })).toBeVisible();
    await hydrated(page);
    // With its map drawn, when the user has located devices.
    if ((await page.locator(".map-box .map").count()) > 0) {
      await expect(page.locator(".map-box .leaflet-marker-icon").first()).toBeVisible();
    }
    await expectNoViolations(page);
    // The Options menu, open, and its "Send message" dialog.
    await page.getByRole("button", { name: "Options" }).click();
    await expect(page.getByRole("menu", { name: "Options" })).toBeVisible();
    await expectNoViolations(page);
    await page.getByRole("menuitem", { name: "Send message" }).click();
    await expect(page.getByRole("dialog", { name: "Send message" })).toBeVisible();
    await expectNoViolations(page);
    await page.keyboard.press("Escape");
    // The Delete confirmation (an alert dialog) and the Access log box.
    await page.getByRole("button", { name: "Options" }).click();
    await page.getByRole("menuitem", { name: "Delete" }).click();
    await expect(page.getByRole("alertdialog", { name: "Delete this user for good?" })).toBeVisible();
    await expectNoViolations(page);
    await page.keyboard.press("Escape");
    await expect(page.getByRole("region", { name: "Access log" }).getByRole("listitem").first()).toBeVisible();
    // The "New Segment" modal, open with its results.
    await hydrated(page);
    await page.getByRole("button", { name: "New Segment" }).click();
    await expect(page.getByRole("dialog", { name: "Add segments" }).getByRole("option").first()).toBeVisible();
    await expectNoViolations(page);
    await page.keyboard.press("Escape");
    // The users list filtered to a demo segment's members (where chips lead).
    await open(page, "/users?segment=VIP");
    await expect(page.locator(".active-filters")).toBeVisible();
    await expectNoViolations(page);
    await page.goto("/users/999999999");
    await expectNoViolations(page);
    // A device page with its trail drawn.
    await open(page, "/users?segment=VIP");
    await page.locator("td.user-name a").first().click();
    await expect(page.getByRole("heading", { name: "Devices", exact: true })).toBeVisible();
    await hydrated(page);
    await page.locator(".device-link").first().click();
    await expect(page.getByRole("heading", { name: "Location trail" })).toBeVisible();
    await expectNoViolations(page);
  });
});
