import { expect, test } from "@playwright/test";
import { VIEWER_STATE, ingest, open } from "./helpers";
test.use({ storageState: VIEWER_STATE });
test("debug hydration", async ({ page, request }) => {
  const id = `dbg-${Date.now()}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Dbg" });
  for (const n of [1, 2, 3]) {
    await ingest(request, "POST", "/events", [{ type: "re.notifica.event.application.Open", userID: id, id: `${id}-${n}`, data: { n } }]);
  }
  page.on("console", (m) => console.log("CONSOLE", m.type(), m.text().slice(0, 1500)));
  page.on("pageerror", (e) => console.log("PAGEERROR", e.message.slice(0, 400)));
  for (let i = 0; i < 12; i++) {
    await open(page, user.consoleUrl);
    await page.waitForTimeout(1500);
    console.log("PAUSE enabled?", await page.getByRole("button", { name: "Pause" }).isEnabled());
  }
});
