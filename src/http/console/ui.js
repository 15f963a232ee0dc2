// DOM helpers, Vietnamese labels, forms that show the API's problems, and SVG charts.
import { ApiError, fieldText, request } from './api.js';

// h('p', {class: 'x'}, 'text', child…): an element; `on…` attributes become listeners.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  append(el, children);
  return el;
}

// One formatter for every number (toLocaleString builds one a call: a province report's
// thousand cells took ~30 ms that way).
const NUMBER = new Intl.NumberFormat('vi-VN');
export const fmt = (n) => (n === null || n === undefined ? '—' : NUMBER.format(Number(n)));
export const pct = (x) => `${(Number(x) * 100).toLocaleString('vi-VN', { maximumFractionDigits: 0 })}%`;

export const LABELS = {
  status: {
    not_started: 'Chưa bắt đầu',
    draft: 'Đang nhập',
    submitted: 'Đã nộp, chờ duyệt',
    returned: 'Bị trả lại',
    approved: 'Đã duyệt (khóa sổ)',
    reopened: 'Mở lại',
  },
  role: {
    admin: 'Quản trị viên',
    province_officer: 'Cán bộ tỉnh',
    commune_officer: 'Cán bộ xã',
    team_leader: 'Tổ trưởng',
    team_member: 'Thành viên tổ',
  },
  kind: {
    thon: 'Thôn', ap: 'Ấp', ban: 'Bản', lang: 'Làng', buon: 'Buôn', phum: 'Phum', soc: 'Sóc',
    to_dan_pho: 'Tổ dân phố', khu_pho: 'Khu phố', khom: 'Khóm', other: 'Khác',
  },
  teamStatus: { active: 'Đang hoạt động', inactive: 'Tạm ngưng', dissolved: 'Đã giải thể' },
  teamRole: { leader: 'Tổ trưởng', deputy: 'Tổ phó', member: 'Thành viên' },
  affiliation: {
    village_head: 'Trưởng thôn', area_police: 'Công an khu vực', youth_union: 'Đoàn thanh niên',
    womens_union: 'Hội phụ nữ', farmers_union: 'Hội nông dân', veterans_association: 'Hội cựu chiến binh',
    telecom_digital_company: 'Doanh nghiệp viễn thông, công nghệ số', teacher: 'Giáo viên',
    health_worker: 'Nhân viên y tế', resident_volunteer: 'Người dân tình nguyện', other: 'Khác',
  },
  sex: { male: 'Nam', female: 'Nữ', other: 'Khác' },
};

export const FIGURES = {
  logs: 'Lượt hỗ trợ',
  citizens_helped: 'Người dân được hỗ trợ',
  members_logging: 'Thành viên có ghi nhận',
  members_active: 'Thành viên đang hoạt động',
  teams_active: 'Tổ đang hoạt động',
  villages: 'Thôn, tổ dân phố',
  villages_with_team: 'Thôn có tổ hoạt động',
  member_trainings: 'Buổi tập huấn thành viên',
  citizen_classes: 'Lớp cho người dân',
  class_participants: 'Lượt người dân dự lớp',
};

// Months are calendar months in Vietnam time (UTC+7, no daylight saving).
function vnNow() {
  return new Date(Date.now() + 7 * 3600 * 1000);
}
export function monthOf(date) {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}
export function addMonths(month, n) {
  const [y, m] = month.split('-').map(Number);
  return monthOf(new Date(Date.UTC(y, m - 1 + n, 1)));
}
// The month officers report on: the last one that is over.
export const reportMonth = () => addMonths(monthOf(vnNow()), -1);
export function monthName(month) {
  const [y, m] = month.split('-');
  return `tháng ${Number(m)}/${y}`;
}
export const isMonth = (m) => /^[0-9]{4}-(0[1-9]|1[0-2])$/.test(m || '');

export function statusBadge(status) {
  return h('span', { class: `badge st-${status}` }, LABELS.status[status] || status);
}

// A message box; role=alert so screen readers announce it.
export function notice(text, kind = 'error') {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// A labelled field. `options` makes a <select>; `type: 'textarea'` a textarea.
export function field(name, label, { type = 'text', value = '', options, required, hint, ...rest } = {}) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  let input;
  if (options) {
    input = h('select', { id, name, required }, Object.entries(options).map(([v, t]) =>
      h('option', { value: v, selected: String(value ?? '') === v }, t)));
  } else if (type === 'textarea') {
    input = h('textarea', { id, name, required, rows: 3, ...rest }, value ?? '');
  } else {
    input = h('input', { id, name, type, value: value ?? '', required, ...rest });
  }
  const err = h('span', { class: 'field-error', id: `${id}-err` });
  input.setAttribute('aria-describedby', `${id}-err`);
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input, hint ? h('small', {}, hint) : null, err);
}

// Clears, then shows an API error on a form: the message at the top, each field error under
// its field (aria-invalid, focus on the first).
export function showError(form, error) {
  clearErrors(form);
  const box = form.querySelector('.form-message');
  const text = error instanceof ApiError ? error.message : `Lỗi: ${error.message || error}`;
  if (box) box.replaceChildren(notice(text));
  let first = null;
  for (const fe of (error.problem && error.problem.errors) || []) {
    const name = String(fe.field || '').split(/[.[]/)[0];
    const wrap = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!wrap) {
      if (box) box.append(notice(`${fe.field}: ${fieldText(fe)}`));
      continue;
    }
    wrap.classList.add('invalid');
    const input = wrap.querySelector('input, select, textarea');
    input.setAttribute('aria-invalid', 'true');
    wrap.querySelector('.field-error').textContent = fieldText(fe);
    first = first || input;
  }
  (first || box)?.focus?.();
}

export function clearErrors(form) {
  form.querySelector('.form-message')?.replaceChildren();
  for (const w of form.querySelectorAll('.field.invalid')) {
    w.classList.remove('invalid');
    w.querySelector('[aria-invalid]')?.removeAttribute('aria-invalid');
    w.querySelector('.field-error').textContent = '';
  }
}

// A form whose submit runs `action(values)`; errors are shown on the form.
export function form(fields, submitLabel, action, extra = []) {
  const f = h('form', { novalidate: true },
    h('div', { class: 'form-message', tabindex: '-1' }), fields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, submitLabel), extra));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    const button = f.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await action(values(f), f);
    } catch (e) {
      showError(f, e);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

export function values(f) {
  const out = {};
  for (const el of f.elements) if (el.name) out[el.name] = el.value;
  return out;
}

// '' → null; numbers where asked.
export function clean(v, numeric = []) {
  const out = {};
  for (const [k, x] of Object.entries(v)) {
    const t = typeof x === 'string' ? x.trim() : x;
    out[k] = t === '' ? null : numeric.includes(k) ? Number(t) : t;
  }
  return out;
}

export function table(headers, rows, { caption, className } = {}) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || 'Bảng' },
    h('table', { class: className },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows)));
}

// Downloads a report file with the access token (a plain link would carry none).
export async function download(path, accept, name) {
  const { data } = await request('GET', path, { accept });
  saveBlob(data, name);
}

// Saves a blob already in memory under `name`. The URL lives a minute: a busy browser may
// start the download well after the click.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// Horizontal bars (communes or provinces ranked), with the numbers as a table beside it.
export function barChart(title, items, { max = 15 } = {}) {
  const top = [...items].sort((a, b) => b.value - a.value).slice(0, max);
  const peak = Math.max(1, ...top.map((i) => i.value));
  const rowH = 22;
  const labelW = 150;
  const width = 480;
  const svg = s('svg', { viewBox: `0 0 ${width} ${top.length * rowH + 4}`, role: 'img', 'aria-label': title, class: 'chart' },
    s('title', {}, title),
    top.map((it, i) => {
      const w = ((width - labelW - 60) * it.value) / peak;
      return s('g', { transform: `translate(0 ${i * rowH})` },
        s('text', { x: labelW - 6, y: 15, 'text-anchor': 'end', class: 'lbl' }, truncate(it.label, 22)),
        s('rect', { x: labelW, y: 4, width: Math.max(w, it.value ? 2 : 0), height: rowH - 8, class: 'bar' }),
        s('text', { x: labelW + w + 4, y: 15, class: 'val' }, fmt(it.value)));
    }));
  const tbl = table(['Đơn vị', 'Số liệu'], top.map((it) => h('tr', {}, h('td', {}, it.label), h('td', { class: 'num' }, fmt(it.value)))), { caption: `Số liệu: ${title}` });
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title), h('div', { class: 'chart-pair' }, svg, tbl));
}

const truncate = (t, n) => (t.length > n ? `${t.slice(0, n - 1)}…` : t);

// Lines over months, one per series, with a table of the numbers beside it.
export function lineChart(title, points, series) {
  const W = 520, H = 220, L = 44, R = 10, T = 10, B = 30;
  const peak = Math.max(1, ...points.flatMap((p) => series.map((sr) => p[sr.key])));
  const x = (i) => L + (points.length < 2 ? 0 : ((W - L - R) * i) / (points.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / peak);
  const ticks = [0, 0.5, 1].map((f) => Math.round(peak * f));
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'chart' },
    s('title', {}, title),
    ticks.map((t) => s('g', {},
      s('line', { x1: L, x2: W - R, y1: y(t), y2: y(t), class: 'grid' }),
      s('text', { x: L - 4, y: y(t) + 4, 'text-anchor': 'end', class: 'val' }, fmt(t)))),
    points.map((p, i) => (i % 2 === 0 || points.length < 8
      ? s('text', { x: x(i), y: H - 10, 'text-anchor': 'middle', class: 'lbl' }, p.month.slice(5) + '/' + p.month.slice(2, 4))
      : null)),
    series.map((sr, k) => s('g', { class: `series s${k}` },
      s('polyline', { points: points.map((p, i) => `${x(i)},${y(p[sr.key])}`).join(' '), fill: 'none' }),
      points.map((p, i) => s('circle', { cx: x(i), cy: y(p[sr.key]), r: 3 })))));
  const legend = h('ul', { class: 'legend' }, series.map((sr, k) => h('li', { class: `s${k}` }, sr.label)));
  const tbl = table(['Tháng', ...series.map((sr) => sr.label)],
    points.map((p) => h('tr', {}, h('td', {}, p.month), series.map((sr) => h('td', { class: 'num' }, fmt(p[sr.key]))))),
    { caption: `Số liệu: ${title}` });
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title), h('div', { class: 'chart-pair' }, h('div', {}, svg, legend), tbl));
}

const IND_STATUS = { met: 'Đạt', on_track: 'Đúng tiến độ', behind: 'Chậm tiến độ' };

// Programme indicators against their targets: a progress bar per indicator (a native
// <progress>, so its value is announced) beside the numbers.
export function indicatorTable(list, caption = 'Chỉ tiêu chương trình') {
  const result = (i) => (i.kind === 'rate'
    ? (i.rate === null ? `${fmt(i.numerator)} (chưa có mẫu số)` : `${pct(i.rate)} (${fmt(i.numerator)}/${fmt(i.denominator)})`)
    : fmt(i.numerator));
  const target = (i) => (i.target_rate !== null && i.target_rate !== undefined ? pct(i.target_rate)
    : i.target_value !== null && i.target_value !== undefined ? fmt(i.target_value) : '—');
  const rows = list.map((i) => h('tr', { 'data-indicator': i.code },
    h('th', { scope: 'row' }, i.name),
    h('td', { class: 'num' }, result(i)),
    h('td', { class: 'num' }, target(i)),
    h('td', { class: 'progress' }, i.progress === null || i.progress === undefined ? '—' : [
      h('progress', { max: '1', value: String(Math.min(1, i.progress)), 'aria-label': `Tiến độ: ${i.name}` }),
      ' ', pct(i.progress)]),
    h('td', {}, i.status ? h('span', { class: `badge ind-${i.status}` }, IND_STATUS[i.status] || i.status) : '—')));
  return table(['Chỉ tiêu', 'Kết quả', 'Chỉ tiêu đặt ra', 'Tiến độ', 'Đánh giá'], rows, { caption, className: 'indicators' });
}
