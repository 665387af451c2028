import { expect, test, type Page } from "@playwright/test";
import { VIEWER_STATE, hydrated, ingest, open } from "./helpers";

test.use({ storageState: VIEWER_STATE });

type Request = Parameters<typeof ingest>[0];

/** A fresh user with three devices: two located with permission, one with a
 * fix but no permission. Returns the userID, profile path and device ids. */
async function userWithDevices(request: Request) {
  const id = `e2e-map-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Map Person" });
  const devices = [
    { deviceID: `${id}-a`, model: "Phone A", status: "always", lat: 52.37, lng: 4.89 },
    { deviceID: `${id}-b`, model: "Phone B", status: "use", lat: 48.86, lng: 2.35 },
    { deviceID: `${id}-c`, model: "Phone C", status: "none", lat: 51.51, lng: -0.13 },
  ];
  for (const d of devices) {
    await ingest(request, "PUT", `/devices/${d.deviceID}`, {
      userID: id,
      platform: "iOS",
      deviceString: d.model,
      locationServicesAuthStatus: d.status,
    });
    // A short trail, the newest last.
    await ingest(request, "POST", `/devices/${d.deviceID}/locations`, [
      { latitude: d.lat - 0.01, longitude: d.lng, accuracy: 30, time: new Date(Date.now() - 60_000).toISOString() },
      { latitude: d.lat, longitude: d.lng, accuracy: 20, time: new Date(Date.now() - 30_000).toISOString() },
    ]);
  }
  return { id, path: user.consoleUrl as string, devices };
}

function markers(page: Page) {
  return page.locator(".map-box .leaflet-marker-icon");
}

async function openProfile(page: Page, path: string) {
  await open(page, path);
  await expect(markers(page)).toHaveCount(2);
}

test("the profile map shows located devices only, moves live, and survives navigation", async ({ page, request }) => {
  const user = await userWithDevices(request);
  await openProfile(page, user.path);
  const devicesBox = page.getByRole("region", { name: "Devices", exact: true });
  await expect(devicesBox.getByRole("listitem")).toHaveCount(3);
  const mapBox = page.getByRole("region", { name: "Map", exact: true });
  await expect(mapBox).toContainText("Not shown: 1 device without location permission.");
  await expect(page.locator(".leaflet-container")).toHaveCount(1);
  // Markers are named for screen readers and the popup text is the device's.
  const markerA = page.locator('.leaflet-marker-icon[title="Phone A (iOS)"]');
  await expect(markerA).toHaveCount(1);

  // A new location through the ingest API moves the marker on the open page.
  const before = await markerA.evaluate((el) => (el as HTMLElement).style.transform);
  await expect(page.getByRole("status").filter({ hasText: "Live" }).first()).toBeVisible();
  await ingest(request, "POST", `/devices/${user.devices[0].deviceID}/locations`, {
    latitude: 50.85,
    longitude: 4.35,
    accuracy: 15,
  });
  await expect(mapBox.locator(".position-list")).toContainText("50.85000, 4.35000");
  await expect.poll(() => markerA.evaluate((el) => (el as HTMLElement).style.transform)).not.toBe(before);

  // The device's page: its trail on its own map.
  await devicesBox.getByRole("link", { name: /Phone A/ }).click();
  await expect(page).toHaveURL(/\/devices\/\d+$/);
  await expect(page.getByRole("heading", { name: "Phone A (iOS)", level: 1 })).toBeVisible();
  await expect(page.getByText("3 recorded positions")).toBeVisible();
  await expect(page.locator(".map-box .leaflet-marker-icon")).toHaveCount(1);
  await expect(page.locator(".map-box path.leaflet-interactive")).not.toHaveCount(0);
  await expect(page.locator(".leaflet-container")).toHaveCount(1);

  // Back to the profile (client-side) and forth: still exactly two markers, one map.
  await page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: "Map Person" }).click();
  await expect(page).toHaveURL(new RegExp(`${user.path}$`));
  await expect(markers(page)).toHaveCount(2);
  await expect(page.locator(".leaflet-container")).toHaveCount(1);
  await page.goBack();
  await expect(page.locator(".map-box .leaflet-marker-icon")).toHaveCount(1);
  await page.goForward();
  await expect(markers(page)).toHaveCount(2);
  await expect(page.locator(".leaflet-container")).toHaveCount(1);
});

test("a device of another app or an unknown device is a real 404", async ({ page }) => {
  const response = await page.goto("/devices/999999999");
  expect(response?.status()).toBe(404);
  await hydrated(page);
  await expect(page.getByRole("alert")).toContainText("There is no such device in this app.");
});
