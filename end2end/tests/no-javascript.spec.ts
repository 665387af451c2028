import { expect, test } from "@playwright/test";
import { ADMIN, VIEWER_STATE } from "./helpers";

// The server-rendered page works before (and without) the wasm: these run
// with JavaScript off, so nothing here waits for hydration.
test.use({ javaScriptEnabled: false });

test("sign in without JavaScript returns to the page asked for, with its search filled in", async ({ page }) => {
  await page.goto("/users?q=ana&deactivated=1");
  await expect(page).toHaveURL(/\/login\?next=%2Fusers%3Fq%3Dana%26deactivated%3D1$/);
  await expect(page.locator("input[name=next]")).toHaveValue("/users?q=ana&deactivated=1");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/users\?q=ana&deactivated=1$/);
  await expect(page.getByRole("searchbox")).toHaveValue("ana");
  await expect(page.getByRole("checkbox", { name: "Show deactivated" })).toBeChecked();

  // The search form works as a plain GET form.
  await page.getByRole("searchbox").fill("carla");
  await page.getByRole("searchbox").press("Enter");
  await expect(page).toHaveURL(/\/users\?q=carla/);
  await expect(page.getByRole("searchbox")).toHaveValue("carla");
});

test.describe("signed in", () => {
  test.use({ storageState: VIEWER_STATE });

  test("the Live page renders its figures and filters without JavaScript; its filter form is a GET form", async ({
    page,
  }) => {
    await page.goto("/live?type=re.notifica.event.application.Open&platform=iOS");
    await expect(page.getByRole("heading", { name: "Live", exact: true })).toBeVisible();
    await expect(page.getByRole("region", { name: "Active now" }).getByRole("link").first()).toHaveAttribute(
      "href",
      "/users?active=1m",
    );
    await expect(page.getByLabel("Event types")).toHaveValue("re.notifica.event.application.Open");
    await expect(page.getByLabel("Platform")).toHaveValue("iOS");
    await page.getByLabel("Platform").fill("Android");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect(page).toHaveURL(/\/live\?type=re\.notifica\.event\.application\.Open&segment=&text=&platform=Android$/);
    await expect(page.getByLabel("Platform")).toHaveValue("Android");
  });
});
