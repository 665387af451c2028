import { expect, test } from "@playwright/test";
import { VIEWER_STATE, apiKey, ingest, open } from "./helpers";

test.use({ storageState: VIEWER_STATE });

test("a message shows queued, then delivered after an inbox read, then opened, without reload", async ({
  page,
  request,
}) => {
  const id = `e2e-msg-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const user = await ingest(request, "PUT", `/users/${id}`, { userName: "Message Person" });
  await ingest(request, "PUT", `/devices/${id}-phone`, { userID: id, platform: "iOS", deviceString: "Pixel Phone" });
  await open(page, user.consoleUrl);
  const box = page.getByRole("region", { name: "Private messages" });
  await expect(box.getByText("No private messages yet.")).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Live" }).first()).toBeVisible();

  const sent = await ingest(request, "POST", `/users/${id}/messages`, { title: "Your order", body: "It shipped." });
  const delivery = box.getByRole("list", { name: "Deliveries" }).getByRole("listitem");
  await expect(box.getByText("Your order")).toBeVisible();
  await expect(delivery).toHaveText(/Pixel Phone: Queued/);

  const auth = { Authorization: `Bearer ${apiKey()}` };
  const inbox = await request.get(`/api/v1/devices/${id}-phone/inbox`, { headers: auth });
  expect(inbox.status()).toBe(200);
  await expect(delivery).toHaveText(/Pixel Phone: Delivered/);

  const opened = await request.post(`/api/v1/devices/${id}-phone/inbox/${sent.messageId}/open`, { headers: auth });
  expect(opened.status()).toBe(200);
  await expect(delivery).toHaveText(/Pixel Phone: Opened/);
  await expect(box.locator('[data-status="opened"]')).toHaveCount(1);
});
