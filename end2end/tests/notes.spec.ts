import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN, ADMIN_STATE, VIEWER, VIEWER_STATE, ingest, open } from "./helpers";

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now. */
async function expectNoViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`);
  expect(summary).toEqual([]);
}

test("an admin and a viewer on one profile: each sees the other, the viewer sees the admin's note at once, and the admin leaves", async ({
  browser,
  request,
}) => {
  const id = `e2e-notes-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Noted Person" });
  const adminContext = await browser.newContext({ storageState: ADMIN_STATE });
  const viewerContext = await browser.newContext({ storageState: VIEWER_STATE });
  const admin = await adminContext.newPage();
  const viewer = await viewerContext.newPage();
  await open(viewer, user.consoleUrl);
  await open(admin, user.consoleUrl);

  // Presence, both ways, within 2 seconds of arriving.
  const seenByViewer = viewer.locator(".also-viewing");
  const seenByAdmin = admin.locator(".also-viewing");
  await expect(seenByViewer).toHaveText(`Also viewing: ${ADMIN.email} (admin)`, { timeout: 2_000 });
  await expect(seenByAdmin).toHaveText(`Also viewing: ${VIEWER.email} (viewer)`, { timeout: 2_000 });

  // Viewers read notes and have no form.
  const viewerNotes = viewer.getByRole("region", { name: "Notes" });
  await expect(viewerNotes.getByText("No notes yet.")).toBeVisible();
  await expect(viewerNotes.getByLabel("New note")).toHaveCount(0);

  // The admin writes a note with a line break and a link; the viewer sees it without a reload.
  const notes = admin.getByRole("region", { name: "Notes" });
  await notes.getByLabel("New note").fill("Called about the invoice.\nSee https://example.com/invoices/7 <b>now</b>");
  await notes.getByRole("button", { name: "Add note" }).click();
  await expect(notes.getByLabel("New note")).toHaveValue("");
  const shown = viewerNotes.getByRole("listitem").first();
  await expect(shown).toContainText("Called about the invoice.");
  await expect(shown).toContainText("<b>now</b>"); // markup shows as typed
  const link = shown.getByRole("link", { name: "https://example.com/invoices/7" });
  await expect(link).toHaveAttribute("rel", /noopener/);
  await expect(shown).toContainText(ADMIN.email);
  await expect(viewerNotes.getByRole("button", { name: "Edit" })).toHaveCount(0);

  // The author edits in place (Esc cancels, Save saves); the viewer sees the new text.
  const mine = notes.getByRole("listitem").first();
  await mine.getByRole("button", { name: "Edit" }).click();
  const text = mine.getByLabel("Note text");
  await expect(text).toBeFocused();
  await text.fill("Changed my mind");
  await admin.keyboard.press("Escape");
  await expect(mine).toContainText("Called about the invoice.");
  await mine.getByRole("button", { name: "Edit" }).click();
  await mine.getByLabel("Note text").fill("Invoice sent.");
  await mine.getByRole("button", { name: "Save" }).click();
  await expect(shown).toContainText("Invoice sent.");
  await expect(shown).toContainText("(edited)");
  await expectNoViolations(admin);
  await expectNoViolations(viewer);

  // The admin closes the page: gone from the viewer's "Also viewing" within 30 seconds.
  await admin.close();
  await expect(seenByViewer).toBeEmpty({ timeout: 30_000 });

  await adminContext.close();
  await viewerContext.close();
});

test.describe("as an admin", () => {
  test.use({ storageState: ADMIN_STATE });

  test("a note is deleted after confirming, and a blank note is refused in words", async ({ page, request }) => {
    const id = `e2e-note-del-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Deleted Note Person" });
    await open(page, user.consoleUrl);
    const notes = page.getByRole("region", { name: "Notes" });
    await notes.getByLabel("New note").fill("   ");
    await notes.getByRole("button", { name: "Add note" }).click();
    await expect(notes.getByRole("alert")).toContainText("the note is empty");
    await notes.getByLabel("New note").fill("Short-lived");
    await notes.getByRole("button", { name: "Add note" }).click();
    const note = notes.getByRole("listitem").filter({ hasText: "Short-lived" });
    await expect(note).toBeVisible();
    await note.getByRole("button", { name: "Delete" }).click();
    await note.getByRole("group", { name: "Confirm deleting this note" }).getByRole("button", { name: "Delete" }).click();
    await expect(notes.getByText("No notes yet.")).toBeVisible();
  });
});
