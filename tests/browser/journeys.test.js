// The console's main journeys in headless Debian Chromium, against a server that
// scripts/browser-test.sh started on a fresh database seeded by scripts/demo-seed.py.
// Each step asserts what the page shows. Run through scripts/browser-test.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:18171';
const SHOTS = process.env.SCREENSHOTS || '../../docs/screenshots';
const PASSWORD = process.env.TOSO_DEMO_USER_PASSWORD || 'so hoa ban lang 2026';
const ADMIN_PASSWORD = process.env.TOSO_DEMO_PASSWORD || 'demo-admin-2025';
const COMMUNE = '03394'; // Xã Sin Suối Hồ, left as a draft by the seed
const PROVINCE = '12';

// The month the console opens on: the last one that is over, in Vietnam time.
const vn = new Date(Date.now() + 7 * 3600 * 1000);
const last = new Date(Date.UTC(vn.getUTCFullYear(), vn.getUTCMonth() - 1, 1));
const MONTH = `${last.getUTCFullYear()}-${String(last.getUTCMonth() + 1).padStart(2, '0')}`;
const MONTH_NAME = `tháng ${last.getUTCMonth() + 1}/${last.getUTCFullYear()}`;
const NEXT_MONTH = `${vn.getUTCFullYear()}-${String(vn.getUTCMonth() + 1).padStart(2, '0')}`;

let browser;
const violations = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--lang=vi'],
  });
});

after(async () => {
  await browser?.close();
});

// A fresh browser context (its own cookies) with a page that records CSP violations and
// script errors; every journey ends by asserting there were none.
async function open({ width = 1200, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
  await page.goto(`${BASE}/`);
  await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
  return { context, page };
}

async function login(page, username, password = PASSWORD) {
  await page.getByLabel('Tên đăng nhập hoặc số điện thoại').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.locator('#top .whoami').waitFor();
}

async function api(method, path, token, body, headers = {}) {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

// API logins, one per account (logins from one address are throttled, 30 per 15 minutes).
const tokens = {};
async function token(username, password = PASSWORD) {
  if (!tokens[username]) {
    const { status, body } = await api('POST', '/api/v1/auth/login', null, { username, password });
    assert.equal(status, 200, `login of ${username}`);
    tokens[username] = body.access_token;
  }
  return tokens[username];
}

// Usable at 360 px: on each page, nothing is wider than the screen (tables scroll in their
// own boxes).
async function fits360(page, hashes) {
  const before = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 740 });
  for (const hash of hashes) {
    await page.goto(`${BASE}/${hash}`);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360), `${hash} is wider than 360 px`);
  }
  await page.setViewportSize(before);
}

const statusText = (page) => page.locator('#report-status .badge');
const boardRow = (page) => page.locator(`tr[data-commune="${COMMUNE}"]`);

test('a commune officer logs in by keyboard, sees the month and submits it', async () => {
  const { context, page } = await open();
  // Keyboard only: each page puts the focus on its heading; Tab reaches the form's fields,
  // Enter sends it.
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Đăng nhập');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.name), 'username');
  await page.keyboard.type('xa.sinsuoiho');
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');

  await page.getByRole('heading', { name: `Báo cáo ${MONTH_NAME} — Xã Sin Suối Hồ` }).waitFor();
  assert.match(await page.locator('#top .whoami').textContent(), /xa\.sinsuoiho · Cán bộ xã · Xã Sin Suối Hồ/);
  assert.equal(await statusText(page).textContent(), 'Đang nhập');
  // Headline figures from the report, the same numbers the API gives.
  const officer = await token('xa.sinsuoiho');
  const report = (await api('GET', `/api/v1/reports/monthly?unit=${COMMUNE}&month=${MONTH}`, officer)).body;
  assert.ok(report.totals.logs > 0);
  assert.equal(await page.locator('[data-figure=logs] .fig').textContent(), report.totals.logs.toLocaleString('vi-VN'));
  assert.equal(await page.locator('[data-figure=citizens_helped] .fig').textContent(), report.totals.citizens_helped.toLocaleString('vi-VN'));
  // Rows without activity are highlighted and say so in words.
  const zeroRows = report.rows.filter((r) => r.figures.logs === 0).length;
  assert.ok(zeroRows > 0);
  assert.equal(await page.locator('tr.zero').count(), zeroRows);
  assert.equal(await page.locator('tr.zero .zero-tag').first().textContent(), 'chưa có hoạt động');

  // A reload keeps the login: the access token is gone with the page, the HttpOnly cookie
  // brings a new one, and no script can read the cookie.
  await page.reload();
  await page.getByRole('heading', { name: /Báo cáo/ }).waitFor();
  assert.equal(await page.evaluate(() => document.cookie), '');
  const cookies = await context.cookies();
  const refresh = cookies.find((c) => c.name === 'toso_refresh');
  assert.ok(refresh && refresh.httpOnly && refresh.secure && refresh.sameSite === 'Strict' && refresh.path === '/api/v1/auth');

  // The CSV download carries the figures.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Tải CSV' }).click()]);
  assert.equal(download.suggestedFilename(), `bao-cao-${COMMUNE}-${MONTH}.csv`);

  // Enter the month's value of an indicator; the month page then shows it against its target
  // (the province set 30 for the year) with a progress bar.
  await page.getByRole('link', { name: 'Nhập số liệu chỉ tiêu của tháng →' }).click();
  await page.getByRole('heading', { name: `Số liệu chỉ tiêu ${MONTH_NAME}` }).waitFor();
  const farms = page.locator('li[data-indicator="ecommerce_farms"]');
  assert.equal(await farms.getByLabel('Số lượng').inputValue(), '4');
  await farms.getByLabel('Số lượng').fill('-3');
  await farms.getByRole('button', { name: 'Lưu' }).click();
  await farms.locator('.field.invalid[data-field="value"]').waitFor();
  await farms.getByLabel('Số lượng').fill('15');
  await farms.getByLabel('Nguồn số liệu').fill('Hội nông dân xã');
  await farms.getByRole('button', { name: 'Lưu' }).click();
  await farms.locator('.notice.ok', { hasText: 'Đã lưu: 15.' }).waitFor();
  await page.getByRole('link', { name: '← Báo cáo tháng' }).click();
  const row = page.locator('table.indicators tr[data-indicator="ecommerce_farms"]');
  await row.waitFor();
  assert.deepEqual((await row.locator('td').allTextContents()).slice(0, 3), ['15', '30', ' 50%']);
  assert.equal(await row.locator('progress').getAttribute('value'), '0.5');

  await page.screenshot({ path: `${SHOTS}/commune-month.png`, fullPage: true });
  await page.getByRole('button', { name: 'Nộp báo cáo' }).click();
  await page.locator('#report-status .badge', { hasText: 'Đã nộp, chờ duyệt' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Nộp báo cáo' }).count(), 0);
  await context.close();
});

test('the province officer returns it with a reason from the board', async () => {
  const { context, page } = await open();
  await login(page, 'tinh.laichau');
  await page.getByRole('heading', { name: `Tình trạng nộp báo cáo ${MONTH_NAME}` }).waitFor();
  const row = boardRow(page);
  assert.equal(await row.locator('.status .badge').textContent(), 'Đã nộp, chờ duyệt');
  // The seed's other commune is waiting too.
  assert.equal(await page.locator('tr[data-commune="03390"] .status .badge').textContent(), 'Đã nộp, chờ duyệt');
  assert.equal(await page.locator('[class="st-submitted"] .fig').textContent(), '2');
  // Reporting discipline as the API judges it now: the due date, each commune's mark (on time,
  // late, overdue, not yet due) and the counts of each.
  const statuses = (await api('GET', `/api/v1/reports/status?province=${PROVINCE}&month=${MONTH}`, await token('tinh.laichau'))).body;
  const dueOn = statuses[0].due_on;
  assert.ok(statuses.every((c) => c.due_on === dueOn));
  assert.equal(dueOn, `${NEXT_MONTH}-05`, 'the 5th of the next month until the province sets a day');
  assert.equal(await page.locator('#due-on strong').textContent(), new Date(`${dueOn}T00:00:00`).toLocaleDateString('vi-VN'));
  const mark = (c) => (c.on_time === true ? 'Nộp đúng hạn' : c.on_time === false ? 'Nộp muộn' : c.overdue ? 'Quá hạn, chưa nộp' : 'Chưa đến hạn');
  const marks = await page.locator('table.board tbody tr').evaluateAll((trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.commune, tr.querySelector('td.due .badge').textContent])));
  assert.deepEqual(marks, Object.fromEntries(statuses.map((c) => [c.commune_code, mark(c)])));
  const expected = { on_time: 0, late: 0, overdue: 0, pending: 0 };
  for (const c of statuses) expected[c.on_time === true ? 'on_time' : c.on_time === false ? 'late' : c.overdue ? 'overdue' : 'pending'] += 1;
  for (const [k, n] of Object.entries(expected)) {
    assert.equal(await page.locator(`#timeliness .due-${k} .fig`).textContent(), n.toLocaleString('vi-VN'), k);
  }
  // Past the due date, the communes that sent nothing are marked overdue, the two that did are not.
  if (Date.now() >= Date.parse(`${dueOn}T00:00:00+07:00`) + 86400000) {
    assert.equal(expected.overdue, statuses.length - 2);
    assert.notEqual(marks['03390'], 'Quá hạn, chưa nộp');
  }
  // The filter keeps the overdue ones only.
  await page.getByLabel('Lọc').selectOption('overdue');
  await page.waitForFunction((n) => document.querySelectorAll('table.board tbody tr').length === n, expected.overdue);
  assert.ok((await page.locator('table.board td.due .badge').allTextContents()).every((t) => t === 'Quá hạn, chưa nộp'));
  await page.getByLabel('Lọc').selectOption('');
  await row.waitFor();
  await page.screenshot({ path: `${SHOTS}/province-board.png`, fullPage: false });
  // The province moves its due day (1 to 28): the date and the marks follow the API's.
  await page.getByText('Đổi ngày hạn nộp').click();
  const dueDay = page.getByLabel(/nộp trước hết ngày/);
  assert.equal(await dueDay.inputValue(), '5');
  await dueDay.fill('29');
  await page.getByRole('button', { name: 'Lưu ngày hạn nộp' }).click();
  await page.locator('.field.invalid[data-field="due_day"]').waitFor();
  await dueDay.fill('28');
  await page.getByRole('button', { name: 'Lưu ngày hạn nộp' }).click();
  await page.locator('#due-on strong', { hasText: new Date(`${NEXT_MONTH}-28T00:00:00`).toLocaleDateString('vi-VN') }).waitFor();
  const moved = (await api('GET', `/api/v1/reports/status?province=${PROVINCE}&month=${MONTH}`, await token('tinh.laichau'))).body;
  assert.ok(moved.every((c) => c.due_on === `${NEXT_MONTH}-28`));
  const movedMarks = await page.locator('table.board tbody tr').evaluateAll((trs) => Object.fromEntries(trs.map((tr) => [tr.dataset.commune, tr.querySelector('td.due .badge').textContent])));
  assert.deepEqual(movedMarks, Object.fromEntries(moved.map((c) => [c.commune_code, mark(c)])));

  await row.getByRole('button', { name: 'Trả lại' }).click();
  // A reason is required: the field is marked and says so.
  await row.getByRole('button', { name: 'Trả lại' }).click();
  await row.locator('.field.invalid').waitFor();
  assert.equal(await row.locator('textarea').getAttribute('aria-invalid'), 'true');
  assert.equal(await row.locator('.field-error').first().textContent(), 'Bắt buộc nhập.');
  // Personal data in the reason is refused by the API, shown on the field in Vietnamese.
  await row.locator('textarea').fill('Gọi lại cho chị Hoa số 0912 345 678');
  await row.getByRole('button', { name: 'Trả lại' }).click();
  await row.locator('.field-error', { hasText: 'Không ghi dữ liệu cá nhân' }).waitFor();
  await row.locator('textarea').fill('Thiếu hoạt động của bản Phìn Ngan; đề nghị bổ sung.');
  await row.getByRole('button', { name: 'Trả lại' }).click();
  await boardRow(page).locator('.status .badge', { hasText: 'Bị trả lại' }).waitFor();
  assert.equal(await boardRow(page).locator('td.reason').textContent(), 'Thiếu hoạt động của bản Phìn Ngan; đề nghị bổ sung.');
  await context.close();
});

test('the commune reads why, fixes its register and submits again', async () => {
  const { context, page } = await open();
  await login(page, 'xa.sinsuoiho');
  await statusText(page).filter({ hasText: 'Bị trả lại' }).waitFor();
  assert.match(await page.locator('#report-status .reason').textContent(), /Lý do trả lại: Thiếu hoạt động của bản Phìn Ngan; đề nghị bổ sung\./);

  // Search without diacritics finds the village; fix its households.
  await page.getByRole('link', { name: 'Thôn, tổ dân phố' }).click();
  await page.getByRole('heading', { name: 'Thôn, tổ dân phố' }).waitFor();
  await page.getByLabel('Tìm theo tên').fill('phin ngan');
  await page.getByRole('button', { name: 'Tìm' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.register tbody tr').length === 1);
  const village = page.locator('table.register tbody tr');
  assert.equal(await village.locator('th').textContent(), 'Bản Phìn Ngan Sin Chải');
  await village.getByRole('button', { name: 'Sửa' }).click();
  const dialog = page.locator('dialog.editor');
  // A bad value is refused by the API and marked on its field.
  await dialog.getByLabel('Tên').fill('Bản Phìn Ngan 0912345678 chị Hoa');
  await dialog.getByRole('button', { name: 'Lưu' }).click();
  await dialog.locator('.field.invalid[data-field="name"]').waitFor();
  assert.match(await dialog.locator('.form-message').textContent(), /Thông tin chưa hợp lệ/);
  await dialog.getByLabel('Tên').fill('Bản Phìn Ngan Sin Chải');
  await dialog.getByLabel('Số hộ').fill('126');
  await dialog.getByRole('button', { name: 'Lưu' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('table.register tbody tr td.num', { hasText: '126' }).waitFor();

  await page.getByRole('link', { name: 'Báo cáo tháng' }).click();
  await page.getByRole('button', { name: 'Nộp lại báo cáo' }).click();
  await page.locator('#report-status .badge', { hasText: 'Đã nộp, chờ duyệt' }).waitFor();
  await context.close();
});

test('the province approves it and the month shows as locked', async () => {
  const { context, page } = await open();
  await login(page, 'tinh.laichau');
  await boardRow(page).getByRole('button', { name: 'Duyệt' }).click();
  await boardRow(page).locator('.status .badge', { hasText: 'Đã duyệt (khóa sổ)' }).waitFor();
  assert.equal(await boardRow(page).getByRole('button', { name: 'Mở lại' }).count(), 1);

  // The commune's own page, opened from the board, says the month is locked.
  await boardRow(page).getByRole('link', { name: 'Xã Sin Suối Hồ' }).click();
  await page.locator('#report-status .locked').waitFor();
  assert.match(await page.locator('#report-status .locked').textContent(), /Tháng đã khóa sổ/);

  // The province report: the approved commune's row is frozen, the trend chart has its table.
  await page.getByRole('link', { name: 'Báo cáo tỉnh' }).click();
  await page.getByRole('heading', { name: `Báo cáo ${MONTH_NAME} — Lai Châu` }).waitFor();
  const communes = (await api('GET', `/api/v1/reports/monthly?unit=${PROVINCE}&month=${MONTH}`, await token('tinh.laichau'))).body.rows;
  assert.equal(await page.locator('table.figures tbody tr').count(), communes.length);
  assert.equal(await page.locator('table.figures tbody tr', { hasText: 'Xã Sin Suối Hồ' }).locator('.frozen').count(), 1);
  // How the communes reported, as the report's summary gives it.
  assert.match(await page.locator('#reporting').textContent(), new RegExp(`^Báo cáo đã nhận: 2/${communes.length} xã`));
  const trend = page.locator('figure', { hasText: 'Xu hướng 12 tháng' });
  await trend.locator('tbody tr').last().waitFor(); // drawn when the trend comes, after the month
  assert.equal(await trend.locator('svg polyline').count(), 3);
  assert.equal(await trend.locator('tbody tr').count(), 12);
  assert.equal(await trend.locator('tbody tr').last().locator('td').first().textContent(), MONTH);
  await page.screenshot({ path: `${SHOTS}/province-report.png`, fullPage: false });
  await fits360(page, ['#/tinh', '#/tinh/bao-cao', '#/tinh/chi-tieu', '#/thon', '#/to', '#/thanh-vien', '#/toi']);
  await context.close();

  // And the commune officer sees it locked, with no submit button.
  const commune = await open();
  await login(commune.page, 'xa.sinsuoiho');
  await commune.page.locator('#report-status .badge', { hasText: 'Đã duyệt (khóa sổ)' }).waitFor();
  assert.equal(await commune.page.locator('#submit-report').count(), 0);
  assert.equal(await commune.page.locator('#report-status .locked').count(), 1);
  await commune.context.close();
});

test('the province sets a yearly target and splits it to its communes', async () => {
  const { context, page } = await open();
  await login(page, 'tinh.laichau');
  await page.getByRole('link', { name: 'Chỉ tiêu' }).click();
  const year = Number(MONTH.slice(0, 4));
  await page.getByRole('heading', { name: `Chỉ tiêu kế hoạch năm ${year}` }).waitFor();
  await page.getByLabel('Chỉ tiêu').selectOption('fibre_households');
  await page.getByRole('heading', { name: 'Chỉ tiêu của tỉnh: Hộ gia đình có Internet cáp quang' }).waitFor();
  await page.getByLabel('Tỷ lệ phải đạt (%)').fill('140');
  await page.getByRole('button', { name: 'Đặt chỉ tiêu' }).click();
  await page.locator('.field.invalid[data-field="target_percent"]').waitFor();
  await page.getByLabel('Tỷ lệ phải đạt (%)').fill('65');
  await page.getByRole('button', { name: 'Đặt chỉ tiêu' }).click();
  await page.getByText('Hiện tại: 65%').waitFor();
  await page.getByRole('button', { name: 'Xem trước' }).click();
  await page.locator('#split-result .notice', { hasText: 'Xem trước: chưa lưu gì.' }).waitFor();
  await page.getByRole('button', { name: 'Phân bổ' }).click();
  await page.locator('#split-result .notice', { hasText: 'Đã phân bổ chỉ tiêu cho các xã.' }).waitFor();
  // What the page shows for each commune is what the API stored.
  const officer = await token('tinh.laichau');
  const stored = (await api('GET', `/api/v1/indicator-targets?year=${year}&unit_kind=commune&indicator=fibre_households`, officer)).body;
  const binhLu = stored.find((t) => t.unit_key === '03390');
  assert.ok(binhLu && binhLu.target_value > 0);
  const row = page.locator('#split-result tbody tr', { hasText: 'Xã Bình Lư' });
  assert.equal((await row.locator('td').last().textContent()).trim(), binhLu.target_value.toLocaleString('vi-VN'));
  await page.screenshot({ path: `${SHOTS}/province-targets.png`, fullPage: false });
  await context.close();
});

test('a stale edit is shown as a conflict, not lost', async () => {
  const { context, page } = await open({ width: 360, height: 780 });
  await login(page, 'xa.binhlu');
  // Usable at 360 px: nothing wider than the screen but the tables' own scrolling boxes.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 360));
  await page.screenshot({ path: `${SHOTS}/commune-month-360.png`, fullPage: false });
  // The members who recorded nothing in the month, as the API lists them.
  const inactive = (await api('GET', `/api/v1/reports/inactive?unit=03390&month=${MONTH}`, await token('xa.binhlu'))).body;
  assert.ok(inactive.length > 0);
  assert.deepEqual(await page.locator('#inactive tbody th').allTextContents(), inactive.map((m) => m.full_name));
  assert.equal(await page.locator('#inactive tbody tr').first().locator('td').first().textContent(), inactive[0].team_name);

  await page.getByRole('link', { name: 'Thành viên' }).click();
  await page.getByLabel('Tìm theo tên').fill('lo van thang');
  await page.getByRole('button', { name: 'Tìm' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.register tbody tr').length === 1);
  const row = page.locator('table.register tbody tr');
  const id = await row.getAttribute('data-id');
  await row.getByRole('button', { name: 'Sửa' }).click();
  const dialog = page.locator('dialog.editor');
  await dialog.getByLabel('Điện thoại di động').fill('0912345678');

  // Meanwhile the province officer changes the same member.
  const other = await token('tinh.laichau');
  const changed = await api('PATCH', `/api/v1/members/${id}`, other, { phone: '0987654321' }, { 'If-Match': '*' });
  assert.equal(changed.status, 200);

  await dialog.getByRole('button', { name: 'Lưu' }).click();
  await dialog.locator('.conflict-box [role=alert]').waitFor();
  assert.match(await dialog.locator('.conflict-box').textContent(), /Xung đột: bản ghi đã được người khác sửa/);
  const diff = dialog.locator('.conflict-box tbody tr');
  assert.deepEqual(await diff.locator('th, td').allTextContents(), ['Điện thoại', '0987654321', '0912345678']);
  await page.screenshot({ path: `${SHOTS}/conflict.png`, fullPage: false });
  // The server still has the other officer's value: nothing was overwritten silently.
  const stored = await api('GET', `/api/v1/members/${id}`, other);
  assert.equal(stored.body.phone, '0987654321');

  // Take the newest copy, then save: the form now holds the server's value.
  await dialog.getByRole('button', { name: 'Lấy bản mới nhất' }).click();
  assert.equal(await dialog.getByLabel('Điện thoại di động').inputValue(), '0987654321');
  await dialog.getByLabel('Họ tên').fill('Lò Văn Thắng');
  await dialog.getByRole('button', { name: 'Lưu' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('table.register tbody tr td', { hasText: '0987654321' }).waitFor();
  await fits360(page, ['#/thang', '#/chi-tieu', '#/thon', '#/to', '#/thanh-vien', '#/toi', '#/doi-mat-khau']);
  await context.close();
});

test('a password set by someone else must be changed first', async () => {
  const admin = await token('admin', ADMIN_PASSWORD);
  const created = await api('POST', '/api/v1/users', admin, {
    username: 'xa.moi', password: 'mat khau tam thoi 77', role: 'commune_officer', unit_code: '03405',
  });
  assert.equal(created.status, 201);
  const { context, page } = await open();
  await login(page, 'xa.moi', 'mat khau tam thoi 77');
  await page.getByRole('heading', { name: 'Đổi mật khẩu' }).waitFor();
  assert.match(await page.locator('.notice.warn').textContent(), /do người khác đặt/);
  assert.equal(await page.locator('#top nav a').count(), 0);
  await page.getByLabel('Mật khẩu hiện tại').fill('mat khau tam thoi 77');
  await page.locator('input[name=new_password]').fill('password1');
  await page.getByLabel('Nhập lại mật khẩu mới').fill('password1');
  await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
  await page.locator('.field.invalid[data-field="new_password"]').waitFor();
  assert.match(await page.locator('[data-field="new_password"] .field-error').textContent(), /quá dễ đoán/);
  await page.locator('input[name=new_password]').fill('ruộng bậc thang mùa lúa chín');
  await page.getByLabel('Nhập lại mật khẩu mới').fill('ruộng bậc thang mùa lúa chín');
  await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
  await page.getByRole('heading', { name: `Báo cáo ${MONTH_NAME} — Xã Tả Lèng` }).waitFor();
  // Logout ends the login: a reload lands on the login page.
  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
  await context.close();
});

test('an account is activated with the code an officer handed over', async () => {
  const admin = await token('admin', ADMIN_PASSWORD);
  const created = await api('POST', '/api/v1/users', admin, {
    username: 'phuong.tanphong', password: 'mat khau tam thoi 88', role: 'commune_officer', unit_code: '03408',
  });
  assert.equal(created.status, 201);
  const issued = await api('POST', `/api/v1/users/${created.body.id}/activation`, admin);
  assert.equal(issued.status, 201);
  const { context, page } = await open();
  await page.getByRole('link', { name: 'Kích hoạt tài khoản' }).click();
  await page.getByRole('heading', { name: 'Kích hoạt tài khoản' }).waitFor();
  await page.getByLabel('Mã kích hoạt').fill('AAAAA-BBBBB');
  await page.locator('input[name=password]').fill('ruộng bậc thang mùa nước đổ');
  await page.getByLabel('Nhập lại mật khẩu').fill('ruộng bậc thang mùa nước đổ');
  await page.getByRole('button', { name: 'Kích hoạt' }).click();
  await page.locator('.form-message', { hasText: 'Mã kích hoạt không đúng, đã dùng hoặc đã hết hạn.' }).waitFor();
  await page.getByLabel('Mã kích hoạt').fill(issued.body.code.toLowerCase());
  await page.getByRole('button', { name: 'Kích hoạt' }).click();
  await page.getByRole('heading', { name: `Báo cáo ${MONTH_NAME} — Phường Tân Phong` }).waitFor();
  // The console's login lives in the HttpOnly cookie: a reload keeps it.
  await page.reload();
  await page.getByRole('heading', { name: `Báo cáo ${MONTH_NAME} — Phường Tân Phong` }).waitFor();
  await context.close();
});

test('the admin sees the country by province and the categories', async () => {
  const { context, page } = await open();
  await login(page, 'admin', ADMIN_PASSWORD);
  await page.getByRole('heading', { name: new RegExp(`Báo cáo ${MONTH_NAME}`) }).waitFor();
  assert.equal(await page.locator('table.figures tbody tr').count(), 34);
  const laichau = page.locator('table.figures tbody tr', { hasText: 'Lai Châu' });
  assert.equal(await laichau.locator('.zero-tag').count(), 0);
  assert.equal(await page.locator('table.figures tbody tr.zero').count(), 33);
  await page.screenshot({ path: `${SHOTS}/national.png`, fullPage: false });
  await page.getByRole('link', { name: 'Danh mục hỗ trợ' }).click();
  await page.getByRole('heading', { name: 'Danh mục loại hỗ trợ' }).waitFor();
  assert.ok((await page.locator('tbody tr').count()) > 3);
  await fits360(page, ['#/quoc-gia', '#/tinh', `#/tinh/bao-cao?tinh=${PROVINCE}`, '#/danh-muc']);
  await context.close();
});

// A members' list as an officer keeps it: the template's headers, Vietnamese labels.
const IMPORT_HEADER = 'STT,Tên tổ,Họ và tên,Giới tính,Năm sinh,Số điện thoại,Thành phần,Vai trò,Tạo tài khoản';
const IMPORTED = [
  '1,Tổ CNS bản Sin Suối Hồ,Thào A Dình,Nam,1991,0971 234 561,Đoàn Thanh niên,Thành viên,Có',
  '2,Tổ CNS bản Sin Suối Hồ,Lầu Thị Mỷ,Nữ,1996,0971234562,Hội Phụ nữ,Thành viên,Có',
];
const BAD_ROW = '3,Tổ CNS bản Pa Vây Sử,Sùng A Páo,Nam,1988,12345,Người dân tình nguyện,Thành viên,Không';
const FIXED_ROW = '3,Tổ CNS bản Phìn Ngan,Sùng A Páo,Nam,1988,0971234563,Người dân tình nguyện,Thành viên,Không';
const csv = (name, rows) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(`\uFEFF${[IMPORT_HEADER, ...rows].join('\r\n')}\r\n`) });
const membersNamed = async (officer, q) => (await api('GET', `/api/v1/members?q=${encodeURIComponent(q)}`, officer)).body.total;

test('an import with a bad row writes nothing; the fixed file is applied and its members listed', async () => {
  const officer = await token('xa.sinsuoiho');
  const { context, page } = await open();
  await login(page, 'xa.sinsuoiho');
  await page.getByRole('link', { name: 'Nhập từ tệp' }).click();
  await page.getByRole('heading', { name: 'Nhập danh sách từ tệp' }).waitFor();
  // The template of one kind, as the API makes it (an XLSX: a zip).
  const [template] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Mẫu: Thành viên' }).click()]);
  assert.equal(template.suggestedFilename(), 'mau-nhap-members.xlsx');
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(await template.path()).subarray(0, 2).toString(), 'PK');

  // No file chosen: the field says so.
  await page.getByRole('button', { name: 'Kiểm tra (chạy thử)' }).click();
  await page.locator('.field.invalid[data-field="file"]').waitFor();

  // The dry run of a file with a bad row: every row's outcome, the bad one's errors.
  await page.locator('#import-file').setInputFiles(csv('thanh-vien.csv', [...IMPORTED, BAD_ROW]));
  await page.getByRole('button', { name: 'Kiểm tra (chạy thử)' }).click();
  const result = page.locator('#import-result');
  await result.locator('table.import-rows').waitFor();
  assert.match(await result.locator('.notice').first().textContent(), /Chạy thử: \d+ lỗi ở các dòng dưới đây\. Chưa ghi gì vào sổ/);
  const errors = result.locator('table.import-rows tr.out-error');
  assert.ok((await errors.count()) >= 2, 'the unknown team and the bad phone');
  for (const line of await errors.all()) {
    const cells = await line.locator('td').allTextContents();
    assert.ok(cells[0], 'the sheet');
    assert.deepEqual(cells.slice(1, 5), ['4', 'Thành viên', 'Sùng A Páo', 'Lỗi']);
    assert.match(cells[6], /^[a-z_]+$/, 'a stable code');
    assert.match(cells[7], /[à-ỹ]/, 'a message in Vietnamese');
  }
  const codes = await errors.locator('td code').allTextContents();
  assert.ok(codes.includes('invalid_phone'), codes.join());
  assert.match((await errors.locator('td').nth(5).allTextContents()).join(), /[A-Z]/, 'the column letter');
  // The good rows would be created; the counts say so; there is nothing to apply.
  assert.equal(await result.locator('table.import-rows tr.out-created').count(), 2);
  assert.equal(await result.locator('tr[data-kind="members"] td.c-created').textContent(), '2');
  assert.equal(await result.locator('tr[data-kind="members"] td.c-errors').textContent(), '1');
  assert.equal(await page.getByRole('button', { name: 'Nhập vào sổ' }).count(), 0);
  await page.screenshot({ path: `${SHOTS}/import-dry-run.png`, fullPage: true });
  // Nothing was written: the register does not know these names; the import is a dry run.
  assert.equal(await membersNamed(officer, 'thao a dinh'), 0);
  assert.equal(await membersNamed(officer, 'sung a pao'), 0);
  const history = (await api('GET', '/api/v1/imports', officer)).body.items;
  assert.equal(history[0].result, 'dry_run');
  assert.equal(history[0].file_name, 'thanh-vien.csv');

  // The fixed file: the dry run is clean, then applied.
  await page.locator('#import-file').setInputFiles(csv('thanh-vien-da-sua.csv', [...IMPORTED, FIXED_ROW]));
  await page.getByRole('button', { name: 'Kiểm tra (chạy thử)' }).click();
  await result.locator('.notice', { hasText: 'tệp hợp lệ' }).waitFor();
  assert.equal(await result.locator('table.import-rows tr.out-error').count(), 0);
  await page.getByRole('button', { name: 'Nhập vào sổ' }).click();
  await result.locator('.notice.ok', { hasText: 'Đã nhập tệp "thanh-vien-da-sua.csv" vào sổ.' }).waitFor();
  assert.equal(await result.locator('tr[data-kind="members"] td.c-created').textContent(), '3');
  assert.equal(await result.locator('tr[data-kind="members"] td.c-errors').textContent(), '0');
  assert.match(await result.textContent(), /Tài khoản ứng dụng được tạo: 2\./);
  const applied = (await api('GET', '/api/v1/imports', officer)).body.items[0];
  assert.equal(applied.result, 'applied');
  assert.equal(applied.counts.members.created, 3);
  assert.equal(applied.counts.accounts_created, 2);
  // The activation sheet (the new accounts' codes, shown once) and the per-row report.
  const [sheet] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Tải phiếu kích hoạt (XLSX)' }).click()]);
  assert.equal(sheet.suggestedFilename(), `kich-hoat-${applied.id}.xlsx`);
  assert.equal(readFileSync(await sheet.path()).subarray(0, 2).toString(), 'PK');
  const [report] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Tải báo cáo từng dòng (XLSX)' }).click()]);
  assert.equal(report.suggestedFilename(), `ket-qua-nhap-${applied.id}.xlsx`);
  await page.screenshot({ path: `${SHOTS}/import-applied.png`, fullPage: true });
  assert.equal(await membersNamed(officer, 'thao a dinh'), 1);

  // The history lists both, newest first; one opens on its record.
  await page.reload();
  const past = page.locator('table.import-history tbody tr');
  await past.first().waitFor();
  assert.deepEqual((await past.first().locator('th, td').allTextContents()).slice(1, 4), ['thanh-vien-da-sua.csv', 'xa.sinsuoiho', 'Đã nhập']);
  assert.equal(await past.nth(1).locator('.badge').textContent(), 'Chạy thử');
  await past.first().getByRole('link').click();
  await page.getByRole('heading', { name: 'Lần nhập: thanh-vien-da-sua.csv' }).waitFor();
  assert.equal(await page.locator('tr[data-kind="members"] td.c-created').textContent(), '3');

  // The new members are in the register.
  await page.getByRole('link', { name: 'Thành viên', exact: true }).click();
  await page.getByLabel('Tìm theo tên').fill('lau thi my');
  await page.getByRole('button', { name: 'Tìm' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.register tbody tr').length === 1);
  const row = page.locator('table.register tbody tr');
  assert.equal(await row.locator('th').textContent(), 'Lầu Thị Mỷ');
  assert.deepEqual((await row.locator('td').allTextContents()).slice(0, 4), ['Tổ CNS bản Sin Suối Hồ', 'Thành viên', 'Hội phụ nữ', '0971234562']);
  await fits360(page, ['#/nhap']);
  await context.close();
});

test('an officer issues an activation code from the register; its owner activates in another browser', async () => {
  const officer = await token('xa.sinsuoiho');
  const member = (await api('GET', `/api/v1/members?q=${encodeURIComponent('thao a dinh')}`, officer)).body.items[0];
  assert.ok(member && member.user_id, 'the import made the member an account');
  const account = (await api('GET', `/api/v1/users/${member.user_id}`, officer)).body;
  assert.equal(account.activation_pending, true);

  const { context, page } = await open();
  await login(page, 'xa.sinsuoiho');
  await page.getByRole('link', { name: 'Thành viên', exact: true }).click();
  await page.getByLabel('Tìm theo tên').fill('thao a dinh');
  await page.getByRole('button', { name: 'Tìm' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table.register tbody tr').length === 1);
  // Only members with an account have the button.
  assert.equal(await page.locator('table.register tbody tr').getByRole('button', { name: 'Mã kích hoạt' }).count(), 1);
  await page.locator('table.register tbody tr').getByRole('button', { name: 'Mã kích hoạt' }).click();
  const dialog = page.locator('dialog.activation');
  await dialog.getByRole('heading', { name: 'Mã kích hoạt: Thào A Dình' }).waitFor();
  assert.equal(await dialog.locator('dd').first().textContent(), account.username);
  assert.equal(await dialog.locator('#account-state').textContent(), 'Chưa kích hoạt');
  await dialog.getByRole('button', { name: 'Cấp mã kích hoạt mới' }).click();
  await dialog.locator('#activation-code').waitFor();
  const code = await dialog.locator('#activation-code').textContent();
  assert.match(code, /^[A-Z0-9]{5}-[A-Z0-9]{5}$/);
  // Its QR, fetched with the access token and shown as a data: URL (no img-src widening).
  await page.waitForFunction(() => {
    const img = document.querySelector('dialog.activation img.qr');
    return img && img.complete && img.naturalWidth > 0;
  });
  assert.match(await dialog.locator('img.qr').getAttribute('src'), /^data:image\/png;base64,/);
  assert.equal(await dialog.getByRole('button', { name: 'Cấp mã kích hoạt mới' }).count(), 0, 'shown once, issued once');
  await page.screenshot({ path: `${SHOTS}/activation-code.png`, fullPage: false });

  // The owner, in another browser, redeems the code read from the page and chooses a password.
  const owner = await open({ width: 360, height: 740 });
  await owner.page.getByRole('link', { name: 'Kích hoạt tài khoản' }).click();
  await owner.page.getByLabel('Mã kích hoạt').fill(code);
  const chosen = 'nương ngô trên đỉnh Sin Suối Hồ';
  await owner.page.locator('input[name=password]').fill(chosen);
  await owner.page.getByLabel('Nhập lại mật khẩu').fill(chosen);
  await owner.page.getByRole('button', { name: 'Kích hoạt' }).click();
  await owner.page.getByRole('heading', { name: 'Tài khoản của tôi' }).waitFor();
  assert.match(await owner.page.locator('#top .whoami').textContent(), new RegExp(`^${account.username} · Thành viên tổ`));
  // Logged out, the new password logs in again.
  await owner.page.getByRole('button', { name: 'Đăng xuất' }).click();
  await owner.page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
  await login(owner.page, account.username, chosen);
  await owner.page.getByRole('heading', { name: 'Tài khoản của tôi' }).waitFor();
  await owner.context.close();

  // The officer's accounts page now shows the account in use.
  await dialog.getByRole('button', { name: 'Đóng' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('link', { name: 'Tài khoản', exact: true }).click();
  await page.getByRole('heading', { name: 'Tài khoản' }).waitFor();
  await page.getByLabel('Tìm tài khoản').fill(account.username);
  await page.getByRole('button', { name: 'Tìm' }).click();
  const row = page.locator(`tr[data-user="${account.id}"]`);
  await row.waitFor();
  assert.equal(await row.locator('td').nth(3).textContent(), 'Đang dùng');
  // Issuing again for an account in use warns first that its password would be cleared.
  await row.getByRole('button', { name: 'Mã kích hoạt' }).click();
  await dialog.getByRole('button', { name: 'Cấp lại mã kích hoạt' }).waitFor();
  assert.match(await dialog.locator('.notice.warn').textContent(), /xóa mật khẩu hiện tại/);
  await dialog.getByRole('button', { name: 'Đóng' }).click();
  await dialog.waitFor({ state: 'detached' });
  await fits360(page, ['#/tai-khoan']);
  await context.close();
});

test('no page broke the Content-Security-Policy or threw', () => {
  assert.deepEqual(violations, []);
});
