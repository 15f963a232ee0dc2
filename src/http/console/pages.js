// Pages: login, account, the commune's month, the province's board and report, the country.
import * as api from './api.js';
import {
  h, fmt, pct, LABELS, FIGURES, notice, field, form, table, statusBadge, download,
  barChart, lineChart, reportMonth, addMonths, monthName, isMonth, indicatorTable, clean,
} from './ui.js';

const page = (title, ...children) => h('section', {}, h('h1', {}, title), children);

export async function login(ctx) {
  const f = form([
    field('username', 'Tên đăng nhập hoặc số điện thoại', { required: true, autocomplete: 'username', autocapitalize: 'none' }),
    field('password', 'Mật khẩu', { type: 'password', required: true, autocomplete: 'current-password' }),
  ], 'Đăng nhập', async (v) => {
    await api.login(v.username, v.password);
    await ctx.startSession();
    ctx.go('#/');
  });
  return h('section', { class: 'narrow' }, h('h1', {}, 'Đăng nhập'),
    h('p', {}, 'Bảng điều khiển dành cho cán bộ xã, tỉnh và quản trị viên.'), f,
    h('p', {}, 'Được cấp mã kích hoạt? ', h('a', { href: '#/kich-hoat' }, 'Kích hoạt tài khoản')));
}

// Redeeming an activation code an officer handed over: the owner chooses its password.
export async function activate(ctx) {
  const f = form([
    field('code', 'Mã kích hoạt', { required: true, autocomplete: 'one-time-code', autocapitalize: 'characters', hint: 'Dạng XXXXX-XXXXX, không phân biệt hoa thường.' }),
    field('password', 'Mật khẩu bạn chọn', { type: 'password', required: true, autocomplete: 'new-password', hint: 'Từ 8 ký tự; nên là một cụm từ dễ nhớ, khó đoán.' }),
    field('confirm', 'Nhập lại mật khẩu', { type: 'password', required: true, autocomplete: 'new-password' }),
  ], 'Kích hoạt', async (v) => {
    if (v.password !== v.confirm) {
      throw new api.ApiError(422, { code: 'validation_failed', errors: [{ field: 'confirm', code: 'mismatch', message: 'Hai mật khẩu không khớp.' }] });
    }
    await api.activate(v.code, v.password);
    await ctx.startSession();
    ctx.go('#/');
  });
  return h('section', { class: 'narrow' }, h('h1', {}, 'Kích hoạt tài khoản'), f,
    h('p', {}, h('a', { href: '#/dang-nhap' }, '← Đăng nhập')));
}

export async function changePassword(ctx) {
  const forced = ctx.me.must_change_password;
  const f = form([
    field('current_password', 'Mật khẩu hiện tại', { type: 'password', required: true, autocomplete: 'current-password' }),
    field('new_password', 'Mật khẩu mới', { type: 'password', required: true, autocomplete: 'new-password', minlength: 8, hint: 'Từ 8 ký tự; nên là một cụm từ dễ nhớ, khó đoán.' }),
    field('confirm', 'Nhập lại mật khẩu mới', { type: 'password', required: true, autocomplete: 'new-password' }),
  ], 'Đổi mật khẩu', async (v) => {
    if (v.new_password !== v.confirm) {
      throw new api.ApiError(422, { code: 'validation_failed', errors: [{ field: 'confirm', code: 'mismatch', message: 'Hai mật khẩu mới không khớp.' }] });
    }
    await api.request('PUT', '/api/v1/me/password', { body: { current_password: v.current_password, new_password: v.new_password } });
    await ctx.startSession();
    ctx.go('#/');
  });
  return h('section', { class: 'narrow' }, h('h1', {}, 'Đổi mật khẩu'),
    forced ? notice('Mật khẩu của bạn do người khác đặt. Vui lòng đổi mật khẩu trước khi tiếp tục.', 'warn') : null, f);
}

export async function me(ctx) {
  const m = ctx.me;
  const rows = [
    ['Tên đăng nhập', m.username],
    ['Vai trò', LABELS.role[m.role] || m.role],
    ['Đơn vị', ctx.unit ? `${ctx.unit.name} (${ctx.unit.code})` : 'Toàn quốc'],
  ];
  if (m.membership) rows.push(['Tổ', `${m.membership.team_name} — ${LABELS.teamRole[m.membership.team_role] || ''}`]);
  return page('Tài khoản của tôi',
    h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    ['team_leader', 'team_member'].includes(m.role)
      ? notice('Tài khoản tổ dùng ứng dụng trên điện thoại; bảng điều khiển dành cho cán bộ.', 'info') : null,
    h('p', {}, h('a', { href: '#/doi-mat-khau', class: 'button' }, 'Đổi mật khẩu')));
}

// A month picker that navigates to `base?…&thang=YYYY-MM`.
function monthPicker(ctx, base, month, extra = {}) {
  const input = h('input', { type: 'month', id: 'month-pick', name: 'thang', value: month, max: reportMonth() });
  const f = h('form', { class: 'inline', role: 'search' },
    h('label', { for: 'month-pick' }, 'Tháng'), input, h('button', { type: 'submit' }, 'Xem'));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (isMonth(input.value)) ctx.go(`${base}${api.query({ ...extra, thang: input.value })}`);
  });
  return f;
}

function cards(totals) {
  const inactive = Math.max(0, totals.members_active - totals.members_logging);
  const items = [
    ['logs', fmt(totals.logs)],
    ['citizens_helped', fmt(totals.citizens_helped)],
    ['members_logging', `${fmt(totals.members_logging)} / ${fmt(totals.members_active)}`],
    ['teams_active', fmt(totals.teams_active)],
    ['villages_with_team', `${fmt(totals.villages_with_team)} / ${fmt(totals.villages)}`],
    ['member_trainings', fmt(totals.member_trainings)],
    ['citizen_classes', `${fmt(totals.citizen_classes)} (${fmt(totals.class_participants)} lượt)`],
  ];
  return h('div', {},
    h('ul', { class: 'cards', 'aria-label': 'Số liệu chính' }, items.map(([k, v]) =>
      h('li', { 'data-figure': k }, h('span', { class: 'fig' }, v), h('span', { class: 'cap' }, FIGURES[k])))),
    inactive ? h('p', { class: 'hint' }, `${fmt(inactive)} thành viên đang hoạt động chưa ghi nhận lượt hỗ trợ nào trong tháng.`) : null);
}

const ZERO = h('span', { class: 'zero-tag' }, 'chưa có hoạt động');

function figureRows(rows, cols, nameOf = (r) => r.name) {
  return rows.map((r) => {
    const zero = r.figures.logs === 0;
    return h('tr', { class: zero ? 'zero' : null },
      h('th', { scope: 'row' }, nameOf(r), zero ? [' ', ZERO.cloneNode(true)] : null),
      cols.map((c) => h('td', { class: 'num' }, c.render ? c.render(r.figures) : fmt(r.figures[c.key]))));
  });
}

const COLS = [
  { key: 'logs', label: 'Lượt hỗ trợ' },
  { key: 'citizens_helped', label: 'Người dân' },
  { key: 'members_logging', label: 'TV có ghi nhận' },
  { key: 'members_active', label: 'TV hoạt động' },
];

function downloads(unit, month) {
  const path = (format) => `/api/v1/reports/monthly${api.query({ unit, month, format })}`;
  const name = (ext) => `bao-cao-${unit}-${month}.${ext}`;
  const msg = h('span', { role: 'status' });
  const run = (format, accept) => async () => {
    msg.textContent = '';
    try {
      await download(path(format), accept, name(format));
    } catch (e) {
      msg.textContent = e.message;
    }
  };
  return h('div', { class: 'downloads' },
    h('button', { type: 'button', onclick: run('csv', 'text/csv') }, 'Tải CSV'),
    h('button', { type: 'button', onclick: run('xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet') }, 'Tải Excel (XLSX)'),
    msg);
}

// The commune's month: status and its workflow, headline figures, villages and teams.
export async function communeMonth(ctx) {
  const month = isMonth(ctx.params.get('thang')) ? ctx.params.get('thang') : reportMonth();
  const commune = ctx.params.get('xa') || ctx.me.unit_code;
  const [report, categories, inactive] = await Promise.all([
    api.get(`/api/v1/reports/monthly${api.query({ unit: commune, month })}`),
    api.get('/api/v1/categories').catch(() => []),
    api.get(`/api/v1/reports/inactive${api.query({ unit: commune, month })}`).catch(() => null),
  ]);
  const st = report.status || { status: 'not_started' };
  const mine = ctx.me.role === 'commune_officer';
  const statusBox = h('div', { class: `status-box st-${st.status}`, id: 'report-status' },
    h('p', {}, 'Trạng thái: ', statusBadge(st.status)));
  if (st.status === 'returned' && st.reason) {
    statusBox.append(h('p', { class: 'reason' }, h('strong', {}, 'Lý do trả lại: '), st.reason));
  }
  if (st.status === 'reopened' && st.reason) {
    statusBox.append(h('p', { class: 'reason' }, h('strong', {}, 'Lý do mở lại: '), st.reason));
  }
  if (st.status === 'approved') {
    statusBox.append(h('p', { class: 'locked' }, '🔒 Tháng đã khóa sổ: số liệu được giữ như lúc duyệt; không thể thêm, sửa hoạt động trong tháng này.'));
  }
  const msg = h('div', { class: 'form-message', tabindex: '-1' });
  if (mine && ['not_started', 'draft', 'returned', 'reopened'].includes(st.status)) {
    statusBox.append(h('button', {
      type: 'button', class: 'primary', id: 'submit-report',
      onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await api.post(`/api/v1/reports/monthly/${commune}/${month}/submit`);
          ctx.go(`#/thang${api.query({ thang: month })}`);
        } catch (e) {
          msg.replaceChildren(notice(e.message));
          msg.focus();
          ev.target.disabled = false;
        }
      },
    }, st.status === 'returned' ? 'Nộp lại báo cáo' : 'Nộp báo cáo'), msg);
  }
  const names = Object.fromEntries(categories.map((c) => [c.code, c.name]));
  const villages = report.rows.filter((r) => r.kind === 'village');
  const teams = report.rows.filter((r) => r.kind === 'team');
  const none = (r) => (r.key === 'none' ? h('em', {}, r.kind === 'village' ? '(không thuộc thôn nào)' : '(không thuộc tổ nào)') : r.name);
  const cats = Object.entries(report.totals.by_category || {});
  return page(`Báo cáo ${monthName(month)} — ${report.unit.name}`,
    h('div', { class: 'toolbar' }, monthPicker(ctx, '#/thang', month, commune !== ctx.me.unit_code ? { xa: commune } : {}), downloads(commune, month)),
    statusBox,
    cards(report.totals),
    (report.indicators || []).length ? [h('h2', {}, 'Chỉ tiêu so với kế hoạch'),
      mine && st.status !== 'approved' ? h('p', {}, h('a', { href: `#/chi-tieu${api.query({ thang: month })}` }, 'Nhập số liệu chỉ tiêu của tháng →')) : null,
      indicatorTable(report.indicators)] : null,
    h('h2', {}, 'Theo thôn, tổ dân phố'),
    table(['Thôn', ...COLS.map((c) => c.label)], figureRows(villages, COLS, none), { caption: 'Các dòng tô màu chưa có lượt hỗ trợ nào trong tháng.', className: 'figures' }),
    inactive && inactive.length ? [h('h2', {}, `Thành viên chưa ghi nhận hoạt động (${fmt(inactive.length)})`),
      h('div', { id: 'inactive' }, table(['Họ tên', 'Tổ', 'Vai trò', 'Điện thoại'], inactive.map((m) => h('tr', { 'data-member': m.member_id },
        h('th', { scope: 'row' }, m.full_name), h('td', {}, m.team_name), h('td', {}, LABELS.teamRole[m.team_role] || m.team_role), h('td', {}, m.phone || '—'))),
      { caption: 'Đang tham gia tổ trong tháng nhưng không có lượt hỗ trợ nào.' }))] : null,
    h('h2', {}, 'Theo tổ công nghệ số'),
    table(['Tổ', ...COLS.map((c) => c.label)], figureRows(teams, COLS, none), { className: 'figures' }),
    cats.length ? [h('h2', {}, 'Theo loại hỗ trợ'),
      table(['Loại hỗ trợ', 'Lượt', 'Người dân'], cats.map(([code, t]) =>
        h('tr', {}, h('th', { scope: 'row' }, names[code] || code), h('td', { class: 'num' }, fmt(t.logs)), h('td', { class: 'num' }, fmt(t.citizens)))))] : null);
}

async function provinces() {
  const r = await api.get('/api/v1/units?level=province&page_size=100');
  return r.items;
}

// Reporting discipline of a commune's month, as the API judges it: received by the end of the
// due date (on time), received after it (late), not received and past it (overdue), or not
// received and not yet due.
const TIMELINESS = { on_time: 'Nộp đúng hạn', late: 'Nộp muộn', overdue: 'Quá hạn, chưa nộp', pending: 'Chưa đến hạn' };
function timeliness(c) {
  if (c.on_time === true) return 'on_time';
  if (c.on_time === false) return 'late';
  return c.overdue ? 'overdue' : 'pending';
}
const dayName = (d) => new Date(`${d}T00:00:00`).toLocaleDateString('vi-VN');
function timelinessBadge(c) {
  const t = timeliness(c);
  return h('span', { class: `badge due-${t}`, title: `Hạn: ${dayName(c.due_on)}` }, TIMELINESS[t]);
}

// Province (or admin with `tinh`): every commune's report state, approve or return from here.
export async function provinceBoard(ctx) {
  const month = isMonth(ctx.params.get('thang')) ? ctx.params.get('thang') : reportMonth();
  let province = ctx.me.role === 'province_officer' ? ctx.me.unit_code : ctx.params.get('tinh');
  const picker = [];
  if (ctx.me.role === 'admin') {
    const list = await provinces();
    province = province || list[0].code;
    const sel = h('select', { id: 'province-pick' }, list.map((p) => h('option', { value: p.code, selected: p.code === province }, p.name)));
    sel.addEventListener('change', () => ctx.go(`#/tinh${api.query({ tinh: sel.value, thang: month })}`));
    picker.push(h('label', { for: 'province-pick' }, 'Tỉnh, thành phố '), sel);
  }
  const extra = ctx.me.role === 'admin' ? { tinh: province } : {};
  const [list, settings] = await Promise.all([
    api.get(`/api/v1/reports/status${api.query({ province, month })}`),
    api.get(`/api/v1/reports/settings/${province}`).catch(() => null),
  ]);
  const counts = {};
  const timely = {};
  for (const c of list) {
    counts[c.status] = (counts[c.status] || 0) + 1;
    timely[timeliness(c)] = (timely[timeliness(c)] || 0) + 1;
  }
  const filter = ctx.params.get('loc') || '';
  const shown = filter ? list.filter((c) => c.status === filter || timeliness(c) === filter) : list;
  const filterSel = h('select', { id: 'status-filter' },
    h('option', { value: '' }, `Tất cả (${list.length})`),
    Object.entries(LABELS.status).map(([k, v]) => h('option', { value: k, selected: k === filter }, `${v} (${counts[k] || 0})`)),
    Object.entries(TIMELINESS).map(([k, v]) => h('option', { value: k, selected: k === filter }, `${v} (${timely[k] || 0})`)));
  const due = list[0] ? list[0].due_on : null;
  filterSel.addEventListener('change', () => ctx.go(`#/tinh${api.query({ ...extra, thang: month, loc: filterSel.value })}`));
  const here = `#/tinh${api.query({ ...extra, thang: month, loc: filter })}`;
  // The province's due day (the 5th until it sets one), changed with If-Match.
  const dueForm = settings ? h('details', { class: 'create', id: 'due-settings' }, h('summary', {}, 'Đổi ngày hạn nộp'),
    form([field('due_day', 'Báo cáo của một tháng nộp trước hết ngày (1–28) của tháng sau', { type: 'number', min: 1, max: 28, required: true, value: settings.due_day })],
      'Lưu ngày hạn nộp', async (v) => {
        await api.request('PUT', `/api/v1/reports/settings/${province}`, { body: { due_day: Number(v.due_day) }, ifMatch: `"${settings.version}"` });
        ctx.go(here);
      })) : null;

  const row = (c) => {
    const actions = h('td', { class: 'actions' });
    const tr = h('tr', { 'data-commune': c.commune_code },
      h('th', { scope: 'row' }, h('a', { href: `#/thang${api.query({ xa: c.commune_code, thang: month })}` }, c.commune_name)),
      h('td', { class: 'status' }, statusBadge(c.status)),
      h('td', {}, c.submitted_at ? new Date(c.submitted_at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }) : '—'),
      h('td', { class: 'due' }, timelinessBadge(c)),
      h('td', { class: 'reason' }, c.reason || ''),
      actions);
    const decide = async (action, reason) => {
      await api.post(`/api/v1/reports/monthly/${c.commune_code}/${month}/${action}`, reason === undefined ? undefined : { reason });
      ctx.go(here);
    };
    const withReason = (action, label) => () => {
      const f = form([field('reason', `Lý do (${c.commune_name})`, { type: 'textarea', required: true })], label,
        async (v) => {
          if (!v.reason.trim()) throw new api.ApiError(422, { code: 'validation_failed', errors: [{ field: 'reason', code: 'required' }] });
          await decide(action, v.reason.trim());
        },
        [h('button', { type: 'button', onclick: () => actions.replaceChildren(...buttons()) }, 'Hủy')]);
      actions.replaceChildren(f);
      f.querySelector('textarea').focus();
    };
    const buttons = () => {
      const msg = h('span', { class: 'field-error', role: 'alert' });
      const b = [];
      if (c.status === 'submitted') {
        b.push(h('button', {
          type: 'button', class: 'primary', onclick: async (ev) => {
            ev.target.disabled = true;
            try { await decide('approve'); } catch (e) { msg.textContent = e.message; ev.target.disabled = false; }
          },
        }, 'Duyệt'));
        b.push(h('button', { type: 'button', onclick: withReason('return', 'Trả lại') }, 'Trả lại'));
      }
      if (c.status === 'approved') b.push(h('button', { type: 'button', onclick: withReason('reopen', 'Mở lại') }, 'Mở lại'));
      b.push(msg);
      return b;
    };
    actions.replaceChildren(...buttons());
    return tr;
  };

  return page(`Tình trạng nộp báo cáo ${monthName(month)}`,
    h('div', { class: 'toolbar' }, picker, monthPicker(ctx, '#/tinh', month, extra),
      h('span', {}, h('label', { for: 'status-filter' }, 'Lọc '), filterSel)),
    h('ul', { class: 'cards small', 'aria-label': 'Tổng hợp trạng thái' }, Object.entries(LABELS.status).map(([k, v]) =>
      h('li', { class: `st-${k}` }, h('span', { class: 'fig' }, fmt(counts[k] || 0)), h('span', { class: 'cap' }, v)))),
    due ? h('p', { id: 'due-on' }, 'Hạn nộp báo cáo ', monthName(month), ': hết ngày ', h('strong', {}, dayName(due)), '.') : null,
    dueForm,
    h('ul', { class: 'cards small', id: 'timeliness', 'aria-label': 'Tổng hợp hạn nộp' }, Object.entries(TIMELINESS).map(([k, v]) =>
      h('li', { class: `due-${k}` }, h('span', { class: 'fig' }, fmt(timely[k] || 0)), h('span', { class: 'cap' }, v)))),
    h('p', {}, h('a', { href: `#/tinh/bao-cao${api.query({ ...extra, thang: month })}` }, 'Xem báo cáo tổng hợp của tỉnh →')),
    table(['Xã, phường', 'Trạng thái', 'Nộp lúc', 'Hạn nộp', 'Lý do', 'Thao tác'], shown.map(row), { className: 'board' }));
}

// How the province's communes reported the month (received, on time, overdue).
function reportingLine(r, overdueHref) {
  const rate = (x) => (x === null || x === undefined ? '—' : pct(x));
  return h('p', { id: 'reporting' }, `Báo cáo đã nhận: ${fmt(r.reported)}/${fmt(r.communes)} xã (${rate(r.reporting_rate)}); `,
    `đúng hạn: ${fmt(r.on_time)} (${rate(r.on_time_rate)}); hạn nộp: hết ngày ${dayName(r.due_on)}; `,
    h('a', { href: overdueHref }, `quá hạn chưa nộp: ${fmt(r.overdue.length)}`), '.');
}

const TREND = [
  { key: 'logs', label: 'Lượt hỗ trợ' },
  { key: 'citizens_helped', label: 'Người dân được hỗ trợ' },
  { key: 'members_logging', label: 'Thành viên có ghi nhận' },
];

async function areaReport(ctx, unit, month, base, extra, childLabel, childLink) {
  // The trend is asked for at the same time as the month but drawn when it comes: the month's
  // figures do not wait for it (the country's trend takes a second on the national data set).
  const trendBox = h('div', { class: 'trend', 'aria-busy': 'true' }, h('p', { class: 'hint' }, 'Đang tải xu hướng 12 tháng…'));
  api.get(`/api/v1/reports/trend${api.query({ unit, from: addMonths(month, -11), to: month })}`)
    .then((trend) => trendBox.replaceChildren(lineChart('Xu hướng 12 tháng', trend, TREND)))
    .catch((e) => trendBox.replaceChildren(notice(`Không tải được xu hướng 12 tháng: ${e.message}`)))
    .finally(() => trendBox.removeAttribute('aria-busy'));
  const report = await api.get(`/api/v1/reports/monthly${api.query({ unit, month })}`);
  const cols = [...COLS, { key: 'teams_active', label: 'Tổ hoạt động' },
    { key: 'village_coverage', label: 'Thôn có tổ', render: (f) => (f.villages ? pct(f.villages_with_team / f.villages) : '—') }];
  return page(`Báo cáo ${monthName(month)} — ${report.unit.name}`,
    h('div', { class: 'toolbar' }, monthPicker(ctx, base, month, extra), downloads(unit, month)),
    cards(report.totals),
    report.reporting ? reportingLine(report.reporting, `#/tinh${api.query({ ...extra, thang: month, loc: 'overdue' })}`) : null,
    trendBox,
    (report.indicators || []).length ? [h('h2', {}, 'Chỉ tiêu so với kế hoạch'), indicatorTable(report.indicators)] : null,
    barChart(`${childLabel} có nhiều lượt hỗ trợ nhất`, report.rows.map((r) => ({ label: r.name, value: r.figures.logs }))),
    h('h2', {}, `Từng ${childLabel.toLowerCase()}`),
    table([childLabel, ...cols.map((c) => c.label)],
      figureRows(report.rows, cols, (r) => [childLink(r), r.frozen ? h('span', { class: 'frozen', title: 'Số liệu đã duyệt' }, ' 🔒') : null]),
      { caption: 'Các dòng tô màu chưa có lượt hỗ trợ nào trong tháng; 🔒: số liệu đã duyệt.', className: 'figures' }));
}

export async function provinceReport(ctx) {
  const month = isMonth(ctx.params.get('thang')) ? ctx.params.get('thang') : reportMonth();
  const province = ctx.me.role === 'province_officer' ? ctx.me.unit_code : ctx.params.get('tinh') || (await provinces())[0].code;
  const extra = ctx.me.role === 'admin' ? { tinh: province } : {};
  return areaReport(ctx, province, month, '#/tinh/bao-cao', extra, 'Xã, phường',
    (r) => h('a', { href: `#/thang${api.query({ xa: r.key, thang: month })}` }, r.name));
}

export async function national(ctx) {
  const month = isMonth(ctx.params.get('thang')) ? ctx.params.get('thang') : reportMonth();
  return areaReport(ctx, 'VN', month, '#/quoc-gia', {}, 'Tỉnh, thành phố',
    (r) => h('a', { href: `#/tinh/bao-cao${api.query({ tinh: r.key, thang: month })}` }, r.name));
}

export async function categories(ctx) {
  const list = await api.get('/api/v1/categories');
  const admin = ctx.me.role === 'admin';
  const rows = list.map((c) => h('tr', {},
    h('td', {}, h('code', {}, c.code)), h('th', { scope: 'row' }, c.name),
    h('td', {}, c.retired_at ? 'Ngừng dùng' : 'Đang dùng'),
    admin ? h('td', {}, h('button', {
      type: 'button', onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await api.post(`/api/v1/categories/${c.code}/${c.retired_at ? 'restore' : 'retire'}`);
          ctx.go('#/danh-muc');
        } catch (e) { ev.target.after(notice(e.message)); ev.target.disabled = false; }
      },
    }, c.retired_at ? 'Dùng lại' : 'Ngừng dùng')) : null));
  const create = admin ? form([
    field('code', 'Mã (chữ thường, số, _)', { required: true, pattern: '[a-z0-9_]{2,40}' }),
    field('name', 'Tên loại hỗ trợ', { required: true }),
    field('sort_order', 'Thứ tự', { type: 'number', min: 0, max: 10000 }),
  ], 'Thêm loại hỗ trợ', async (v) => {
    await api.post('/api/v1/categories', { code: v.code.trim(), name: v.name, sort_order: v.sort_order === '' ? null : Number(v.sort_order) });
    ctx.go('#/danh-muc');
  }) : null;
  return page('Danh mục loại hỗ trợ',
    table(['Mã', 'Tên', 'Tình trạng', ...(admin ? ['Thao tác'] : [])], rows),
    create ? [h('h2', {}, 'Thêm loại hỗ trợ'), create] : null);
}

// The commune officer enters the month's values of the indicators entered by hand. Each value
// is saved with If-Match on the version read: a value someone else changed meanwhile is shown
// as a conflict.
export async function indicatorValues(ctx) {
  const month = isMonth(ctx.params.get('thang')) ? ctx.params.get('thang') : reportMonth();
  const commune = ctx.me.unit_code;
  const [catalogue, values, villages] = await Promise.all([
    api.get('/api/v1/indicators'),
    api.get(`/api/v1/indicator-values${api.query({ commune, month })}`),
    api.get(`/api/v1/villages${api.query({ page_size: 200 })}`),
  ]);
  const villageNames = Object.fromEntries(villages.items.map((v) => [String(v.id), v.name]));
  const find = (code, village) => values.find((v) => v.indicator_code === code && String(v.village_id ?? '') === String(village ?? ''));
  const entered = catalogue.filter((i) => i.source === 'entered' && !i.retired_at);
  const item = (ind) => {
    const village = ind.level === 'village';
    const first = village ? find(ind.code, villages.items[0]?.id) : find(ind.code, null);
    const withDenominator = ['dossiers', 'entered'].includes(ind.denominator);
    const saved = h('div', { class: 'saved', role: 'status' });
    const f = form([
      village ? field('village_id', 'Thôn', { options: villageNames, value: villages.items[0]?.id }) : null,
      field('value', ind.kind === 'rate' ? 'Tử số (số người, hộ, hồ sơ…)' : 'Số lượng', { type: 'number', min: 0, required: true, value: first?.value }),
      withDenominator ? field('denominator', 'Mẫu số', { type: 'number', min: 0, value: first?.denominator }) : null,
      field('source_note', 'Nguồn số liệu', { value: first?.source_note, hint: 'Ví dụ: Công an xã' }),
    ], 'Lưu', async (v) => {
      saved.replaceChildren();
      const body = clean(v, ['value', 'denominator', 'village_id']);
      const current = find(ind.code, body.village_id);
      try {
        const { data } = await api.request('PUT', '/api/v1/indicator-values', {
          body: { indicator_code: ind.code, month, ...body }, ifMatch: current ? `"${current.version}"` : undefined,
        });
        if (current) values.splice(values.indexOf(current), 1);
        values.push(data);
        saved.replaceChildren(notice(`Đã lưu: ${fmt(data.value)}.`, 'ok'));
      } catch (e) {
        const raced = e.status === 412 || (e.status === 409 && !current && e.code !== 'month_locked');
        if (!raced) throw e;
        // Someone saved this value meanwhile: show theirs; saving again overwrites it.
        const fresh = await api.get(`/api/v1/indicator-values${api.query({ commune, month, indicator: ind.code })}`);
        const theirs = fresh.find((x) => String(x.village_id ?? '') === String(body.village_id ?? ''));
        if (current) values.splice(values.indexOf(current), 1);
        if (theirs) values.push(theirs);
        throw new api.ApiError(412, { code: 'version_mismatch', errors: [{ field: 'value', code: 'conflict', message: `Người khác vừa lưu giá trị ${theirs ? fmt(theirs.value) : ''}. Bấm "Lưu" lần nữa để ghi đè bằng giá trị của bạn.` }] });
      }
    });
    if (village) {
      f.elements.namedItem('village_id').addEventListener('change', (ev) => {
        const x = find(ind.code, ev.target.value);
        f.elements.namedItem('value').value = x?.value ?? '';
        f.elements.namedItem('source_note').value = x?.source_note ?? '';
      });
    }
    return h('li', { 'data-indicator': ind.code }, h('h2', {}, ind.name), saved, f);
  };
  return page(`Số liệu chỉ tiêu ${monthName(month)}`,
    h('div', { class: 'toolbar' }, monthPicker(ctx, '#/chi-tieu', month),
      h('a', { href: `#/thang${api.query({ thang: month })}` }, '← Báo cáo tháng')),
    h('p', { class: 'hint' }, 'Số liệu nhập tay, tính đến cuối tháng. Tỷ lệ được tính trên mẫu số của năm (dân số, số hộ, người từ 15 tuổi).'),
    h('ul', { class: 'indicator-forms' }, entered.map(item)));
}

// The province officer sets the province's yearly target for an indicator and splits it down
// to the communes (in proportion to each one's remaining gap); a preview writes nothing.
export async function provinceTargets(ctx) {
  const province = ctx.me.unit_code;
  const year = Number(ctx.params.get('nam')) || Number(reportMonth().slice(0, 4));
  const catalogue = (await api.get('/api/v1/indicators')).filter((i) => !i.retired_at);
  const ind = catalogue.find((i) => i.code === ctx.params.get('ct')) || catalogue[0];
  const here = (extra = {}) => `#/tinh/chi-tieu${api.query({ nam: year, ct: ind.code, ...extra })}`;
  const targets = await api.get(`/api/v1/indicator-targets${api.query({ year, unit_kind: 'province', unit_key: province, indicator: ind.code })}`);
  const target = targets.find((t) => !t.month);
  const rate = ind.kind === 'rate';

  const sel = h('select', { id: 'indicator-pick' }, catalogue.map((i) => h('option', { value: i.code, selected: i.code === ind.code }, i.name)));
  sel.addEventListener('change', () => ctx.go(`#/tinh/chi-tieu${api.query({ nam: year, ct: sel.value })}`));
  const f = form([
    rate ? field('target_percent', 'Tỷ lệ phải đạt (%)', { type: 'number', min: 0, max: 100, step: 'any', required: true, value: target?.target_rate === null || target?.target_rate === undefined ? '' : Math.round(target.target_rate * 1000) / 10 })
      : field('target_value', 'Số lượng phải đạt', { type: 'number', min: 0, required: true, value: target?.target_value }),
    field('due_on', 'Hạn hoàn thành', { type: 'date', value: target?.due_on, hint: 'Mặc định: ngày cuối năm.' }),
  ], target ? 'Lưu chỉ tiêu' : 'Đặt chỉ tiêu', async (v) => {
    const body = clean(v, ['target_percent', 'target_value']);
    await api.request('PUT', '/api/v1/indicator-targets', {
      body: { indicator_code: ind.code, year, unit_kind: 'province', unit_key: province, ...body },
      ifMatch: target ? `"${target.version}"` : undefined,
    });
    ctx.go(here());
  });

  const result = h('div', { id: 'split-result' });
  const split = (dry) => async (ev) => {
    ev.target.disabled = true;
    try {
      const r = await api.post(`/api/v1/indicator-targets/${target.id}/split`, { dry_run: dry });
      result.replaceChildren(
        notice(dry ? 'Xem trước: chưa lưu gì.' : 'Đã phân bổ chỉ tiêu cho các xã.', dry ? 'info' : 'ok'),
        h('p', {}, `Chỉ tiêu của tỉnh: ${fmt(r.amount)}; hiện đạt ${fmt(r.current)}; còn phải thêm ${fmt(r.remaining)}; chưa giao: ${fmt(r.unassigned)}.`),
        table(['Xã, phường', 'Mẫu số', 'Hiện đạt', 'Khoảng cách', 'Chỉ tiêu giao'], r.shares.map((s) => h('tr', {},
          h('th', { scope: 'row' }, s.name), h('td', { class: 'num' }, fmt(s.denominator)), h('td', { class: 'num' }, fmt(s.current)),
          h('td', { class: 'num' }, fmt(s.gap)), h('td', { class: 'num' }, fmt(s.target_value), s.manual ? ' (giao tay)' : '')))),
        { className: 'split' });
    } catch (e) {
      result.replaceChildren(notice(e.message));
    } finally {
      ev.target.disabled = false;
    }
  };
  return page(`Chỉ tiêu kế hoạch năm ${year}`,
    h('div', { class: 'toolbar' }, h('span', {}, h('label', { for: 'indicator-pick' }, 'Chỉ tiêu '), sel)),
    h('h2', {}, `Chỉ tiêu của tỉnh: ${ind.name}`),
    target ? h('p', {}, 'Hiện tại: ', rate ? pct(target.target_rate) : fmt(target.target_value), `, hạn ${target.due_on}.`) : notice('Chưa đặt chỉ tiêu cho tỉnh.', 'info'),
    f,
    target ? [h('h2', {}, 'Phân bổ cho các xã, phường'),
      h('p', { class: 'hint' }, 'Theo tỷ lệ khoảng cách còn lại của từng xã (mẫu số trừ số đã đạt). Xã chưa có mẫu số không được giao.'),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: split(true) }, 'Xem trước'),
        h('button', { type: 'button', class: 'primary', onclick: split(false) }, 'Phân bổ')),
      result] : null);
}
