import { expect, test } from "@playwright/test";
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
      expect(await page.title()).toBe(`${payload} · Audience`);
      expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
    }
  }
  await open(page, "/users?q=xss");
  await expect(page.locator("td.user-name a", { hasText: PAYLOADS[1] }).first()).toBeVisible();
  expect(await page.evaluate(() => (window as any).__xss)).toBe(0);
});

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
