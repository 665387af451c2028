import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { VIEWER_STATE, ingest, open } from "./helpers";

type Request = Parameters<typeof ingest>[0];

/** A fresh user of the demo app with one located device. */
async function freshUser(request: Request, label: string) {
  const id = `e2e-live-${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: `Live ${label}` });
  await ingest(request, "PUT", `/devices/${id}-d`, { userID: id, platform: "Android", deviceString: "Pixel 8" });
  return { id, name: `Live ${label}`, path: user.consoleUrl as string, device: `${id}-d` };
}

async function postEvent(request: Request, userID: string, deviceID: string, type: string, n: number) {
  await ingest(request, "POST", "/events", [{ type, userID, deviceID, id: `${userID}-${n}`, data: { n, marker: userID } }]);
}

function stream(page: Page) {
  return page.getByRole("region", { name: "Events" });
}

/** Opens the Live page and waits until its stream is connected. */
async function openLive(page: Page, path = "/live") {
  await open(page, path);
  await expect(stream(page).getByRole("status").filter({ hasText: "Live" })).toBeVisible();
}

// Product managers watch: a viewer's session is enough.
test.use({ storageState: VIEWER_STATE });

test("events arrive live with their user; Pause holds them; a top event filters the stream", async ({
  page,
  request,
}) => {
  const user = await freshUser(request, "stream");
  await openLive(page);
  const rows = stream(page).getByRole("list", { name: "Events, newest first" }).getByRole("listitem");

  await postEvent(request, user.id, user.device, "e2e.live.tap", 1);
  const mine = rows.filter({ hasText: user.name });
  await expect(mine).toHaveCount(1);
  await expect(mine.first()).toContainText("Pixel 8");
  await expect(mine.first().getByRole("link", { name: user.name })).toHaveAttribute("href", user.path);

  await stream(page).getByRole("button", { name: "Pause" }).click();
  await postEvent(request, user.id, user.device, "e2e.live.tap", 2);
  await postEvent(request, user.id, user.device, "e2e.live.tap", 3);
  await expect(stream(page).getByRole("button", { name: /^[0-9]+ new events?$/ })).toBeVisible();
  await expect(mine).toHaveCount(1);
  await stream(page).getByRole("button", { name: "Resume" }).click();
  await expect(mine).toHaveCount(3);

  // The top events (refreshed every few seconds) name the new type; its
  // link filters the stream to it, in the URL.
  const top = page.getByRole("region", { name: "Top events, last hour" });
  await expect(top.getByRole("link", { name: /e2e\.live\.tap/i })).toBeVisible({ timeout: 15_000 });
  await top.getByRole("link", { name: /e2e\.live\.tap/i }).click();
  await expect(page).toHaveURL(/\/live\?type=e2e\.live\.tap$/);
  await expect(stream(page).getByRole("status").filter({ hasText: "Live" })).toBeVisible();
  await expect(stream(page).getByLabel("Event types")).toHaveValue("e2e.live.tap");
  const other = await freshUser(request, "other");
  await postEvent(request, other.id, other.device, "e2e.live.other", 1);
  await postEvent(request, user.id, user.device, "e2e.live.tap", 4);
  await expect(rows.filter({ hasText: user.name })).toHaveCount(4);
  await expect(rows.filter({ hasText: other.name })).toHaveCount(0);
});

test("active now links to the users list filtered to those users", async ({ page, request }) => {
  const user = await freshUser(request, "active");
  await postEvent(request, user.id, user.device, "e2e.live.open", 1);
  await openLive(page);
  const active = page.getByRole("region", { name: "Active now" });
  await expect(active.getByRole("link", { name: /in the last 5 minutes/ })).toHaveAttribute("href", "/users?active=5m");
  await active.getByRole("link", { name: /in the last 5 minutes/ }).click();
  await expect(page).toHaveURL(/\/users\?active=5m$/);
  await expect(page.getByText("Active in")).toBeVisible();
  await expect(page.getByRole("link", { name: user.name })).toBeVisible();
});

test("the Live page and a filtered users list have no WCAG 2.1 AA violations", async ({ page, request }) => {
  const user = await freshUser(request, "a11y");
  await ingest(request, "POST", `/devices/${user.device}/locations`, [
    { latitude: 38.72, longitude: -9.14, accuracy: 20, time: new Date().toISOString() },
  ]);
  await postEvent(request, user.id, user.device, "e2e.live.open", 1);
  await openLive(page);
  await expect(page.locator(".live-map .leaflet-marker-icon, .live-map .marker-cluster").first()).toBeVisible();
  for (const path of [null, "/users?active=30m"]) {
    if (path) await open(page, path);
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(", ")})`)).toEqual(
      [],
    );
  }
});

test("a filter from the URL; faster than a person reads, the stream samples; a row leads to the profile", async ({
  page,
  request,
}) => {
  const user = await freshUser(request, "burst");
  const type = `e2e.burst.${Date.now()}`;
  await openLive(page, `/live?type=${type}`);
  await expect(stream(page).getByLabel("Event types")).toHaveValue(type);
  const burst = Array.from({ length: 400 }, (_, n) => ({
    type,
    userID: user.id,
    deviceID: user.device,
    id: `${user.id}-burst-${n}`,
    data: { n },
  }));
  await ingest(request, "POST", "/events", burst);
  await expect(stream(page).getByText(/^[0-9]+ events a second match — more than a person can read/)).toBeVisible();
  await expect(stream(page).getByRole("img", { name: /Matching events a second over the last minute: at most [0-9]+/ })).toBeVisible();
  const rows = stream(page).getByRole("list", { name: "Events, newest first" }).getByRole("listitem");
  // At most 20 rows a second reach the page; the counts stay exact.
  await expect(rows.filter({ hasText: user.name }).first()).toBeVisible();
  expect(await rows.filter({ hasText: user.name }).count()).toBeLessThanOrEqual(40);
  await rows.filter({ hasText: user.name }).first().getByRole("link", { name: user.name }).click();
  await expect(page).toHaveURL(new RegExp(`${user.path}$`));
  await expect(page.getByRole("heading", { name: "User Profile" })).toBeVisible();
});
