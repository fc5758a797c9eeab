// Drives wasp's web UI in a real browser (Debian's Chromium through
// playwright-core), behind a reverse proxy that mounts it at /loadgen/ as
// the OpenTelemetry demo's proxy does. Run by tests/control.rs:
//
//   node ui.mjs WASP_PORT OUT_DIR
//
// It starts a run from the form, waits for the live table and charts,
// resizes, stops, and prints one JSON line describing what it saw (the
// Rust test asserts on it). Screenshots go to OUT_DIR.
import http from "node:http";
import path from "node:path";
import { chromium } from "playwright-core";

const [waspPort, outDir] = process.argv.slice(2);
if (!waspPort || !outDir) {
  console.error("usage: node ui.mjs WASP_PORT OUT_DIR");
  process.exit(2);
}

// The proxy: /loadgen/X → wasp's /X, Host kept (as Envoy does), loopback only.
const proxied = [];
const proxy = http.createServer((req, res) => {
  if (!req.url.startsWith("/loadgen/")) {
    res.writeHead(404).end("not under /loadgen/");
    proxied.push({ url: req.url, outside: true });
    return;
  }
  const url = req.url.slice("/loadgen".length);
  proxied.push({ url: req.url, method: req.method });
  const up = http.request({ host: "127.0.0.1", port: Number(waspPort), method: req.method, path: url, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on("error", (e) => res.writeHead(502).end(String(e)));
  req.pipe(up);
});
await new Promise((ok) => proxy.listen(0, "127.0.0.1", ok));
const base = `http://127.0.0.1:${proxy.address().port}/loadgen/`;

const executablePath = process.env.WASP_CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
const problems = [];
const seen = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20000);
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

  await page.goto(base);
  await page.locator("#start-form").waitFor({ state: "visible" });
  seen.readyPhase = await page.locator("#phase").textContent();
  seen.hostDefault = await page.locator("#start-form input[name=host]").inputValue();
  await page.screenshot({ path: path.join(outDir, "ready.png") });

  // Start from the form.
  await page.fill("#start-form input[name=users]", "4");
  await page.fill("#start-form input[name=spawn_rate]", "50");
  await page.click("#start-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#users").textContent.trim().startsWith("4"));
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll("#stats tfoot td")].map((td) => td.textContent);
    return cells.length > 2 && Number(cells[2].replace(/[^0-9]/g, "")) > 20;
  });
  seen.rows = await page.$$eval("#stats tbody tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  seen.total = await page.$$eval("#stats tfoot td", (tds) => tds.map((td) => td.textContent));
  await page.screenshot({ path: path.join(outDir, "running.png"), fullPage: true });

  // Charts: three images drawn, each with a series.
  await page.click("nav.tabs button[data-tab=charts]");
  await page.waitForFunction(() => [...document.querySelectorAll("#tab-charts img")].every((i) => i.complete && i.naturalWidth > 100));
  // Wait for a refresh with a few seconds of data.
  await page.waitForTimeout(2500);
  seen.charts = await page.$$eval("#tab-charts img", (imgs) => imgs.map((i) => ({ src: i.getAttribute("src"), width: i.naturalWidth })));
  await page.locator("#tab-charts").screenshot({ path: path.join(outDir, "charts.png") });

  // Resize to 7 users.
  await page.click("#edit");
  await page.fill("#resize-form input[name=users]", "7");
  await page.fill("#resize-form input[name=spawn_rate]", "50");
  await page.click("#resize-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#users").textContent.trim().startsWith("7"));

  // Events, then stop: the summary appears and the downloads resolve under the prefix.
  await page.click("nav.tabs button[data-tab=events]");
  await page.waitForFunction(() => [...document.querySelectorAll("#events tbody td")].some((td) => td.textContent.includes("7")));
  seen.events = await page.$$eval("#events tbody tr", (trs) => trs.map((tr) => tr.textContent));
  await page.click("#stop");
  await page.locator("#summary").waitFor({ state: "visible", timeout: 30000 });
  seen.summary = await page.locator("#summary-text").textContent();
  seen.stoppedPhase = await page.locator("#phase").textContent();
  await page.click("nav.tabs button[data-tab=downloads]");
  seen.downloads = await page.$$eval("#tab-downloads a", (as) => as.map((a) => a.href));
  const report = await page.request.get(seen.downloads.find((h) => h.endsWith("report.json")));
  seen.reportStatus = report.status();
  seen.reportCount = (await report.json()).total.count;
  // The HTML report, downloaded as the link does.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("#tab-downloads a[href='api/report.html']"),
  ]);
  const saved = path.join(outDir, "report.html");
  await download.saveAs(saved);
  seen.htmlReport = { file: saved, name: download.suggestedFilename() };
  await page.screenshot({ path: path.join(outDir, "stopped.png"), fullPage: true });
} catch (e) {
  problems.push(`step failed: ${e.message.split("\n")[0]}`);
} finally {
  await browser.close();
  proxy.close();
}
console.log(JSON.stringify({ base, seen, problems, proxied }));
