// Submits a POST Object form (a browser upload) in headless Debian Chromium
// through playwright-core: a local HTML page holding the fields of boto3's
// generate_presigned_post as hidden inputs and a file input, the file
// chosen with setInputFiles, the form submitted as a navigation (no CORS
// involved). test_post_browser.py runs it with:
//   CG_FORM       a JSON file {"url": ..., "fields": {...}, "key": ...}
//   CG_FILE       the file to choose
//   CG_TMP        a scratch directory (the page, the browser profile)
//   CG_CHROMIUM   the browser (default /usr/bin/chromium)
// It prints one `ok:` line per check, then `all checks passed`, and exits
// non-zero on the first failure.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const FORM = JSON.parse(readFileSync(env("CG_FORM"), "utf8"));
const FILE = env("CG_FILE");
const TMP = env("CG_TMP");
const check = (condition, what) => {
  if (!condition) throw new Error(`failed: ${what}`);
  console.log(`ok: ${what}`);
};
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page() {
  const inputs = Object.entries(FORM.fields)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join("\n    ");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>upload</title></head><body>
  <form id="upload" action="${escape(FORM.url)}" method="post" enctype="multipart/form-data">
    ${inputs}
    <input type="file" name="file" id="file">
    <button id="send" type="submit">Upload</button>
  </form>
</body></html>
`;
}

async function main() {
  const html = join(TMP, "post-form.html");
  writeFileSync(html, page());
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(TMP, "chromium-")), {
    executablePath: process.env.CG_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const tab = await browser.newPage();
    await tab.goto(pathToFileURL(html).href);
    await tab.setInputFiles("#file", FILE);
    const [response] = await Promise.all([
      tab.waitForResponse((r) => r.request().method() === "POST", { timeout: 30_000 }),
      tab.click("#send"),
    ]);
    const sent = response.request().headers()["content-type"] || "";
    check(sent.startsWith("multipart/form-data; boundary="), `the browser sent ${sent}`);
    check(response.status() === 201, `the upload answered ${response.status()}`);
    const text = await response.text();
    check(text.includes("<PostResponse>"), "the answer is a PostResponse document");
    const key = FORM.key.replace(/&/g, "&amp;");
    check(text.includes(`<Key>${key}</Key>`), `it names the key ${FORM.key}`);
    check(Boolean(response.headers()["etag"]), "it carries the ETag");
    console.log("all checks passed");
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
