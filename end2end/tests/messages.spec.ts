import { expect, test } from "@playwright/test";
import { ADMIN_STATE, VIEWER_STATE, apiKey, ingest, open } from "./helpers";

test.use({ storageState: VIEWER_STATE });

test("a message shows queued, then delivered after an inbox read, then opened, without reload", async ({
  page,
  request,
}) => {
  const id = `e2e-msg-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Message Person" });
  await ingest(request, "PUT", `/devices/${id}-phone`, { userID: id, platform: "iOS", deviceString: "Pixel Phone" });
  await open(page, user.consoleUrl);
  const box = page.getByRole("region", { name: "Private messages" });
  await expect(box.getByText("No private messages yet.")).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Live" }).first()).toBeVisible();

  const sent = await ingest(request, "POST", `/users/${id}/messages`, { title: "Your order", body: "It shipped." });
  const delivery = box.getByRole("list", { name: "Deliveries" }).getByRole("listitem");
  await expect(box.getByText("Your order")).toBeVisible();
  await expect(delivery).toHaveText(/Pixel Phone: Queued/);

  const auth = { Authorization: `Bearer ${apiKey()}` };
  const inbox = await request.get(`/api/v1/devices/${id}-phone/inbox`, { headers: auth });
  expect(inbox.status()).toBe(200);
  await expect(delivery).toHaveText(/Pixel Phone: Delivered/);

  const opened = await request.post(`/api/v1/devices/${id}-phone/inbox/${sent.messageId}/open`, { headers: auth });
  expect(opened.status()).toBe(200);
  await expect(delivery).toHaveText(/Pixel Phone: Opened/);
  await expect(box.locator('[data-status="opened"]')).toHaveCount(1);
});

test.describe("as an admin", () => {
  test.use({ storageState: ADMIN_STATE });

  test("Options › Send message: a keyboard-usable menu, a checked form with a preview, the message at once", async ({
    page,
    request,
  }) => {
    const id = `e2e-send-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Send Person" });
    await ingest(request, "PUT", `/devices/${id}-phone`, { userID: id, platform: "Android", deviceString: "Tab S9" });
    await open(page, user.consoleUrl);

    // The menu by keyboard: Enter opens it on its first item, Esc closes it back onto the button.
    const options = page.getByRole("button", { name: "Options" });
    await expect(options).toBeEnabled(); // focus(), unlike click(), does not wait
    await options.focus();
    await page.keyboard.press("Enter");
    const menu = page.getByRole("menu", { name: "Options" });
    await expect(menu).toBeVisible();
    await expect(menu.getByRole("menuitem", { name: "Export (JSON)" })).toBeFocused();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await expect(menu.getByRole("menuitem", { name: "Send message" })).toBeFocused();
    await page.keyboard.press("End");
    await expect(menu.getByRole("menuitem", { name: "Delete" })).toBeFocused();
    await page.keyboard.press("ArrowDown");
    await expect(menu.getByRole("menuitem", { name: "Export (JSON)" })).toBeFocused();
    await page.keyboard.press("Escape");
    await expect(menu).toBeHidden();
    await expect(options).toBeFocused();

    await options.click();
    await menu.getByRole("menuitem", { name: "Send message" }).click();
    const dialog = page.getByRole("dialog", { name: "Send message" });
    await expect(dialog).toBeVisible();
    await dialog.getByLabel("Title").fill("Welcome <b>aboard</b>");
    await dialog.getByLabel("Message").fill("Line one\nLine two");
    await expect(dialog.getByRole("region", { name: "Preview" })).toContainText("Welcome <b>aboard</b>");
    await dialog.getByRole("button", { name: "Send" }).click();
    await expect(dialog).toBeHidden();
    await expect(options).toBeFocused();

    const box = page.getByRole("region", { name: "Private messages" });
    await expect(box.getByText("Welcome <b>aboard</b>")).toBeVisible();
    await expect(box.getByRole("list", { name: "Deliveries" }).getByRole("listitem")).toHaveText(/Tab S9: Queued/);
  });
});

test("a viewer gets no Options menu (viewers neither change users nor export them)", async ({ page, request }) => {
  const id = `e2e-viewer-${Date.now()}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Viewer Sees" });
  await open(page, user.consoleUrl);
  await expect(page.getByRole("heading", { name: "Viewer Sees", level: 1 })).toBeVisible();
  await expect(page.getByRole("button", { name: "Options" })).toHaveCount(0);
});

test("Load more shows older messages, and a message arriving live keeps them shown", async ({ page, request }) => {
  const id = `e2e-more-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Many Messages" });
  for (let n = 1; n <= 22; n++) {
    await ingest(request, "POST", `/users/${id}/messages`, { title: `Note ${n}`, body: `Body ${n}` });
  }
  await open(page, user.consoleUrl);
  const box = page.getByRole("region", { name: "Private messages" });
  const items = box.locator("li.message");
  await expect(items).toHaveCount(20);
  await expect(items.first()).toContainText("Note 22");
  await box.getByRole("button", { name: "Load more" }).click();
  await expect(items).toHaveCount(22);
  await expect(items.last()).toContainText("Note 1");
  await expect(box.getByRole("button", { name: "Load more" })).toHaveCount(0);

  // A new message reloads the list live; the older ones stay shown.
  await expect(page.getByRole("status").filter({ hasText: "Live" }).first()).toBeVisible();
  await ingest(request, "POST", `/users/${id}/messages`, { title: "Note 23", body: "Body 23" });
  await expect(items.first()).toContainText("Note 23");
  await expect(items).toHaveCount(23);
});
