// The register: villages, teams and members. Lists with the API's diacritic-insensitive
// search (`q`), edits with If-Match: a stale edit is shown as a conflict, never lost.
import * as api from './api.js';
import { h, fmt, LABELS, notice, field, form, table, clean } from './ui.js';
import { activationDialog } from './accounts.js';

const PAGE_SIZE = 50;

function searchBox(ctx, base, q, extra = {}) {
  const input = h('input', { type: 'search', id: 'q', name: 'q', value: q, placeholder: 'Gõ có dấu hoặc không dấu' });
  const f = h('form', { class: 'inline', role: 'search' },
    h('label', { for: 'q' }, 'Tìm theo tên'), input, h('button', { type: 'submit' }, 'Tìm'));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go(`${base}${api.query({ ...extra, q: input.value.trim() })}`);
  });
  return f;
}

function pager(ctx, base, params, total) {
  const page = Number(params.page || 1);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const link = (p, text) => h('a', { href: `${base}${api.query({ ...params, page: p })}` }, text);
  return h('nav', { class: 'pager', 'aria-label': 'Trang' },
    page > 1 ? link(page - 1, '← Trang trước') : null,
    h('span', {}, `Trang ${page}/${pages} · ${fmt(total)} bản ghi`),
    page < pages ? link(page + 1, 'Trang sau →') : null);
}

// The edit dialog. `fields(item)` builds the inputs; `body(values)` the PATCH body.
function editor(ctx, spec, item, reload) {
  let version = item.version;
  const dialog = h('dialog', { class: 'editor', 'aria-labelledby': 'edit-title' });
  const conflict = h('div', { class: 'conflict-box' });
  const close = () => { dialog.close(); dialog.remove(); };
  const fill = (record) => {
    for (const [k, v] of Object.entries(spec.formValues(record))) {
      const el = f.elements.namedItem(k);
      if (el) el.value = v ?? '';
    }
  };
  const f = form(spec.fields(item), 'Lưu', async (v) => {
    try {
      await api.request('PATCH', `${spec.path}/${item.id}`, { body: spec.body(clean(v, spec.numeric || [])), ifMatch: `"${version}"` });
    } catch (e) {
      if (e.status !== 412) throw e;
      const { data: current } = await api.request('GET', `${spec.path}/${item.id}`);
      version = current.version;
      const theirs = spec.formValues(current);
      const rows = Object.entries(v).filter(([k]) => k in theirs && String(theirs[k] ?? '') !== String(v[k] ?? ''));
      conflict.replaceChildren(
        notice(`Xung đột: bản ghi đã được người khác sửa (phiên bản ${current.version}) trong lúc bạn chỉnh. Thay đổi của bạn chưa được lưu.`),
        rows.length ? table(['Trường', 'Trên máy chủ', 'Bạn nhập'], rows.map(([k, mine]) =>
          h('tr', {}, h('th', { scope: 'row' }, spec.label(k)), h('td', {}, String(theirs[k] ?? '')), h('td', {}, String(mine ?? ''))))) : null,
        h('p', {}, 'Bấm "Lưu" lần nữa để ghi đè bằng giá trị của bạn, hoặc lấy bản mới nhất.'),
        h('button', { type: 'button', onclick: () => { fill(current); conflict.replaceChildren(); } }, 'Lấy bản mới nhất'));
      conflict.querySelector('[role=alert]').setAttribute('tabindex', '-1');
      conflict.querySelector('[role=alert]').focus();
      return;
    }
    close();
    reload();
  }, [h('button', { type: 'button', onclick: close }, 'Hủy')]);
  dialog.append(h('h2', { id: 'edit-title' }, `Sửa: ${item[spec.nameKey]}`), conflict, f);
  dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(); });
  document.body.append(dialog);
  dialog.showModal();
  f.querySelector('input, select')?.focus();
}

function registerPage(spec) {
  return async (ctx) => {
    const params = Object.fromEntries(ctx.params.entries());
    const q = params.q || '';
    const lookups = spec.lookups ? await spec.lookups(ctx) : {};
    const list = await api.get(`${spec.path}${api.query({ ...spec.listParams(params), q, page: params.page, page_size: PAGE_SIZE })}`);
    const reload = () => ctx.go(`${spec.base}${api.query(params)}`);
    const rows = list.items.map((item) => h('tr', { 'data-id': item.id },
      h('th', { scope: 'row' }, item[spec.nameKey]),
      spec.columns.map((c) => h('td', { class: c.num ? 'num' : null }, c.render(item, lookups))),
      h('td', { class: 'actions' }, spec.canEdit(ctx) ? h('button', { type: 'button', onclick: () => editor(ctx, { ...spec, fields: (i) => spec.fields(i, lookups) }, item, reload) }, 'Sửa') : null,
        spec.rowActions ? spec.rowActions(ctx, item, reload) : null)));
    const create = spec.create && ctx.me.role === 'commune_officer'
      ? h('details', { class: 'create' }, h('summary', {}, spec.create.title),
        form(spec.create.fields(lookups), 'Thêm', async (v) => {
          const [path, body] = spec.create.request(clean(v, spec.numeric || []));
          await api.post(path, body);
          reload();
        }))
      : null;
    return h('section', {}, h('h1', {}, spec.title),
      h('div', { class: 'toolbar' }, searchBox(ctx, spec.base, q, spec.keep ? spec.keep(params) : {}), spec.filters ? spec.filters(ctx, params, lookups) : null),
      create,
      list.items.length ? table([spec.nameLabel, ...spec.columns.map((c) => c.label), ''], rows, { className: 'register' })
        : notice(q ? `Không tìm thấy kết quả cho "${q}".` : 'Chưa có bản ghi nào.', 'info'),
      pager(ctx, spec.base, params, list.total));
  };
}

const officer = (ctx) => ['commune_officer', 'province_officer', 'admin'].includes(ctx.me.role);
const opt = (labels, empty) => (empty ? { '': empty, ...labels } : labels);
const date = (d) => (d ? new Date(`${d}T00:00:00`).toLocaleDateString('vi-VN') : '—');

async function teamLookup() {
  const r = await api.get('/api/v1/teams?page_size=200');
  return { teams: Object.fromEntries(r.items.map((t) => [String(t.id), t.name])) };
}
async function villageLookup() {
  const r = await api.get('/api/v1/villages?page_size=200');
  return { villages: Object.fromEntries(r.items.map((v) => [String(v.id), v.name])) };
}

const VILLAGE_LABELS = { name: 'Tên', kind: 'Loại', households: 'Số hộ', population: 'Số dân' };
export const villages = registerPage({
  title: 'Thôn, tổ dân phố', base: '#/thon', path: '/api/v1/villages', nameKey: 'name', nameLabel: 'Tên',
  listParams: () => ({}),
  numeric: ['households', 'population'],
  columns: [
    { label: 'Loại', render: (v) => LABELS.kind[v.kind] || v.kind },
    { label: 'Số hộ', num: true, render: (v) => fmt(v.households) },
    { label: 'Số dân', num: true, render: (v) => fmt(v.population) },
  ],
  canEdit: officer,
  label: (k) => VILLAGE_LABELS[k] || k,
  formValues: (v) => ({ name: v.name, kind: v.kind, households: v.households, population: v.population }),
  fields: (v) => [
    field('name', 'Tên', { value: v.name, required: true }),
    field('kind', 'Loại', { value: v.kind, options: LABELS.kind }),
    field('households', 'Số hộ', { type: 'number', min: 0, value: v.households }),
    field('population', 'Số dân', { type: 'number', min: 0, value: v.population }),
  ],
  body: (v) => v,
  create: {
    title: 'Thêm thôn, tổ dân phố',
    fields: () => [
      field('name', 'Tên', { required: true }),
      field('kind', 'Loại', { options: LABELS.kind, value: 'thon' }),
      field('households', 'Số hộ', { type: 'number', min: 0 }),
      field('population', 'Số dân', { type: 'number', min: 0 }),
    ],
    request: (v) => ['/api/v1/villages', v],
  },
});

const TEAM_LABELS = { name: 'Tên tổ', status: 'Tình trạng', village_id: 'Thôn', decision_number: 'Số quyết định', established_on: 'Ngày thành lập' };
export const teams = registerPage({
  title: 'Tổ công nghệ số cộng đồng', base: '#/to', path: '/api/v1/teams', nameKey: 'name', nameLabel: 'Tên tổ',
  listParams: () => ({}),
  lookups: villageLookup,
  numeric: ['village_id'],
  columns: [
    { label: 'Thôn', render: (t, l) => (t.village_id ? l.villages[String(t.village_id)] || `#${t.village_id}` : 'Cấp xã') },
    { label: 'Tình trạng', render: (t) => LABELS.teamStatus[t.status] || t.status },
    { label: 'Quyết định', render: (t) => t.decision_number || '—' },
    { label: 'Thành lập', render: (t) => date(t.established_on) },
  ],
  canEdit: officer,
  label: (k) => TEAM_LABELS[k] || k,
  formValues: (t) => ({ name: t.name, status: t.status, village_id: t.village_id, decision_number: t.decision_number, established_on: t.established_on }),
  fields: (t, l) => [
    field('name', 'Tên tổ', { value: t.name, required: true }),
    field('status', 'Tình trạng', { value: t.status, options: LABELS.teamStatus }),
    field('village_id', 'Thôn', { value: t.village_id, options: opt(l.villages, 'Cấp xã (không thuộc thôn)') }),
    field('decision_number', 'Số quyết định thành lập', { value: t.decision_number, hint: 'Ví dụ 123/QĐ-UBND' }),
    field('established_on', 'Ngày thành lập', { type: 'date', value: t.established_on }),
  ],
  body: (v) => v,
  create: {
    title: 'Thêm tổ',
    fields: (l) => [
      field('name', 'Tên tổ', { required: true }),
      field('village_id', 'Thôn', { options: opt(l.villages, 'Cấp xã (không thuộc thôn)') }),
      field('decision_number', 'Số quyết định thành lập'),
      field('established_on', 'Ngày thành lập', { type: 'date' }),
    ],
    request: (v) => ['/api/v1/teams', v],
  },
});

const MEMBER_LABELS = { full_name: 'Họ tên', phone: 'Điện thoại', team_role: 'Vai trò', affiliation: 'Thành phần', left_on: 'Ngày rời tổ', team_id: 'Tổ' };
export const members = registerPage({
  title: 'Thành viên các tổ', base: '#/thanh-vien', path: '/api/v1/members', nameKey: 'full_name', nameLabel: 'Họ tên',
  listParams: (p) => ({ team: p.to, status: p.tt }),
  keep: (p) => ({ to: p.to, tt: p.tt }),
  lookups: teamLookup,
  filters: (ctx, p, l) => {
    const sel = h('select', { id: 'team-filter' }, h('option', { value: '' }, 'Tất cả các tổ'),
      Object.entries(l.teams).map(([id, name]) => h('option', { value: id, selected: id === p.to }, name)));
    const st = h('select', { id: 'status-filter' }, Object.entries({ active: 'Đang tham gia', left: 'Đã rời tổ', all: 'Tất cả' })
      .map(([k, v]) => h('option', { value: k, selected: k === (p.tt || 'active') }, v)));
    const apply = () => ctx.go(`#/thanh-vien${api.query({ q: p.q, to: sel.value, tt: st.value })}`);
    sel.addEventListener('change', apply);
    st.addEventListener('change', apply);
    return h('span', { class: 'filters' }, h('label', { for: 'team-filter' }, 'Tổ '), sel, ' ', h('label', { for: 'status-filter' }, 'Tình trạng '), st);
  },
  numeric: [],
  columns: [
    { label: 'Tổ', render: (m, l) => l.teams[String(m.team_id)] || `#${m.team_id}` },
    { label: 'Vai trò', render: (m) => LABELS.teamRole[m.team_role] || m.team_role },
    { label: 'Thành phần', render: (m) => LABELS.affiliation[m.affiliation] || m.affiliation },
    { label: 'Điện thoại', render: (m) => m.phone || '—' },
    { label: 'Tham gia', render: (m) => date(m.joined_on) + (m.left_on ? ` → ${date(m.left_on)}` : '') },
  ],
  canEdit: officer,
  // A member with an app account: its officer issues (again) the account's activation code.
  rowActions: (ctx, m, reload) => (m.user_id && officer(ctx)
    ? h('button', { type: 'button', onclick: (ev) => activationDialog(m.user_id, m.full_name, reload).catch((e) => ev.target.after(notice(e.message))) }, 'Mã kích hoạt') : null),
  label: (k) => MEMBER_LABELS[k] || k,
  formValues: (m) => ({ full_name: m.full_name, phone: m.phone, team_role: m.team_role, affiliation: m.affiliation, left_on: m.left_on }),
  fields: (m) => [
    field('full_name', 'Họ tên', { value: m.full_name, required: true }),
    field('phone', 'Điện thoại di động', { type: 'tel', value: m.phone }),
    field('team_role', 'Vai trò trong tổ', { value: m.team_role, options: LABELS.teamRole }),
    field('affiliation', 'Thành phần', { value: m.affiliation, options: LABELS.affiliation }),
    field('left_on', 'Ngày rời tổ (nếu đã rời)', { type: 'date', value: m.left_on }),
  ],
  body: (v) => v,
  create: {
    title: 'Thêm thành viên',
    fields: (l) => [
      field('team_id', 'Tổ', { options: l.teams, required: true }),
      field('full_name', 'Họ tên', { required: true }),
      field('phone', 'Điện thoại di động', { type: 'tel' }),
      field('team_role', 'Vai trò trong tổ', { options: LABELS.teamRole, value: 'member' }),
      field('affiliation', 'Thành phần', { options: LABELS.affiliation, value: 'resident_volunteer' }),
      field('joined_on', 'Ngày tham gia', { type: 'date' }),
    ],
    request: ({ team_id: team, ...body }) => [`/api/v1/teams/${team}/members`, body],
  },
});

