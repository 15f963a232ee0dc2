// Bulk import of the register from a spreadsheet (commune and province officers): templates,
// the dry run's per-row report, applying the same file, the activation sheet and the history.
import * as api from './api.js';
import { h, fmt, notice, table, download, field, saveBlob } from './ui.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const KINDS = { members: 'Thành viên', teams: 'Tổ công nghệ số', villages: 'Thôn, ấp' };
const ENTITY = { village: 'Thôn', team: 'Tổ', member: 'Thành viên' };
const OUTCOME = { created: 'Thêm mới', updated: 'Cập nhật', unchanged: 'Không đổi', error: 'Lỗi' };
const RESULT = { dry_run: 'Chạy thử', applied: 'Đã nhập', rejected: 'Bị từ chối (có lỗi)' };
// Rows without errors shown at most (errors are always all shown); the per-row report has all.
const MAX_ROWS = 500;

const when = (t) => new Date(t).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' });

// Created / updated / unchanged / errors for villages, teams and members.
export function countsTable(counts) {
  const kinds = [['villages', 'Thôn'], ['teams', 'Tổ'], ['members', 'Thành viên']];
  const rows = kinds.map(([k, label]) => {
    const t = counts[k] || {};
    return h('tr', { 'data-kind': k }, h('th', { scope: 'row' }, label),
      ['created', 'updated', 'unchanged', 'errors'].map((c) => h('td', { class: `num c-${c}` }, fmt(t[c] || 0))));
  });
  return h('div', { class: 'import-counts' },
    table(['', 'Thêm mới', 'Cập nhật', 'Không đổi', 'Dòng lỗi'], rows, { caption: `${fmt(counts.rows)} dòng dữ liệu`, className: 'counts' }),
    h('p', {}, `Tài khoản ứng dụng được tạo: ${fmt(counts.accounts_created)}. Số dòng lỗi: ${fmt(counts.errors)}.`));
}

// Every row's outcome; a row with several errors takes one line per error.
function rowsTable(rows) {
  const errors = rows.filter((r) => r.outcome === 'error');
  const others = rows.filter((r) => r.outcome !== 'error');
  const shown = [...errors, ...others.slice(0, MAX_ROWS)];
  const lines = shown.flatMap((r) => {
    const head = [h('td', {}, r.sheet), h('td', { class: 'num' }, String(r.row)), h('td', {}, ENTITY[r.entity] || r.entity), h('td', {}, r.label)];
    const badge = h('span', { class: `badge out-${r.outcome}` }, OUTCOME[r.outcome] || r.outcome);
    if (!r.errors || !r.errors.length) {
      return [h('tr', { 'data-row': r.row, class: `out-${r.outcome}` }, head, h('td', {}, badge), h('td', {}), h('td', {}), h('td', {}))];
    }
    return r.errors.map((e) => h('tr', { 'data-row': r.row, class: 'out-error' },
      head.map((c) => c.cloneNode(true)), h('td', {}, badge.cloneNode(true)),
      h('td', {}, [e.column, e.header ? `(${e.header})` : null].filter(Boolean).join(' ')),
      h('td', {}, h('code', {}, e.code)),
      h('td', { class: 'message' }, e.message)));
  });
  const hidden = others.length - Math.min(others.length, MAX_ROWS);
  return [
    table(['Trang', 'Dòng', 'Loại', 'Tên', 'Kết quả', 'Cột', 'Mã lỗi', 'Nội dung'], lines,
      { caption: errors.length ? 'Các dòng lỗi được liệt kê trước.' : 'Kết quả từng dòng.', className: 'import-rows' }),
    hidden > 0 ? h('p', { class: 'hint' }, `Còn ${fmt(hidden)} dòng không lỗi chưa hiện; tải báo cáo từng dòng để xem đủ.`) : null,
  ];
}

function reportButton(id) {
  const msg = h('span', { role: 'status' });
  return h('span', {}, h('button', {
    type: 'button', id: 'download-report', onclick: async () => {
      msg.textContent = '';
      try { await download(`/api/v1/imports/${id}/report`, XLSX, `ket-qua-nhap-${id}.xlsx`); } catch (e) { msg.textContent = e.message; }
    },
  }, 'Tải báo cáo từng dòng (XLSX)'), ' ', msg);
}

function templates() {
  const msg = h('span', { role: 'status' });
  const get = (kind) => async () => {
    msg.textContent = '';
    try {
      await download(`/api/v1/imports/template${api.query({ kind })}`, XLSX, `mau-nhap-${kind || 'tat-ca'}.xlsx`);
    } catch (e) { msg.textContent = e.message; }
  };
  return h('div', { class: 'downloads', id: 'templates' },
    Object.entries(KINDS).map(([k, label]) => h('button', { type: 'button', onclick: get(k) }, `Mẫu: ${label}`)),
    h('button', { type: 'button', onclick: get(undefined) }, 'Mẫu đủ 3 trang'), msg);
}

async function upload(file, dryRun) {
  const data = new FormData();
  data.append('file', file, file.name);
  return api.request('POST', `/api/v1/imports${api.query({ dry_run: dryRun ? 'true' : undefined })}`,
    { formData: data, accept: dryRun ? 'application/json' : XLSX });
}

// The import page: choose a file, dry run, apply, then the activation sheet and the report.
export async function importPage(ctx) {
  const past = h('div', { id: 'import-history' }, await historyTable());
  const refreshHistory = async () => past.replaceChildren(await historyTable().catch((e) => notice(e.message)));
  const result = h('div', { id: 'import-result', tabindex: '-1' });
  const input = h('input', { type: 'file', id: 'import-file', name: 'file', accept: '.xlsx,.csv,text/csv,' + XLSX, required: true });
  const wrap = field('file', 'Tệp danh sách (.xlsx hoặc .csv)', { hint: 'CSV: bảng mã UTF-8 hoặc Windows-1258, ngăn cách bằng dấu phẩy hoặc dấu chấm phẩy.' });
  wrap.querySelector('input').replaceWith(input);
  input.setAttribute('aria-describedby', wrap.querySelector('.field-error').id);
  wrap.querySelector('label').setAttribute('for', 'import-file');
  const message = h('div', { class: 'form-message', tabindex: '-1' });
  const check = h('button', { type: 'submit', class: 'primary' }, 'Kiểm tra (chạy thử)');
  const f = h('form', { novalidate: true, id: 'import-form' }, message, wrap, h('div', { class: 'actions' }, check));
  input.addEventListener('change', () => result.replaceChildren());

  const show = (...children) => {
    result.replaceChildren(h('div', {}, children));
    result.focus();
  };
  const fileError = (e) => {
    const err = (e.problem && e.problem.errors || []).find((x) => x.field === 'file');
    wrap.classList.toggle('invalid', Boolean(err));
    wrap.querySelector('.field-error').textContent = err ? (err.message || err.code) : '';
    if (err) input.setAttribute('aria-invalid', 'true');
    message.replaceChildren(notice(e.message));
    message.focus();
  };

  const apply = (file) => async (ev) => {
    ev.target.disabled = true;
    try {
      const { data, res } = await upload(file, false);
      const id = (res.headers.get('location') || '').split('/').pop();
      const record = await api.get(`/api/v1/imports/${id}`);
      const sheet = data instanceof Blob && record.counts.accounts_created > 0 ? data : null;
      show(notice(`Đã nhập tệp "${record.file_name}" vào sổ.`, 'ok'),
        countsTable(record.counts),
        h('div', { class: 'downloads' },
          sheet ? h('button', { type: 'button', id: 'download-activations', class: 'primary', onclick: () => saveBlob(sheet, `kich-hoat-${id}.xlsx`) }, 'Tải phiếu kích hoạt (XLSX)') : null,
          reportButton(id)),
        sheet ? notice('Phiếu kích hoạt chứa mã kích hoạt của từng tài khoản mới (kèm mã QR) và chỉ có ở đây, ngay sau khi nhập: hãy tải về và giữ cẩn thận. Mất phiếu thì cấp lại mã ở trang Tài khoản.', 'warn') : null,
        h('p', {}, h('a', { href: '#/thanh-vien' }, 'Xem danh sách thành viên →')));
      refreshHistory();
    } catch (e) {
      ev.target.disabled = false;
      const report = e.problem && e.problem.import;
      show(notice(e.message), report ? [countsTable(report.counts), rowsTable(report.rows)] : null);
      refreshHistory();
    }
  };

  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    message.replaceChildren();
    wrap.classList.remove('invalid');
    input.removeAttribute('aria-invalid');
    wrap.querySelector('.field-error').textContent = '';
    const file = input.files[0];
    if (!file) {
      fileError(new api.ApiError(422, { code: 'validation_failed', errors: [{ field: 'file', code: 'required', message: 'Chọn một tệp .xlsx hoặc .csv.' }] }));
      return;
    }
    check.disabled = true;
    result.replaceChildren(h('p', { role: 'status' }, 'Đang kiểm tra…'));
    try {
      const { data } = await upload(file, true);
      const bad = data.counts.errors > 0;
      show(
        bad ? notice(`Chạy thử: ${fmt(data.counts.errors)} lỗi ở các dòng dưới đây. Chưa ghi gì vào sổ; sửa tệp rồi kiểm tra lại.`)
          : notice(`Chạy thử: tệp hợp lệ, chưa ghi gì vào sổ. Bấm "Nhập vào sổ" để ghi.`, 'info'),
        countsTable(data.counts),
        bad ? null : h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'apply-import', onclick: apply(file) }, 'Nhập vào sổ')),
        rowsTable(data.rows),
        h('div', { class: 'downloads' }, reportButton(data.id)));
      refreshHistory();
    } catch (e) {
      result.replaceChildren();
      fileError(e);
    } finally {
      check.disabled = false;
    }
  });

  return h('section', {}, h('h1', {}, 'Nhập danh sách từ tệp'),
    h('p', {}, 'Nhập thôn, tổ và thành viên (kèm tài khoản ứng dụng) từ bảng tính. Bước 1: tải mẫu và điền. Bước 2: kiểm tra (chạy thử, chưa ghi gì). Bước 3: nhập vào sổ, rồi tải phiếu kích hoạt.'),
    templates(), f, result,
    h('h2', {}, 'Các lần nhập gần đây'), past);
}

// The latest imports in the caller's scope (dry runs and rejected files too), newest first.
async function historyTable() {
  const history = await api.get('/api/v1/imports?page_size=20');
  const rows = history.items.map((r) => h('tr', { 'data-import': r.id },
    h('td', {}, when(r.created_at)),
    h('th', { scope: 'row' }, h('a', { href: `#/nhap/ket-qua${api.query({ id: r.id })}` }, r.file_name)),
    h('td', {}, r.actor_username),
    h('td', {}, h('span', { class: `badge res-${r.result}` }, RESULT[r.result] || r.result)),
    h('td', { class: 'num' }, fmt(r.counts.rows)),
    h('td', { class: 'num' }, fmt(r.counts.errors))));
  return rows.length ? table(['Lúc', 'Tệp', 'Người nhập', 'Kết quả', 'Số dòng', 'Dòng lỗi'], rows, { className: 'import-history' })
    : notice('Chưa có lần nhập nào.', 'info');
}

// One past import: who, when, which file, the counts; the per-row report to download.
export async function importDetail(ctx) {
  const id = ctx.params.get('id') || '';
  const r = await api.get(`/api/v1/imports/${encodeURIComponent(id)}`);
  return h('section', {}, h('h1', {}, `Lần nhập: ${r.file_name}`),
    h('p', {}, h('a', { href: '#/nhap' }, '← Nhập danh sách')),
    h('dl', { class: 'facts' },
      [['Lúc', when(r.created_at)], ['Người nhập', r.actor_username], ['Đơn vị', r.unit_code || '—'],
        ['Kết quả', RESULT[r.result] || r.result], ['Kích thước', `${fmt(r.size_bytes)} byte`], ['SHA-256', h('code', {}, r.sha256)]]
        .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    countsTable(r.counts),
    h('div', { class: 'downloads' }, reportButton(r.id)));
}
