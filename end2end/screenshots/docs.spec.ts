import { expect, test, type Page } from "@playwright/test";
import { ADMIN_STATE, VIEWER_STATE, ingest, open } from "../tests/helpers";

/** Where the documentation's screenshots go (docs/CONSOLE.md, README.md). */
const shot = (name: string) => `../docs/screenshots/${name}.png`;

test.use({ storageState: ADMIN_STATE });

/** The profile of the demo user with the most devices on the first page. */
async function demoProfile(page: Page): Promise<string> {
  await open(page, "/users?sort=last_seen");
  const first = page.getByRole("table").getByRole("link").first();
  const href = await first.getAttribute("href");
  expect(href).toBeTruthy();
  return href as string;
}

test("the documentation's screenshots", async ({ page, browser }) => {
  test.setTimeout(120_000);
  // A shared view: a property filter, property columns, the builder open.
  await open(page, "/users?prop.plan:not=free&cols=plan,seats,signup_source");
  await page.getByText("Filter by property").click();
  await expect(page.getByRole("columnheader", { name: /seats/ })).toBeVisible();
  await page.screenshot({ path: shot("users") });

  const profile = await demoProfile(page);
  await open(page, profile);
  await expect(page.locator("#activity-search [data-ready=true]")).toBeAttached();
  // A note, and a viewer with the profile open beside the admin.
  const notes = page.getByRole("region", { name: "Notes" });
  await notes.getByLabel("New note").fill("Asked about the annual plan on the phone.\nFollow up after the trial: https://example.com/crm/4127");
  await notes.getByRole("button", { name: "Add note" }).click();
  await expect(notes.getByRole("listitem").first()).toBeVisible();
  const viewerContext = await browser.newContext({ storageState: VIEWER_STATE });
  await open(await viewerContext.newPage(), profile);
  await expect(page.locator(".also-viewing")).toContainText("Also viewing");
  await page.screenshot({ path: shot("profile"), fullPage: true });
  await viewerContext.close();

  const segments = page.getByRole("region", { name: "Segments" });
  await segments.getByRole("button", { name: "New Segment" }).click();
  const modal = page.getByRole("dialog");
  await expect(modal).toBeVisible();
  await page.keyboard.type("a");
  await expect(modal.getByRole("option").first()).toBeVisible();
  await modal.screenshot({ path: shot("segments-modal") });
  await modal.getByRole("button", { name: "Close" }).click();
  await expect(modal).toBeHidden();

  const activity = page.getByRole("region", { name: "Activity", exact: true });
  await activity.getByRole("link", { name: "7 days" }).click();
  await expect(activity.locator("figure.histogram")).toBeVisible();
  await activity.screenshot({ path: shot("activity") });

  await page.getByRole("button", { name: "Options", exact: true }).click();
  const menu = page.getByRole("menu", { name: "Options" });
  await expect(menu).toBeVisible();
  await page.screenshot({ path: shot("options-menu"), clip: await clipAround(page, menu) });
  await menu.getByRole("menuitem", { name: "Send message" }).click();
  const send = page.getByRole("dialog");
  await expect(send).toBeVisible();
  await send.screenshot({ path: shot("send-message") });
  await send.getByRole("button", { name: "Close" }).click();
  await expect(send).toBeHidden();

  const device = page.getByRole("region", { name: "Devices" }).getByRole("link").first();
  await device.click();
  await expect(page).toHaveURL(/\/devices\/\d+/);
  await expect(page.locator(".app-root[data-hydrated=true]")).toBeAttached();
  await page.screenshot({ path: shot("device"), fullPage: true });
});

test("the Live page's screenshot", async ({ page, request }) => {
  test.setTimeout(120_000);
  // A minute of activity from a few people in three cities.
  const cities = [
    [38.72, -9.14],
    [38.71, -9.13],
    [41.15, -8.61],
    [52.37, 4.89],
  ];
  const types = ["re.notifica.event.application.Open", "purchase", "screen.view", "screen.view", "add_to_cart"];
  for (let i = 0; i < 8; i++) {
    const id = `live-shot-${i}`;
    await ingest(request, "PUT", `/users/${id}`, { userName: ["Ana Silva", "Bruno Costa", "Carla Pereira", "Daan de Vries"][i % 4] + ` ${i}` });
    await ingest(request, "PUT", `/devices/${id}-d`, { userID: id, platform: i % 3 ? "iOS" : "Android", deviceString: "Phone" });
    const [lat, lng] = cities[i % cities.length];
    await ingest(request, "POST", `/devices/${id}-d/locations`, [{ latitude: lat + i / 500, longitude: lng, time: new Date().toISOString() }]);
    const events = Array.from({ length: 3 + i }, (_, n) => ({
      type: types[(i + n) % types.length],
      userID: id,
      deviceID: `${id}-d`,
      time: new Date(Date.now() - (2 + i - n) * 170_000).toISOString(),
      data: { screen: ["home", "cart", "product"][n % 3] },
    }));
    await ingest(request, "POST", "/events", events);
  }
  await open(page, "/live");
  await expect(page.locator(".live-map .leaflet-marker-icon, .live-map .marker-cluster").first()).toBeVisible();
  await page.screenshot({ path: shot("live") });
});

/** The page's top right corner with the menu in it. */
async function clipAround(page: Page, menu: ReturnType<Page["getByRole"]>) {
  const box = await menu.boundingBox();
  const width = page.viewportSize()?.width ?? 1440;
  const bottom = box ? box.y + box.height + 16 : 400;
  return { x: width - 720, y: 0, width: 720, height: Math.max(bottom, 200) };
}

test("the profile on a phone", async ({ page }) => {
  const profile = await demoProfile(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await open(page, profile);
  await expect(page.getByRole("region", { name: "Properties" })).toBeVisible();
  await page.screenshot({ path: shot("profile-phone"), fullPage: true });
});
