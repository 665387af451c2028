import { expect, test, type Page } from "@playwright/test";
import { ADMIN_STATE, VIEWER_STATE, hydrated, ingest, open } from "./helpers";

/** A fresh user of the demo app (no segments yet): its userID and profile path. */
async function freshUser(request: Parameters<typeof ingest>[0], label: string) {
  const id = `e2e-${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: `Segment ${label}` });
  return { id, path: user.consoleUrl as string };
}

function segmentsBox(page: Page) {
  return page.getByRole("region", { name: "Segments" });
}

function chips(page: Page) {
  return segmentsBox(page).getByRole("list", { name: "Segments of this user" }).getByRole("listitem");
}

test.describe("as an admin", () => {
  test.use({ storageState: ADMIN_STATE });

  test("search, select two, Create it?, Done, Add; remove one after confirming, Cancel keeps another", async ({
    page,
    request,
  }) => {
    await open(page, (await freshUser(request, "mouse")).path);
    const box = segmentsBox(page);
    await expect(box.getByText("No segments yet.")).toBeVisible();

    await box.getByRole("button", { name: "New Segment" }).click();
    const dialog = page.getByRole("dialog", { name: "Add segments" });
    await expect(dialog).toBeVisible();
    const search = dialog.getByRole("combobox", { name: "Search segments" });
    await expect(search).toBeFocused();

    // The modal opens on the app's segments by name; search two of them.
    const options = dialog.getByRole("option");
    await expect(options.nth(1)).toBeVisible();
    const first = (await options.nth(0).innerText()).trim();
    const second = (await options.nth(1).innerText()).trim();
    await search.fill(first.slice(0, 3).toLowerCase());
    await dialog.getByRole("option", { name: first, exact: true }).click();
    await search.fill(second.slice(0, 3).toUpperCase());
    await dialog.getByRole("option", { name: second, exact: true }).click();

    const fresh = `E2E segment ${Date.now()}`;
    await search.fill(fresh);
    await dialog.getByRole("button", { name: "Create it?" }).click();
    const selected = dialog.getByRole("list", { name: "Selected segments" }).getByRole("listitem");
    await expect(selected).toHaveCount(3);
    await expect(dialog.getByRole("button", { name: "Create it?" })).toHaveCount(0);

    await dialog.getByRole("button", { name: "Done" }).click();
    await expect(dialog.getByText("3 segments selected.")).toBeVisible();
    await dialog.getByRole("button", { name: "Add", exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect(chips(page)).toHaveCount(3);
    await expect(box).toContainText(fresh);

    await page.reload();
    await hydrated(page);
    await expect(chips(page)).toHaveCount(3);

    await box.getByRole("button", { name: `Remove segment ${first}` }).click();
    const confirm = page.getByRole("alertdialog", { name: "Remove segment?" });
    await expect(confirm).toContainText(first);
    await confirm.getByRole("button", { name: "Remove", exact: true }).click();
    await expect(chips(page)).toHaveCount(2);
    await expect(box.getByRole("button", { name: `Remove segment ${first}` })).toHaveCount(0);

    await box.getByRole("button", { name: `Remove segment ${second}` }).click();
    await expect(confirm).toContainText(second);
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expect(confirm).toBeHidden();
    await page.reload();
    await hydrated(page);
    await expect(chips(page)).toHaveCount(2);
    await expect(box).toContainText(second);
  });

  test("the same with the keyboard only: Tab, arrows, Enter, Esc", async ({ page, request }) => {
    await open(page, (await freshUser(request, "keys")).path);
    const box = segmentsBox(page);
    const newSegment = box.getByRole("button", { name: "New Segment" });
    // Enabled once the box's own first effect has run (its dialogs need the
    // wasm), which can come a moment after the page's hydrated mark: focus(),
    // unlike click(), does not wait for that.
    await expect(newSegment).toBeEnabled();
    await newSegment.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Add segments" });
    const search = dialog.getByRole("combobox", { name: "Search segments" });
    await expect(search).toBeFocused();

    // Esc cancels and gives focus back to the button.
    await page.keyboard.press("Escape");
    await expect(dialog).toBeHidden();
    await expect(newSegment).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(search).toBeFocused();

    // Arrows move the highlight; Enter selects the highlighted one.
    const options = dialog.getByRole("option");
    await expect(options.nth(1)).toBeVisible();
    const second = (await options.nth(1).innerText()).trim();
    await page.keyboard.press("ArrowDown");
    await expect(search).toHaveAttribute("aria-activedescendant", (await options.nth(1).getAttribute("id")) ?? "");
    await page.keyboard.press("Enter");
    const selected = dialog.getByRole("list", { name: "Selected segments" }).getByRole("listitem");
    await expect(selected).toHaveCount(1);
    await expect(selected.first()).toContainText(second);

    const fresh = `E2E keyboard ${Date.now()}`;
    await page.keyboard.type(fresh);
    const create = dialog.getByRole("button", { name: "Create it?" });
    await expect(create).toBeVisible();
    // search → Done → Create it?
    await page.keyboard.press("Tab");
    await expect(dialog.getByRole("button", { name: "Done" })).toBeFocused();
    await page.keyboard.press("Tab");
    await expect(create).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(selected).toHaveCount(2);
    await expect(search).toBeFocused();

    // Done, then Add has the focus.
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    const add = dialog.getByRole("button", { name: "Add", exact: true });
    await expect(add).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(dialog).toBeHidden();
    await expect(chips(page)).toHaveCount(2);
    await expect(newSegment).toBeFocused();

    // Remove with the keyboard; Esc on the confirmation keeps the segment.
    const cross = box.getByRole("button", { name: `Remove segment ${fresh}` });
    await cross.focus();
    await page.keyboard.press("Enter");
    const confirm = page.getByRole("alertdialog", { name: "Remove segment?" });
    await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
    await page.keyboard.press("Escape");
    await expect(confirm).toBeHidden();
    await expect(chips(page)).toHaveCount(2);
    await cross.focus();
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await expect(confirm.getByRole("button", { name: "Remove", exact: true })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(chips(page)).toHaveCount(1);
  });
});

test.describe("as a viewer", () => {
  test.use({ storageState: VIEWER_STATE });

  test("a viewer sees the chips but no New Segment button and no crosses", async ({ page, request }) => {
    const user = await freshUser(request, "viewer");
    // The customer's app puts the user in a segment through the ingest API.
    const name = `Viewer segment ${Date.now()}`;
    await ingest(request, "PUT", `/users/${user.id}/segments/${encodeURIComponent(name)}`, {});
    await open(page, user.path);
    await expect(chips(page)).toHaveCount(1);
    await expect(segmentsBox(page)).toContainText(name);
    await expect(segmentsBox(page).getByRole("button", { name: `Remove segment ${name}` })).toHaveCount(0);
    await expect(segmentsBox(page).getByRole("button", { name: "New Segment" })).toHaveCount(0);
  });

  test("a chip opens the users list filtered to its segment; the filter combines with search and can be removed", async ({
    page,
    request,
  }) => {
    const name = `Filter segment ${Date.now()}`;
    const members = [await freshUser(request, "member-a"), await freshUser(request, "member-b")];
    const outsider = await freshUser(request, "outsider");
    for (const member of members) {
      await ingest(request, "PUT", `/users/${member.id}/segments/${encodeURIComponent(name)}`, {});
    }
    await open(page, members[0].path);
    await segmentsBox(page).getByRole("link", { name }).click();
    await expect(page).toHaveURL(/\/users\?segment=Filter%20segment%20\d+$/);
    await hydrated(page);
    const filterChip = page.locator(".active-filters");
    await expect(filterChip).toContainText(`Members of segment ${name}`);
    const rows = page.locator(".users-table tbody tr");
    await expect(rows).toHaveCount(2);
    await expect(page.getByText("2 users", { exact: true })).toBeVisible();
    await expect(page.locator(".users-table")).not.toContainText(outsider.id);

    // Search within the segment: one member.
    await page.getByRole("searchbox", { name: "Search users" }).fill(members[1].id);
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText(members[1].id);
    await expect(page).toHaveURL(/segment=Filter%20segment%20\d+&q=/);

    // Removing the filter keeps the search and finds nobody else's rows.
    await page.getByRole("link", { name: `Remove the filter segment ${name}` }).click();
    await expect(page).toHaveURL(/\/users\?q=e2e-member-b-/);
    await expect(filterChip).toHaveCount(0);
    await expect(rows).toHaveCount(1);

    // An unknown segment says so (a real 404).
    const response = await page.goto("/users?segment=No%20such%20segment");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("alert")).toContainText("There is no segment named “No such segment”");
  });
});

