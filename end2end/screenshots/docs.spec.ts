import { expect, test, type Page } from "@playwright/test";
import { ADMIN_STATE, open } from "../tests/helpers";

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

test("the documentation's screenshots", async ({ page }) => {
  test.setTimeout(120_000);
  await open(page, "/users");
  await page.screenshot({ path: shot("users") });

  const profile = await demoProfile(page);
  await open(page, profile);
  await expect(page.locator("#activity-search [data-ready=true]")).toBeAttached();
  await page.screenshot({ path: shot("profile"), fullPage: true });

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

/** The page's top right corner with the menu in it. */
async function clipAround(page: Page, menu: ReturnType<Page["getByRole"]>) {
  const box = await menu.boundingBox();
  const width = page.viewportSize()?.width ?? 1440;
  const bottom = box ? box.y + box.height + 16 : 400;
  return { x: width - 720, y: 0, width: 720, height: Math.max(bottom, 200) };
}
