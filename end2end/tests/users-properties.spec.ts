import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { ADMIN_STATE, VIEWER_STATE, ingest, open } from "./helpers";

/** Three users of the demo app with a property named for this run. */
async function seed(request: Parameters<typeof ingest>[0], label: string) {
  const stamp = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const name = `e2e_${label}_${stamp}`;
  const users = [
    { id: `e2e-pf-gold-${stamp}`, userName: `Gold ${stamp}`, value: "gold", seats: 12 },
    { id: `e2e-pf-silver-${stamp}`, userName: `Silver ${stamp}`, value: "silver", seats: 3 },
    { id: `e2e-pf-none-${stamp}`, userName: `Plain ${stamp}`, value: null, seats: 1 },
  ];
  for (const u of users) {
    await ingest(request, "PUT", `/users/${u.id}`, {
      userName: u.userName,
      properties: { [name]: u.value, [`${name}_seats`]: u.seats },
    });
  }
  return { name, stamp };
}

test.describe("as an admin", () => {
  test.use({ storageState: ADMIN_STATE });

  test("the filter builder and the column picker write the view into the URL", async ({ page, request }) => {
    const { name, stamp } = await seed(request, "tier");
    await open(page, `/users?q=${stamp}`);
    await expect(page.getByRole("link", { name: `Plain ${stamp}` })).toBeVisible();

    await page.getByText("Filter by property").click();
    const property = page.getByLabel("Property", { exact: true });
    await property.fill(name.slice(0, -2));
    // The name is suggested while typing.
    await expect(page.locator(`#property-names option[value="${name}"]`)).toHaveCount(1);
    await property.fill(name);
    await page.getByLabel("Condition").selectOption({ label: "is" });
    await page.getByLabel("Value", { exact: true }).fill("gold");
    await page.getByRole("button", { name: "Add", exact: true }).first().click();
    await expect(page).toHaveURL(new RegExp(`prop\\.${name}=gold`));
    await expect(page.getByRole("link", { name: `Gold ${stamp}` })).toBeVisible();
    await expect(page.getByRole("link", { name: `Silver ${stamp}` })).toHaveCount(0);
    await expect(page.getByText(`${name} is gold`)).toBeVisible();

    // A column of the property, kept in the URL too.
    await page.getByText("Columns").click();
    await page.getByLabel(/Show a property/).fill(name);
    await page.getByRole("button", { name: "Add", exact: true }).last().click();
    await expect(page).toHaveURL(new RegExp(`cols=${name}`));
    await expect(page.getByRole("columnheader", { name: new RegExp(name) })).toBeVisible();
    await expect(page.getByRole("row", { name: new RegExp(`Gold ${stamp}`) })).toContainText("gold");

    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

    // Removing the filter's chip keeps the column and the search.
    await page.getByRole("link", { name: `Remove the filter ${name} is gold` }).click();
    await expect(page.getByRole("link", { name: `Silver ${stamp}` })).toBeVisible();
    await expect(page).toHaveURL(new RegExp(`cols=${name}`));
  });
});

test.describe("as a viewer", () => {
  test.use({ storageState: VIEWER_STATE });

  test("a shared URL filters by numbers and by a missing property", async ({ page, request }) => {
    const { name, stamp } = await seed(request, "seats");
    await open(page, `/users?prop.${name}_seats:gt=2&q=${stamp}`);
    await expect(page.getByRole("link", { name: `Gold ${stamp}` })).toBeVisible();
    await expect(page.getByRole("link", { name: `Silver ${stamp}` })).toBeVisible();
    await expect(page.getByRole("link", { name: `Plain ${stamp}` })).toHaveCount(0);
    await expect(page.getByText("2 users")).toBeVisible();

    await open(page, `/users?prop.${name}:missing&q=${stamp}`);
    await expect(page.getByRole("link", { name: `Plain ${stamp}` })).toBeVisible();
    await expect(page.getByRole("link", { name: `Gold ${stamp}` })).toHaveCount(0);

    // A filter that cannot be one says why.
    await open(page, `/users?prop.${name}:gt=lots`);
    await expect(page.getByRole("alert")).toContainText("compares numbers and dates");
  });
});
