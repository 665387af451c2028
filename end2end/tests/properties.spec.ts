import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN_STATE, VIEWER_STATE, ingest, open } from "./helpers";

/** A fresh user of the demo app with properties set through the API. */
async function userWithProperties(request: Parameters<typeof ingest>[0], label: string) {
  const id = `e2e-props-${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, {
    userName: `Properties ${label}`,
    properties: { plan: "free", seats: 1200, trial: true, signup: "2026-01-02T03:04:05Z" },
  });
  return { id, path: user.consoleUrl as string };
}

function box(page: Page) {
  return page.getByRole("region", { name: "Properties" });
}

function row(page: Page, name: string) {
  return box(page).getByRole("row", { name: new RegExp(`^${name}\\b`) });
}

test.describe("as an admin", () => {
  test.use({ storageState: ADMIN_STATE });

  test("properties from the API show by type; an edit in place shows in the history", async ({ page, request }) => {
    await open(page, (await userWithProperties(request, "edit")).path);
    await expect(row(page, "plan")).toContainText("free");
    await expect(row(page, "seats")).toContainText("1,200");
    await expect(row(page, "trial")).toContainText("Yes");
    // A date: the viewer's zone once hydrated, UTC on hover.
    await expect(row(page, "signup").locator("time")).toHaveAttribute("title", "2026-01-02 03:04 UTC");

    await row(page, "plan").getByRole("button", { name: "Edit property plan" }).click();
    const value = box(page).getByLabel("Value of plan");
    await expect(value).toHaveValue("free");
    // Esc cancels, leaving the value as it was.
    await value.press("Escape");
    await expect(row(page, "plan")).toContainText("free");
    await row(page, "plan").getByRole("button", { name: "Edit property plan" }).click();
    await box(page).getByLabel("Value of plan").fill("pro");
    await box(page).getByLabel("Value of plan").press("Enter");
    await expect(row(page, "plan")).toContainText("pro");

    await box(page).getByText("History").click();
    const history = box(page).getByRole("list", { name: "Property changes, newest first" });
    await expect(history.getByRole("listitem").first()).toContainText("plan: “free” → “pro”, by admin@e2e.test");
    await expect(history).toContainText("by api");

    // Added with a type, then removed.
    await box(page).getByText("Add a property").click();
    await box(page).getByLabel("Name", { exact: true }).fill("score");
    await box(page).getByLabel("Type", { exact: true }).selectOption("number");
    await box(page).getByLabel("Value", { exact: true }).fill("42.5");
    await box(page).getByRole("button", { name: "Add", exact: true }).click();
    await expect(row(page, "score")).toContainText("42.5");
    await row(page, "score").getByRole("button", { name: "Remove property score" }).click();
    await expect(row(page, "score")).toHaveCount(0);

    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  });

  test("a refused value is said in the box and changes nothing", async ({ page, request }) => {
    await open(page, (await userWithProperties(request, "refused")).path);
    await row(page, "seats").getByRole("button", { name: "Edit property seats" }).click();
    await box(page).getByLabel("Value of seats").fill("many");
    await box(page).getByLabel("Value of seats").press("Enter");
    await expect(box(page).getByRole("alert")).toContainText("is not a number");
    await page.reload();
    await expect(row(page, "seats")).toContainText("1,200");
  });
});

test.describe("as a viewer", () => {
  test.use({ storageState: VIEWER_STATE });

  test("sees the values and no edit controls", async ({ page, request }) => {
    await open(page, (await userWithProperties(request, "viewer")).path);
    await expect(row(page, "plan")).toContainText("free");
    await expect(box(page).getByRole("button", { name: /Edit|Remove|Add|Save/ })).toHaveCount(0);
    await expect(box(page).getByText("Add a property")).toHaveCount(0);
  });
});
