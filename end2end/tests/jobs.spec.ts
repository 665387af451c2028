import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN_STATE, VIEWER_STATE, ingest, open } from "./helpers";

async function noViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`);
  expect(summary).toEqual([]);
}

test.describe("as an admin", () => {
  test.use({ storageState: ADMIN_STATE });

  test("select all matching, add them to a segment, watch the job, see the members", async ({ page, request }) => {
    const stamp = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    // More users than a page holds, so "all matching" reaches past it.
    for (let i = 0; i < 55; i++) {
      await ingest(request, "PUT", `/users/e2e-bulk-${stamp}-${String(i).padStart(2, "0")}`, {
        userName: `Bulk ${stamp} ${i}`,
      });
    }
    await open(page, `/users?q=e2e-bulk-${stamp}`);
    await expect(page.getByText("55 users")).toBeVisible();
    // The bar's code is a chunk of its own, fetched on the first tick
    // (not with the page: this waits for a request made after it).
    const barChunk = page.waitForResponse((r) => r.url().includes("/pkg/split_bulk_bar"));
    await page.getByRole("checkbox", { name: "Select every user on this page" }).check();
    expect((await barChunk).ok()).toBe(true);
    const bar = page.getByRole("region", { name: "Bulk actions" });
    await expect(bar.getByText("50 selected")).toBeVisible();
    await bar.getByRole("button", { name: "Select all 55 matching" }).click();
    await expect(bar.getByText("All 55 matching users selected")).toBeVisible();
    await noViolations(page);

    const segment = `Bulk ${stamp}`;
    await bar.getByLabel("Action").selectOption({ label: "Add to segment" });
    await bar.getByRole("textbox", { name: "Segment" }).fill(segment);
    await bar.getByRole("button", { name: "Apply" }).click();
    // The job's progress, then its outcome.
    await expect(bar.getByRole("progressbar")).toBeVisible();
    await expect(bar.getByText("55 added")).toBeVisible({ timeout: 20_000 });

    // The segment lists them all; the Jobs page has the job.
    await open(page, `/users?segment=${encodeURIComponent(segment)}`);
    await expect(page.getByText("55 users")).toBeVisible();
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await expect(page).toHaveURL(/\/jobs$/);
    await expect(page.getByRole("link", { name: `Add to segment “${segment}”: all users matching “e2e-bulk-${stamp}”` })).toBeVisible();
    await noViolations(page);
  });

  test("import a small file: the preview names the bad row, then the import", async ({ page }) => {
    const stamp = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    await open(page, "/users/import");
    await noViolations(page);
    const csv = `userID,userName,email,plan\ne2e-imp-${stamp}-1,Imported ${stamp},imp@example.com,pro\n,No id,,free\ne2e-imp-${stamp}-2,Second ${stamp},,team\n`;
    await page.getByLabel("CSV file").setInputFiles({ name: "users.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByRole("button", { name: "Check file" }).click();
    await expect(page).toHaveURL(/\/jobs\/\d+$/);
    await expect(page.getByRole("heading", { name: "First rows" })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByRole("cell", { name: "Refused: userID must not be empty" })).toBeVisible();
    await expect(page.getByRole("heading", { name: "1 refused row" })).toBeVisible();
    await noViolations(page);
    await page.getByRole("button", { name: "Import 2 rows" }).click();
    await expect(page.getByRole("heading", { name: /Import users from a CSV file/ })).toBeVisible();
    await expect(page.getByText("2 rows imported")).toBeVisible({ timeout: 20_000 });
    await open(page, `/users?q=${stamp}`);
    await expect(page.getByRole("link", { name: `Imported ${stamp}` })).toBeVisible();
    await expect(page.getByRole("link", { name: `Second ${stamp}` })).toBeVisible();
  });

  test("a file without userID goes back to the form with the reason", async ({ page }) => {
    await open(page, "/users/import");
    await page
      .getByLabel("CSV file")
      .setInputFiles({ name: "bad.csv", mimeType: "text/csv", buffer: Buffer.from("name,email\nAna,a@b.co\n") });
    await page.getByRole("button", { name: "Check file" }).click();
    await expect(page.getByRole("alert")).toContainText("no userID column");
  });
});

test.describe("as a viewer", () => {
  test.use({ storageState: VIEWER_STATE });

  test("no selection controls on the list", async ({ page }) => {
    await open(page, "/users");
    await expect(page.getByRole("table")).toBeVisible();
    await expect(page.getByRole("checkbox", { name: /Select/ })).toHaveCount(0);
    await expect(page.getByRole("region", { name: "Bulk actions" })).toHaveCount(0);
  });
});
