import { expect, test } from "@playwright/test";
import { ADMIN, ADMIN_STATE, VIEWER_STATE, ingest } from "./helpers";

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

test.describe("as an admin", () => {
  test.use({ storageState: ADMIN_STATE });

  test("a property is added with a plain form and the profile shows it", async ({ page, request }) => {
    const id = `e2e-nojs-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const user = await ingest(request, "PUT", `/users/${id}`, { userName: "No JS" });
    await page.goto(user.consoleUrl as string);
    const box = page.getByRole("region", { name: "Properties" });
    await expect(box.getByText("No properties yet.")).toBeVisible();
    await box.getByText("Add a property").click();
    await box.getByLabel("Name", { exact: true }).fill("tier");
    await box.getByLabel("Value", { exact: true }).fill("gold");
    await box.getByRole("button", { name: "Add", exact: true }).click();
    // Back on the profile (the server function answers a form with a redirect).
    await expect(page).toHaveURL(new RegExp(`${user.consoleUrl}\\??$`));
    await expect(box.getByRole("row", { name: /^tier\b/ })).toContainText("gold");
  });

  test("a note is added with a plain form and the profile shows it", async ({ page, request }) => {
    const id = `e2e-nojs-note-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const user = await ingest(request, "PUT", `/users/${id}`, { userName: "No JS Note" });
    await page.goto(user.consoleUrl as string);
    const box = page.getByRole("region", { name: "Notes" });
    await expect(box.getByText("No notes yet.")).toBeVisible();
    await box.getByLabel("New note").fill("Written without JavaScript");
    await box.getByRole("button", { name: "Add note" }).click();
    await expect(page).toHaveURL(new RegExp(`${user.consoleUrl}\\??$`));
    await expect(box.getByRole("listitem").first()).toContainText("Written without JavaScript");
  });

  test("the users list's property filter is a plain form", async ({ page, request }) => {
    const stamp = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const name = `e2e_nojs_${stamp}`;
    for (const [id, value] of [["a", "yes"], ["b", "no"]]) {
      await ingest(request, "PUT", `/users/e2e-nojs-pf-${id}-${stamp}`, {
        userName: `NoJS ${id} ${stamp}`,
        properties: { [name]: value },
      });
    }
    await page.goto(`/users?q=${stamp}`);
    await page.getByText("Filter by property").click();
    await page.getByLabel("Property", { exact: true }).fill(name);
    await page.getByLabel("Condition").selectOption({ label: "is not" });
    await page.getByLabel("Value", { exact: true }).fill("yes");
    await page.getByRole("button", { name: "Add", exact: true }).first().click();
    await expect(page.getByRole("link", { name: `NoJS b ${stamp}` })).toBeVisible();
    await expect(page.getByRole("link", { name: `NoJS a ${stamp}` })).toHaveCount(0);
    // The page's own links use the canonical form.
    await expect(page.getByRole("link", { name: `Remove the filter ${name} is not yes` })).toHaveAttribute(
      "href",
      `/users?q=${stamp}`,
    );
  });
});
