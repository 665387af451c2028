import { existsSync, statSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN_STATE, open } from "./helpers";

test.use({ storageState: ADMIN_STATE });

/** Bytes on the wire (compressed) of every response of a first visit, by kind. */
async function firstLoad(page: Page, path: string) {
  const sizes: { url: string; bytes: number; encoding: string; cache: string }[] = [];
  page.on("requestfinished", async (request) => {
    const response = await request.response();
    if (!response) return;
    const timing = await request.sizes();
    const headers = await response.allHeaders();
    sizes.push({
      url: new URL(request.url()).pathname,
      bytes: timing.responseBodySize,
      encoding: headers["content-encoding"] ?? "",
      cache: headers["cache-control"] ?? "",
    });
  });
  await open(page, path);
  await page.waitForLoadState("networkidle");
  return sizes;
}

test("a first visit loads the bundle compressed, with hashed names cached for good; bytes recorded", async ({
  page,
}, info) => {
  const users = await firstLoad(page, "/users");
  const wasm = users.filter((r) => r.url.startsWith("/pkg/") && r.url.endsWith(".wasm"));
  const main = wasm.find((r) => r.url.startsWith("/pkg/audience."));
  const js = users.find((r) => r.url.startsWith("/pkg/audience.") && r.url.endsWith(".js"));
  const css = users.find((r) => r.url.startsWith("/pkg/") && r.url.endsWith(".css"));
  expect(main, JSON.stringify(users)).toBeTruthy();
  for (const file of [...wasm, js!, css!]) {
    expect(file.encoding, file.url).toMatch(/^(br|gzip)$/);
    // cargo-leptos `hash-files`: audience.<hash>.wasm, chunk_7.<hash>.wasm…, cached for a year.
    expect(file.url).toMatch(/^\/pkg\/[A-Za-z0-9_]+\.[A-Za-z0-9_-]{8,}\.(wasm|js|css)$/);
    expect(file.cache).toBe("public, max-age=31536000, immutable");
  }
  // Compressed at build (`cargo leptos build --release --precompress`, the
  // site serve-e2e.sh serves): each wasm file goes out as the file built beside it.
  for (const file of wasm) {
    const built = `../target/site${file.url}.${file.encoding === "br" ? "br" : "gz"}`;
    expect(existsSync(built), built).toBe(true);
    expect(file.bytes).toBe(statSync(built).size);
  }
  // Split by route (`cargo leptos build --split`): Users is in the main
  // module (the console opens there); no other chunk loads with it: not
  // the profile's, the device page's or the sign-in form's, nor the bulk
  // bar's (loaded when something is first selected).
  expect(wasm.map((r) => r.url.replace(/\..*/, "")), JSON.stringify(wasm)).toEqual(["/pkg/audience"]);
  // The size bound, counted on the gzip copies served to browsers without
  // brotli (this one got brotli, smaller still). A size, not a timing. The
  // goal is 250 KB (docs/BENCHMARKS.md judges it); the users list's
  // property filter builder and column picker, still in the main module,
  // take the first visit past it, so this bound stops further growth.
  const gzipped = wasm.reduce((sum, file) => sum + statSync(`../target/site${file.url}.gz`).size, 0);
  expect(gzipped, JSON.stringify(wasm)).toBeLessThanOrEqual(300_000);
  const page1 = users.find((r) => r.url === "/users");
  expect(page1?.encoding).toMatch(/^(br|gzip)$/);
  const total = (list: typeof users) => list.reduce((sum, r) => sum + Math.max(r.bytes, 0), 0);
  // Figures for docs, not a timed assertion.
  const line = `first load of /users: ${total(users)} B on the wire, wasm ${total(wasm)} B (${main!.encoding}) in ${wasm.length} files, ${gzipped} B as gzip`;
  info.annotations.push({ type: "first load of /users", description: line });
  console.log(line);

  // Then a profile: its chunks (map, charts, dialogs) load with it.
  const before = users.length;
  await page.locator("td.user-name a").first().click();
  await expect(page.getByRole("heading", { name: "User Profile" })).toBeVisible();
  await page.waitForLoadState("networkidle");
  const profileWasm = users.slice(before).filter((r) => r.url.endsWith(".wasm"));
  expect(profileWasm.some((r) => r.url.includes("profile_route")), JSON.stringify(profileWasm)).toBe(true);
  console.log(`then a profile: ${total(profileWasm)} B more wasm in ${profileWasm.length} files`);

  // A second visit in the same browser: the hashed bundle comes from its cache.
  const again = await page.context().newPage();
  const second = await firstLoad(again, "/users");
  await again.locator("td.user-name a").first().click();
  await expect(again.getByRole("heading", { name: "User Profile" })).toBeVisible();
  await again.waitForLoadState("networkidle");
  expect(second.some((r) => r.url.endsWith(".wasm") && r.bytes > 0), JSON.stringify(second)).toBe(false);
  console.log(`second visit, /users then a profile: ${total(second)} B on the wire (the bundle from the cache)`);
});
