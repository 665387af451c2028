import { expect, test, type Locator, type Page } from "@playwright/test";
import { ADMIN_STATE, hydrated, ingest, open } from "./helpers";

// Each payload sets window.__xss when it runs as script.
const PAYLOADS = [
  "</title><script>window.__xss=1</script><title>",
  "<img src=x onerror=\"window.__xss=1\">",
  "\"'><svg onload=\"window.__xss=1\">",
];

test.use({ storageState: ADMIN_STATE });

test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => {
    (window as any).__xss = 0;
  });
});

test("markup in a userName or userID shows as text and runs nothing", async ({ page, request }) => {
  for (const [n, payload] of PAYLOADS.entries()) {
    const named = await ingest(request, "PUT", `/users/xss-named-${n}`, { userName: payload });
    const byId = await ingest(request, "PUT", `/users/${encodeURIComponent(payload)}`, {});
    for (const user of [named, byId]) {
      await open(page, user.consoleUrl);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(payload);
      await expect(page).toHaveTitle(`${payload} · Audience`);
      expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
    }
  }
  await open(page, "/users?q=xss");
  await expect(page.locator("td.user-name a", { hasText: PAYLOADS[1] }).first()).toBeVisible();
  expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
});

/** No element a payload could have become, under `scope` (the text checks catch the rest). */
async function expectNoInjectedElements(scope: Locator) {
  await expect(scope.locator("script, img, svg, iframe, object, embed, title")).toHaveCount(0);
}

async function expectNothingRan(page: Page) {
  expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
}

test("markup in a segment name shows as text in the chips, the modals and the filtered list, and runs nothing", async ({
  page,
  request,
}) => {
  // Every payload fits a segment name (at most 64 characters).
  for (const payload of PAYLOADS) expect(payload.length).toBeLessThanOrEqual(64);
  const id = `xss-seg-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Segment XSS" });
  for (const payload of PAYLOADS) {
    await ingest(request, "PUT", `/users/${id}/segments/${encodeURIComponent(payload)}`, {});
  }

  // The chips, rendered on the server and hydrated.
  await open(page, user.consoleUrl);
  const box = page.getByRole("region", { name: "Segments" });
  const chips = box.getByRole("list", { name: "Segments of this user" }).getByRole("listitem");
  await expect(chips).toHaveCount(PAYLOADS.length);
  for (const payload of PAYLOADS) {
    const link = box.getByRole("link", { name: payload, exact: true });
    await expect(link).toHaveText(payload);
    await expect(link).toHaveAttribute("title", `Users in segment ${payload}`);
    await expect(box.getByRole("button", { name: `Remove segment ${payload}`, exact: true })).toBeVisible();
  }
  await expectNoInjectedElements(box);
  await expectNothingRan(page);

  // The removal's confirmation (rendered in the browser); Cancel keeps the segment.
  for (const payload of PAYLOADS) {
    await box.getByRole("button", { name: `Remove segment ${payload}`, exact: true }).click();
    const confirm = page.getByRole("alertdialog", { name: "Remove segment?" });
    await expect(confirm.locator("strong")).toHaveText(payload);
    await expectNoInjectedElements(confirm);
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expect(confirm).toBeHidden();
  }
  await expect(chips).toHaveCount(PAYLOADS.length);

  // The New Segment search lists them by name (rendered in the browser).
  await box.getByRole("button", { name: "New Segment" }).click();
  const dialog = page.getByRole("dialog", { name: "Add segments" });
  await dialog.getByRole("combobox", { name: "Search segments" }).fill("window.__xss");
  for (const payload of PAYLOADS) {
    await expect(dialog.getByRole("option", { name: `${payload} (already added)`, exact: true })).toBeVisible();
  }
  await expectNoInjectedElements(dialog);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expectNothingRan(page);

  // Each chip leads to the users list filtered to its segment.
  for (const payload of PAYLOADS) {
    await open(page, user.consoleUrl);
    await box.getByRole("link", { name: payload, exact: true }).click();
    await expect(page).toHaveURL(/\/users\?segment=/);
    await hydrated(page);
    const filter = page.locator(".active-filters");
    await expect(filter.locator(".chip-name")).toHaveText(payload);
    await expect(page.getByRole("link", { name: `Remove the filter segment ${payload}`, exact: true })).toBeVisible();
    await expect(page.locator(".users-table tbody tr", { hasText: id })).toHaveCount(1);
    await expectNoInjectedElements(page.locator("main"));
    await expectNothingRan(page);
  }
});

test("markup in a message title or body shows as text, short or loaded whole, and runs nothing", async ({
  page,
  request,
}) => {
  const id = `xss-msg-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Message XSS" });
  // Longer than the list's 500-character preview: the rest loads on demand.
  const long = "x".repeat(500) + PAYLOADS[1];
  const longTitle = `Long ${PAYLOADS[0]}`;
  // Half before the page opens (rendered on the server), half after (arriving live).
  const [before, after] = [PAYLOADS.slice(0, 2), PAYLOADS.slice(2)];
  for (const payload of before) {
    await ingest(request, "POST", `/users/${id}/messages`, { title: payload, body: payload });
  }

  await open(page, user.consoleUrl);
  const box = page.getByRole("region", { name: "Private messages" });
  const items = box.locator("li.message");
  await expect(items).toHaveCount(before.length);
  await expect(page.getByRole("status").filter({ hasText: "Live" }).first()).toBeVisible();
  for (const payload of after) {
    await ingest(request, "POST", `/users/${id}/messages`, { title: payload, body: payload });
  }
  await ingest(request, "POST", `/users/${id}/messages`, { title: longTitle, body: long });
  await expect(items).toHaveCount(PAYLOADS.length + 1);

  const message = (title: string) =>
    items.filter({ has: page.locator(".message-title", { hasText: new RegExp(`^${escapeRegExp(title)}$`) }) });
  for (const payload of PAYLOADS) {
    const item = message(payload);
    await expect(item).toHaveCount(1);
    await expect(item.locator(".message-title")).toHaveText(payload);
    // The body shows when the message is opened.
    await item.locator("summary").click();
    await expect(item.locator(".message-body")).toBeVisible();
    await expect(item.locator(".message-body")).toHaveText(payload);
  }
  const item = message(longTitle);
  await expect(item.locator(".message-title")).toHaveText(longTitle);
  await item.locator("summary").click();
  await expect(item.locator(".message-body")).toHaveText("x".repeat(500));
  await item.getByRole("button", { name: "Show the whole message" }).click();
  await expect(item.locator(".message-body")).toHaveText(long);
  await expectNoInjectedElements(box);
  await expectNothingRan(page);

  // All of them rendered on the server.
  await page.reload();
  await hydrated(page);
  await expect(items).toHaveCount(PAYLOADS.length + 1);
  for (const payload of PAYLOADS) {
    await expect(message(payload).locator(".message-title")).toHaveText(payload);
    await expect(message(payload).locator(".message-body")).toHaveText(payload);
  }
  await expectNoInjectedElements(box);
  await expectNothingRan(page);
});

function escapeRegExp(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Defence in depth: even if escaping were lost, the CSP blocks injected script.
for (const withCsp of [true, false]) {
  test(`an injected inline script ${withCsp ? "is blocked by the CSP" : "runs without the CSP (control)"}`, async ({
    page,
    request,
  }) => {
    const user = await ingest(request, "PUT", "/users/csp-check", { userName: "CSP check" });
    await page.route(`**${user.consoleUrl}`, async (route) => {
      const response = await route.fetch();
      const headers = response.headers();
      delete headers["content-length"];
      if (!withCsp) delete headers["content-security-policy"];
      // In <head>, as an escaping bug in the title would put it.
      const body = (await response.text()).replace("</head>", "<script>window.__xss=1</script></head>");
      await route.fulfill({ response, headers, body });
    });
    await page.goto(user.consoleUrl);
    await hydrated(page);
    expect(await page.evaluate(() => (window as any).__xss)).toBe(withCsp ? 0 : 1);
  });
}
