import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN_STATE, expectNoViolations, hydrated, ingest, open } from "./helpers";

test.use({ storageState: ADMIN_STATE });

/** A fresh user with a located device and two events; returns its userID and console URL. */
async function newUser(request: Parameters<typeof ingest>[0], prefix: string, userName: string) {
  const id = `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName });
  await ingest(request, "PUT", `/devices/${id}-phone`, {
    userID: id,
    platform: "iOS",
    deviceString: "Test Phone",
    locationServicesAuthStatus: "always",
  });
  await ingest(request, "POST", `/devices/${id}-phone/locations`, [
    { latitude: 48.85, longitude: 2.35, accuracy: 10, time: new Date().toISOString() },
  ]);
  await ingest(request, "POST", "/events", [
    { id: `${id}-e1`, type: "app_open", userID: id, deviceID: `${id}-phone`, data: { screen: "home" } },
    { id: `${id}-e2`, type: "purchase", userID: id, data: { amount: 3 } },
  ]);
  return { id, url: user.consoleUrl as string };
}

async function choose(page: Page, item: string) {
  await page.getByRole("button", { name: "Options", exact: true }).click();
  await page.getByRole("menu", { name: "Options" }).getByRole("menuitem", { name: item }).click();
}

test("Options › Export downloads everything as JSON and the events as CSV, and the access log says so", async ({
  page,
  request,
}) => {
  const { id, url } = await newUser(request, "e2e-export", "Export Person");
  await open(page, url);
  const date = new Date().toISOString().slice(0, 10);

  const [json] = await Promise.all([page.waitForEvent("download"), choose(page, "Export (JSON)")]);
  expect(json.suggestedFilename()).toBe(`user-${id}-${date}.json`);
  const exported = JSON.parse(readFileSync((await json.path())!, "utf8"));
  expect(exported.profile.external_id).toBe(id);
  expect(exported.devices).toHaveLength(1);
  expect(exported.locations).toHaveLength(1);
  expect(exported.events.map((e: { event_type: string }) => e.event_type).sort()).toEqual(["app_open", "purchase"]);
  for (const section of ["segments", "messages", "audit"]) expect(Array.isArray(exported[section])).toBe(true);

  const [csv] = await Promise.all([page.waitForEvent("download"), choose(page, "Export events (CSV)")]);
  expect(csv.suggestedFilename()).toBe(`user-${id}-${date}.events.csv`);
  const lines = readFileSync((await csv.path())!, "utf8").trim().split("\n");
  expect(lines[0]).toBe("id,occurred_at,event_type,device_id,session_id,client_id,data");
  expect(lines).toHaveLength(3);

  // The access log lists the view and both exports, newest first.
  await page.reload();
  await hydrated(page);
  const log = page.getByRole("region", { name: "Access log" }).getByRole("listitem");
  await expect(log.nth(0)).toContainText("exported (events CSV)");
  await expect(log.nth(1)).toContainText("exported (JSON)");
  await expect(log.nth(2)).toContainText("viewed the profile");
  await expect(log.nth(2)).toContainText("admin@e2e.test");
});

test("Options › Deactivate hides the user from the list, search and map; Reactivate brings it back", async ({
  page,
  request,
}) => {
  const { id, url } = await newUser(request, "e2e-deact", "Deactivate Person");
  await open(page, url);
  await expect(page.locator(".map-box .leaflet-marker-icon")).toHaveCount(1);

  await choose(page, "Deactivate");
  const dialog = page.getByRole("alertdialog", { name: "Deactivate this user?" });
  await dialog.getByRole("button", { name: "Deactivate" }).click();
  await expect(dialog).toBeHidden();
  const banner = page.locator(".deactivated-banner");
  await expect(banner).toContainText("Deactivated.");
  await expect(page.locator(".map-box .leaflet-marker-icon")).toHaveCount(0);

  await open(page, `/users?q=${encodeURIComponent(id)}`);
  await expect(page.locator("td.user-name")).toHaveCount(0);
  await open(page, `/users?q=${encodeURIComponent(id)}&deactivated=1`);
  await expect(page.locator("td.user-name")).toHaveCount(1);

  await open(page, url);
  await banner.getByRole("button", { name: "Reactivate" }).click();
  await expect(banner).toHaveCount(0);
  await expect(page.locator(".map-box .leaflet-marker-icon")).toHaveCount(1);
  await open(page, `/users?q=${encodeURIComponent(id)}`);
  await expect(page.locator("td.user-name")).toHaveCount(1);
});

test("Options › Delete asks for the userID, deletes, lands on the users list with a notice; the old URL is 404", async ({
  page,
  request,
}) => {
  const { id, url } = await newUser(request, "e2e-delete", "Delete Person");
  await open(page, url);
  await choose(page, "Delete");
  const dialog = page.getByRole("alertdialog", { name: "Delete this user for good?" });
  const confirm = dialog.getByRole("button", { name: "Delete" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel(/Type the userID/).fill(id.slice(0, -1));
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel(/Type the userID/).fill(id);
  await expect(confirm).toBeEnabled();
  await confirm.click();

  await expect(page).toHaveURL(/\/users$/);
  await expect(page.getByRole("status").filter({ hasText: "Deleted user" })).toContainText(id);
  const gone = await page.request.get(url);
  expect(gone.status()).toBe(404);
});

test("Options › Merge into another user moves everything; the old URL leads to the kept user with a notice; Undo merge restores both", async ({
  page,
  request,
}) => {
  const old = await newUser(request, "e2e-merge-old", "Merge Old");
  const kept = await newUser(request, "e2e-merge-kept", "Merge Kept");
  await open(page, old.url);
  await choose(page, "Merge into another user…");
  const dialog = page.getByRole("dialog", { name: "Merge into another user" });
  await dialog.getByLabel("Find the user to keep").fill(kept.id);
  await dialog.getByRole("radio", { name: new RegExp(kept.id) }).check();
  await expect(dialog.getByRole("region", { name: "Moves to Merge Kept" })).toContainText("2 events");
  await expectNoViolations(page);
  await dialog.getByRole("button", { name: "Merge", exact: true }).click();

  const keptUrl = new RegExp(`${kept.url}\\?merged=\\d+$`);
  await expect(page).toHaveURL(keptUrl);
  const banner = page.locator(".merged-banner");
  await expect(banner).toContainText(`${old.id} was merged into this user`);
  await hydrated(page);
  await expectNoViolations(page);
  await expect(page.locator(".devices-box .device-list > li")).toHaveCount(2);
  // The merged user's address now leads to the kept user.
  await page.goto(old.url);
  await expect(page).toHaveURL(keptUrl);
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Merge Kept");

  await banner.getByRole("button", { name: "Undo merge" }).click();
  await expect(page.locator(".unmerged-banner")).toContainText("The merge was undone");
  await expect(page.locator(".merged-banner")).toHaveCount(0);
  await open(page, old.url);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Merge Old");
});
