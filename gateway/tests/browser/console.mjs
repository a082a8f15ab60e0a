// Drives the operator console in headless Debian Chromium (playwright-core).
// gateway/tests/console.rs starts the gateway, sends S3 traffic and runs
// this script with:
//   CG_ADMIN        http://127.0.0.1:PORT of the admin listener
//   CG_ADMIN_TOKEN  the admin token
//   CG_POLICY_DIR   the gateway's policy directory
//   CG_DENY_POLICY  the @id of the forbid policy that denied requests
//   CG_TMP          where screenshots go
//   CG_CHROMIUM     the browser (default /usr/bin/chromium)
//   CG_SCREENSHOT_DIR  where the screenshots are kept (default CG_TMP)
// It prints one `ok:` line per check and exits non-zero on the first failure.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ADMIN = env("CG_ADMIN");
const TOKEN = env("CG_ADMIN_TOKEN");
const POLICY_DIR = env("CG_POLICY_DIR");
const DENY_POLICY = env("CG_DENY_POLICY");
const TMP = env("CG_TMP");
const SHOTS = process.env.CG_SCREENSHOT_DIR || TMP;
const started = Date.now();
// Replaces a policy file in one rename, so the watcher sees one change.
const writePolicy = (name, text) => {
  const temporary = join(POLICY_DIR, `.${name}.tmp`);
  writeFileSync(temporary, text);
  renameSync(temporary, join(POLICY_DIR, name));
};
const ok = (what) => console.log(`ok: ${what} (${Date.now() - started} ms)`);
const check = (condition, what) => {
  if (!condition) throw new Error(`failed: ${what}`);
  ok(what);
};

// Without the token (or with a wrong one) every console path answers 401 JSON.
async function unauthorizedChecks() {
  const paths = ["/console", "/console/console.js", "/console/api/status", "/console/api/quotas",
    "/console/api/traffic", "/console/api/decisions", "/console/api/choices", "/quotas"];
  // Wrong tokens count against this address: after three it must wait
  // (429 with Retry-After, the token untested) before presenting another.
  let retryAfter = 0;
  for (const path of paths) {
    for (const headers of [{}, { authorization: "Bearer wrong-token" }]) {
      const response = await fetch(ADMIN + path, { headers, redirect: "manual" });
      const body = await response.json();
      if (response.status === 429) retryAfter = Number(response.headers.get("retry-after"));
      check((response.status === 401 && body.error === "unauthorized") ||
        (response.status === 429 && body.error === "too_many_attempts" && headers.authorization),
        `${path} without the right token answers 401 JSON, or 429 once the address must wait (${JSON.stringify(headers)})`);
    }
  }
  check(retryAfter >= 1, `wrong bearer tokens make the address wait ${retryAfter} s`);
  await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
  for (const path of ["/console/api/decide", "/console/api/candidate"]) {
    const response = await fetch(ADMIN + path, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    check(response.status === 401, `POST ${path} without the token answers 401`);
  }
  const open = await fetch(ADMIN + "/metrics");
  check(open.status === 200, "/metrics stays open for Prometheus");
  const status = await fetch(ADMIN + "/console/api/status", { headers: { authorization: `Bearer ${TOKEN}` } });
  check(status.status === 200, "the Bearer token opens /console/api/status");
  const csp = status.headers.get("content-security-policy") || "";
  check(csp.includes("default-src 'self'"), "console answers carry CSP default-src 'self'");
  const oversize = await fetch(ADMIN + "/console/api/candidate", {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ text: "x".repeat(300 * 1024) }),
  });
  check(oversize.status === 413, "a candidate over the size cap answers 413");
  return (await status.json()).policy.generation;
}

// The console attacked from other pages in the same browser: a service on
// another port of 127.0.0.1 (same-site, so the SameSite=Strict cookie rides
// along) posting a logout form, a page on a rebinding DNS name, and the
// session cookie replayed after logout.
async function attackChecks(browser, page) {
  const admin = new URL(ADMIN);
  const attacker = `http://127.0.0.1:${Number(admin.port) + 1}/attack.html`;
  const evil = await browser.newPage();
  await evil.route(attacker, (route) => route.fulfill({
    contentType: "text/html",
    body: `<form id="f" method="post" action="${ADMIN}/console/logout"></form>` +
      `<script>document.getElementById("f").submit()</script>`,
  }));
  const [forged] = await Promise.all([
    evil.waitForResponse(ADMIN + "/console/logout"),
    evil.goto(attacker),
  ]);
  check(forged.status() === 403, `a logout form posted from another port is refused (${forged.status()})`);
  const alive = await page.evaluate(async () => (await fetch("/console/api/status")).status);
  check(alive === 200, "the session survives the forged logout");

  const rebound = await evil.goto(`http://rebind.evil.test:${admin.port}/console/api/status`);
  check(rebound.status() === 421, `a rebinding DNS name gets 421 (${rebound.status()})`);
  await evil.close();

  const [cookie] = (await browser.cookies(ADMIN)).filter((c) => c.name === "cedargate_console");
  await Promise.all([page.waitForURL(ADMIN + "/console/login"), page.click("header form button")]);
  ok("logged out with the page's button");
  await browser.addCookies([cookie]);
  const replayed = await page.evaluate(async () => (await fetch("/console/api/status")).status);
  check(replayed === 401, `the cookie replayed after logout answers 401 (${replayed})`);
}

// A PNG's distinct colours (8-bit RGB or RGBA, non-interlaced, as Chromium writes them).
function pngColours(buffer) {
  let offset = 8;
  let width = 0, height = 0, channels = 0;
  const idat = [];
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString("ascii", offset + 4, offset + 8);
    const data = buffer.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8) throw new Error("PNG is not 8-bit");
      channels = { 2: 3, 6: 4 }[data[9]];
      if (!channels) throw new Error(`PNG colour type ${data[9]}`);
    } else if (type === "IDAT") idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const previous = Buffer.alloc(stride);
  const line = Buffer.alloc(stride);
  const colours = new Set();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels] : 0;
      const b = previous[i];
      const c = i >= channels ? previous[i - channels] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      line[i] = (row[i] + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) colours.add(line.readUIntBE(x * channels, 3));
    line.copy(previous);
  }
  return { width, height, colours: colours.size };
}

async function main() {
  const generation = await unauthorizedChecks();
  // A fresh profile each run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(TMP, "chromium-")), {
    executablePath: process.env.CG_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      // A rebinding DNS name: resolves to the gateway, as an attacker's would.
      "--host-resolver-rules=MAP rebind.evil.test 127.0.0.1"],
    viewport: { width: 1280, height: 2400 },
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
    page.on("pageerror", (e) => problems.push(String(e)));

    await page.goto(ADMIN + "/console/login");
    await page.fill("#token", TOKEN);
    await Promise.all([page.waitForURL(ADMIN + "/console"), page.click("#login")]);
    ok("logged in with the admin token");
    const cookies = await browser.cookies();
    check(cookies.some((c) => c.httpOnly && c.sameSite === "Strict" && !c.value.includes(TOKEN)),
      "the login cookie is HttpOnly, SameSite=Strict and not the token");

    await page.waitForFunction((n) => document.getElementById("generation").textContent === String(n), generation, { timeout: 10000 });
    ok(`status shows policy generation ${generation}`);
    const version = await page.textContent("#version");
    check(/^\d+\.\d+\.\d+/.test(version), `status shows the version ${version}`);

    const tester = join(POLICY_DIR, "tester.cedar");
    writePolicy("tester.cedar", readFileSync(tester, "utf8") + "\n// edited by the console test\n");
    await page.waitForFunction((n) => document.getElementById("generation").textContent === String(n), generation + 1, { timeout: 15000 });
    ok(`status shows generation ${generation + 1} after a policy edit`);

    writePolicy("broken.cedar", "@id(\"half\")\npermit (\n  principal,\n  action ==\n);\n");
    await page.waitForFunction(() => /broken\.cedar:\d+:\d+/.test(document.getElementById("last-reload").textContent), null, { timeout: 15000 });
    const reload = await page.textContent("#last-reload");
    check(reload.includes("invalid") && reload.includes(`generation ${generation + 1} stays in force`), `last reload error shows file:line:col: ${reload}`);
    const failure = await page.textContent("#last-failure");
    check(/broken\.cedar:\d+:\d+/.test(failure), "the last invalid edit is shown");

    await page.waitForSelector(`#decision-rows tr:has-text("${DENY_POLICY}")`, { timeout: 10000 });
    const denied = await page.textContent(`#decision-rows tr:has-text("${DENY_POLICY}")`);
    check(denied.includes("deny") && denied.includes("AccessDenied") && denied.includes("secret/plans.txt"),
      `decisions show the denied request with its policy id: ${denied.trim()}`);
    await page.fill("#decision-filter", DENY_POLICY);
    const rows = await page.$$eval("#decision-rows tr", (trs) => trs.map((tr) => tr.textContent));
    check(rows.length >= 1 && rows.every((r) => r.includes(DENY_POLICY)), `the filter keeps only matching decisions (${rows.length})`);
    await page.fill("#decision-filter", "");

    await page.waitForSelector('#quota-list .quota:has-text("alpha")', { timeout: 10000 });
    const quota = await page.textContent('#quota-list .quota:has-text("alpha")');
    const bars = await page.$$('#quota-list .quota:has-text("alpha") .bar .mark');
    check(quota.includes("hard 1.0 MiB") && quota.includes("soft 512.0 KiB") && bars.length === 2,
      `quotas show alpha's bar with its caps: ${quota}`);

    await page.selectOption("#pg-principal", "credential:tester");
    await page.selectOption("#pg-action", "s3:GetObject");
    await page.fill("#pg-bucket", "alpha");
    await page.fill("#pg-key", "secret/plans.txt");
    await page.click("#pg-decide");
    await page.waitForFunction(() => document.getElementById("pg-result").textContent.length > 0);
    const decided = await page.textContent("#pg-result");
    check(decided.startsWith("DENY") && decided.includes(DENY_POLICY) && /\.cedar:\d+:\d+/.test(decided),
      `the playground explains a deny: ${decided.split("\n")[0]}`);

    await page.fill("#cand-name", "candidate.cedar");
    await page.fill("#cand-text", "@id(\"oops\")\nforbid (principal, action, resource)\nwhen { resource.key like };\n");
    await page.click("#cand-try");
    await page.waitForSelector("#cand-result .validation-error", { timeout: 10000 });
    const invalid = await page.textContent("#cand-result .validation-error");
    check(/candidate\.cedar:\d+:\d+/.test(invalid), `a broken candidate reports file:line:col: ${invalid}`);

    await page.fill("#cand-text", "@id(\"no-public-reads\")\nforbid (principal, action == Action::\"s3:GetObject\", resource)\nwhen { resource.key like \"public/*\" };\n");
    await page.click("#cand-try");
    await page.waitForSelector("#cand-result .change", { timeout: 10000 });
    const change = await page.textContent("#cand-result .change");
    check(change.includes("public/hello.txt") && change.includes("allow") && change.includes("-> deny"),
      `a valid candidate shows the decisions it would change: ${change}`);

    await page.waitForFunction(async () => {
      const response = await fetch("/console/api/traffic");
      const traffic = await response.json();
      return traffic.samples.some((s) => s.requests > 0);
    }, null, { timeout: 20000, polling: 1000 });
    await page.waitForTimeout(3500);
    for (const id of ["chart-requests", "chart-errors"]) {
      const png = await page.locator(`#${id}`).screenshot({ path: join(SHOTS, `${id}.png`) });
      const { width, height, colours } = pngColours(png);
      check(png.length > 1000 && width > 100 && height > 50 && colours > 2,
        `${id} renders (${width}x${height} PNG, ${png.length} bytes, ${colours} colours)`);
    }
    await page.screenshot({ path: join(SHOTS, "console.png"), fullPage: true });
    check(problems.length === 0, `no script errors in the page ${JSON.stringify(problems)}`);
    await attackChecks(browser, page);
  } finally {
    await browser.close();
  }
  console.log(`console: all checks passed in ${Date.now() - started} ms`);
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
