// How long the console's main pages take to show their data on the national data set, in
// headless Debian Chromium (playwright-core from tests/browser). Run by bench/console-load.sh.
//
// Each page is loaded RUNS times: "cold" is a full load of the page (the HTML, the modules,
// /me, the unit, then the page's own API calls) until its data is on screen; "warm" is the
// officer moving to it from another console page (a hash change: only the page's API calls).
// The clock starts at navigation and stops when the page's data is in the DOM. For each page
// the slowest API call of the median cold run is named (Resource Timing).
//
// Only one login (a session row: the one write). The console's start-up token refresh would
// rotate that session on every cold load (a write each time): it is answered here with the
// access token from the login instead, so the cold figures leave out that one call.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/browser/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const BASE = process.env.BASE_URL || 'http://127.0.0.1:18091';
const USER = process.env.CONSOLE_BENCH_USER || 'bench.admin';
const PASSWORD = process.env.CONSOLE_BENCH_PASSWORD || 'bench-admin-2025';
const MONTH = process.env.MONTH || '2026-10';
const PROVINCE = process.env.PROVINCE || '01';
const COMMUNE = process.env.COMMUNE || '00004';
const RUNS = Number(process.env.RUNS || 5);

// The 12-month trend chart, drawn when its own call answers (after the month's figures or not).
const TREND = 'figure svg polyline';
// Each page: its hash, what shows that its data is there and, for the reports, the trend too.
const PAGES = [
  { name: `province board (${PROVINCE}, ${MONTH})`, hash: `#/tinh?tinh=${PROVINCE}&thang=${MONTH}`, ready: 'table.board tbody tr' },
  { name: `province report (${PROVINCE}, ${MONTH})`, hash: `#/tinh/bao-cao?tinh=${PROVINCE}&thang=${MONTH}`, ready: 'table.figures tbody tr', full: TREND },
  { name: `commune month (${COMMUNE}, ${MONTH})`, hash: `#/thang?xa=${COMMUNE}&thang=${MONTH}`, ready: '#report-status .badge' },
  { name: `national view (${MONTH})`, hash: `#/quoc-gia?thang=${MONTH}`, ready: 'table.figures tbody tr', full: TREND },
];
// Where a warm run starts from: a light page.
const FROM = '#/danh-muc';

const fullMedian = (r) => (r.full && r.full.length ? median(r.full) : '—');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const worst = (xs) => Math.max(...xs);

async function login() {
  const res = await fetch(`${BASE}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: USER, password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login of ${USER}: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

// The API calls of the last navigation, slowest first.
const apiCalls = (page) => page.evaluate(() => performance.getEntriesByType('resource')
  .filter((e) => e.name.includes('/api/') && !e.name.includes('/auth/refresh'))
  .map((e) => ({ url: new URL(e.name).pathname + new URL(e.name).search, ms: Math.round(e.duration) }))
  .sort((a, b) => b.ms - a.ms));

async function main() {
  const token = await login();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--lang=vi'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  await context.route('**/api/v1/auth/refresh', (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 900 }),
  }));
  const page = await context.newPage();
  const results = [];
  for (const p of PAGES) {
    const cold = [];
    const warm = [];
    const full = [];
    const calls = [];
    for (let i = 0; i <= RUNS; i += 1) {
      // Cold: a full load of the page (the first run warms the caches and is not counted).
      await page.goto('about:blank');
      let t = Date.now();
      await page.goto(`${BASE}/${p.hash}`);
      await page.locator(p.ready).first().waitFor({ timeout: 60000 });
      const shown = Date.now() - t;
      if (p.full) await page.locator(p.full).first().waitFor({ timeout: 60000 });
      if (i) {
        cold.push(shown);
        full.push(Date.now() - t);
        calls.push(await apiCalls(page));
      }
      // Warm: from another console page to this one.
      await page.evaluate((h) => { location.hash = h; }, FROM);
      await page.locator('main h1', { hasText: 'Danh mục' }).waitFor();
      t = Date.now();
      await page.evaluate((h) => { location.hash = h; }, p.hash);
      await page.locator(p.ready).first().waitFor({ timeout: 60000 });
      if (i) warm.push(Date.now() - t);
      if (p.full) await page.locator(p.full).first().waitFor({ timeout: 60000 });
    }
    const mid = cold.indexOf(median(cold));
    results.push({ ...p, cold, warm, full: p.full ? full : null, slowest: calls[mid].slice(0, 3) });
  }
  await browser.close();

  const { loadavg } = await import('node:os');
  console.log(`Load average at the end: ${loadavg().map((x) => x.toFixed(2)).join(', ')} (2 cores)\n`);
  console.log(`| page | cold median ms | cold worst ms | warm median ms | warm worst ms | with the trend, cold median ms | slowest API calls of the median cold load |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const slow = r.slowest.map((c) => `\`${c.url}\` ${c.ms} ms`).join('; ');
    console.log(`| ${r.name} | ${median(r.cold)} | ${worst(r.cold)} | ${median(r.warm)} | ${worst(r.warm)} | ${fullMedian(r)} | ${slow} |`);
  }
  const over = results.filter((r) => median(r.cold) >= 1000 || median(r.warm) >= 1000);
  console.log(over.length ? `\nOver 1 s: ${over.map((r) => r.name).join(', ')}` : '\nEvery page under 1 s (median).');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
