import { expect, test, type Page } from "@playwright/test";
import { VIEWER_STATE, ingest, open } from "./helpers";

/** A fresh user of the demo app (no events yet): its userID and profile path. */
async function freshUser(request: Parameters<typeof ingest>[0], label: string) {
  const id = `e2e-${label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: `Activity ${label}` });
  return { id, path: user.consoleUrl as string };
}

async function postEvent(request: Parameters<typeof ingest>[0], userID: string, n: number) {
  await ingest(request, "POST", "/events", [
    { type: "re.notifica.event.application.Open", userID, id: `${userID}-${n}`, data: { n, screen: "home" } },
  ]);
}

function latest(page: Page) {
  return page.getByRole("region", { name: "Latest activity" });
}

/** Opens a profile and waits until its boxes have hydrated: the root hydrates
 * before the content of its Suspense boundaries, and a click in between is
 * routed without the boxes following it. */
async function openProfile(page: Page, path: string) {
  await open(page, path);
  await expect(latest(page).getByRole("button", { name: "Pause" })).toBeEnabled();
  await expect(page.locator("#activity-search [data-ready=true]")).toBeAttached();
}

// Product managers watch: a viewer's session is enough.
test.use({ storageState: VIEWER_STATE });

test("an ingested event appears live; Pause holds new ones and Resume shows them", async ({ page, request }) => {
  const user = await freshUser(request, "live");
  await openProfile(page, user.path);
  const box = latest(page);
  await expect(box.getByText("No activity in the last hour.")).toBeVisible();
  await expect(box.getByRole("status").filter({ hasText: "Live" })).toBeVisible();

  await postEvent(request, user.id, 1);
  const rows = box.getByRole("list", { name: "Latest events" }).getByRole("listitem");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Application opened");
  // The data opens to pretty JSON.
  await rows.first().locator("summary").click();
  await expect(rows.first().locator("pre")).toContainText('"screen": "home"');

  await box.getByRole("button", { name: "Pause" }).click();
  await postEvent(request, user.id, 2);
  await postEvent(request, user.id, 3);
  await expect(box.getByText("2 new events")).toBeVisible();
  await expect(rows).toHaveCount(1);
  await box.getByRole("button", { name: "Resume" }).click();
  await expect(rows).toHaveCount(3);
  await expect(box.getByText("2 new events")).toHaveCount(0);
});

test("search a period: the histogram counts it, a bar narrows it, the timeline merges it", async ({ page, request }) => {
  const user = await freshUser(request, "search");
  for (const n of [1, 2, 3]) {
    await postEvent(request, user.id, n);
  }
  await openProfile(page, user.path);
  const search = page.getByRole("region", { name: "Activity", exact: true });
  await search.getByRole("link", { name: "24 hours" }).click();
  await expect(page).toHaveURL(/from=24h/);
  await expect(search.getByRole("link", { name: "24 hours" })).toHaveAttribute("aria-current", "true");
  await expect(search.locator("figure.histogram figcaption")).toContainText("3 events in this period, per hour");
  const found = search.getByRole("list", { name: "Events found" }).getByRole("listitem");
  await expect(found).toHaveCount(3);

  // The bar holding the events narrows the period to its hour.
  await search.locator("figure.histogram a[aria-label$=': 3 events']").click();
  await expect(page).toHaveURL(/from=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\dZ&to=/);
  // An hour: per minute (the narrowed search has rendered).
  await expect(search.locator("figure.histogram figcaption")).toContainText("3 events in this period, per minute");
  await expect(found).toHaveCount(3);

  // Text in data.
  await search.getByLabel("Text in data").fill('"n":2');
  await search.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/q=%22n%22%3A2/);
  await expect(search.locator("figure.histogram figcaption")).toContainText("1 event in this period");
  await expect(found).toHaveCount(1);

  // A period that ends before it starts says so.
  await page.goto(`${user.path}?from=2026-01-02T00:00&to=2026-01-01T00:00`);
  await expect(page.getByRole("region", { name: "Activity", exact: true }).getByRole("alert")).toBeVisible();

  await openProfile(page, user.path);
  await page.getByRole("link", { name: "Unified timeline" }).click();
  await expect(page).toHaveURL(/view=timeline/);
  const timeline = page.getByRole("list", { name: "Unified timeline" }).getByRole("listitem");
  await expect(timeline.filter({ hasText: "Application opened" })).toHaveCount(3);
  await expect(timeline.first()).toContainText("Event");
});

test("the Activity box hydrates on every load: 100 loads in a row, each answers a click in place", async ({
  browser,
  request,
}) => {
  test.setTimeout(600_000);
  const user = await freshUser(request, "loads");
  await postEvent(request, user.id, 1);
  for (let load = 1; load <= 100; load++) {
    // A new browser context each time: a first visit, with nothing cached
    // (the profile's wasm chunk is fetched while the page hydrates), and
    // alternating between two periods in the URL.
    const context = await browser.newContext({ storageState: VIEWER_STATE });
    const page = await context.newPage();
    const preset = load % 2 === 0 ? "24h" : "7d";
    const other = preset === "24h" ? "7 days" : "24 hours";
    await openProfile(page, `${user.path}?from=${preset}`);
    // A mark on the document: a full page load would drop it.
    await page.evaluate((n) => ((window as unknown as { loadMark: number }).loadMark = n), load);
    const search = page.getByRole("region", { name: "Activity", exact: true });
    await search.getByRole("link", { name: other }).click();
    await expect(search.getByRole("link", { name: other }), `load ${load}`).toHaveAttribute("aria-current", "true");
    await expect(search.getByRole("list", { name: "Events found" }).getByRole("listitem"), `load ${load}`).toHaveCount(1);
    const mark = await page.evaluate(() => (window as unknown as { loadMark?: number }).loadMark);
    expect(mark, `load ${load} answered the click without a page load`).toBe(load);
    await context.close();
  }
});
