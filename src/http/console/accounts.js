// Accounts: the list of accounts in the officer's scope and the one-time activation code an
// officer issues (or issues again) for an account below its own role, shown once with its QR.
import * as api from './api.js';
import { h, fmt, LABELS, notice, table } from './ui.js';

const RANK = { team_member: 1, team_leader: 2, commune_officer: 3, province_officer: 4, admin: 5 };
const PAGE_SIZE = 50;

// Only a role strictly above the account's manages it, never one's own.
export const canIssue = (me, user) => user.id !== me.id && (RANK[me.role] || 0) > (RANK[user.role] || 0);

const state = (u) => (u.disabled ? 'Bị khóa' : u.activation_pending ? 'Chưa kích hoạt' : 'Đang dùng');

// The QR as a data: URL (the CSP allows `img-src 'self' data:`; a blob: URL would need more).
async function qrDataUrl(userId, code) {
  const { data } = await api.request('GET', `/api/v1/users/${userId}/activation-qr${api.query({ code })}`, { accept: 'image/png' });
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(data);
  });
}

// The dialog: the account, then its new code (shown once) with the QR the app scans.
export async function activationDialog(userId, title, onDone = () => {}) {
  const { data: user } = await api.request('GET', `/api/v1/users/${userId}`);
  const dialog = h('dialog', { class: 'editor activation', 'aria-labelledby': 'activation-title' });
  const close = () => { dialog.close(); dialog.remove(); onDone(); };
  const out = h('div', { class: 'activation-out', tabindex: '-1' });
  const issue = h('button', {
    type: 'button', class: 'primary', id: 'issue-activation', onclick: async () => {
      issue.disabled = true;
      try {
        const { data: a } = await api.request('POST', `/api/v1/users/${userId}/activation`);
        const img = h('img', { class: 'qr', alt: `Mã QR kích hoạt tài khoản ${a.username}`, width: '200', height: '200' });
        out.replaceChildren(
          notice('Mã chỉ hiện một lần: ghi lại hoặc chụp mã QR rồi trao cho người dùng ngay. Mã cũ (nếu có) không còn dùng được.', 'warn'),
          h('dl', { class: 'facts' },
            h('dt', {}, 'Tên đăng nhập'), h('dd', {}, a.username),
            h('dt', {}, 'Mã kích hoạt'), h('dd', {}, h('output', { id: 'activation-code', class: 'code' }, a.code)),
            h('dt', {}, 'Hết hạn'), h('dd', {}, new Date(a.expires_at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' }))),
          img,
          h('p', { class: 'hint' }, 'Người dùng mở ứng dụng hoặc trang "Kích hoạt tài khoản", nhập mã (hoặc quét QR) và tự đặt mật khẩu.'));
        issue.remove();
        out.focus();
        img.src = await qrDataUrl(userId, a.code);
      } catch (e) {
        out.replaceChildren(notice(e.message));
        issue.disabled = false;
      }
    },
  }, user.activation_pending ? 'Cấp mã kích hoạt mới' : 'Cấp lại mã kích hoạt');
  dialog.append(...[
    h('h2', { id: 'activation-title' }, `Mã kích hoạt: ${title}`),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Tên đăng nhập'), h('dd', {}, user.username),
      h('dt', {}, 'Vai trò'), h('dd', {}, LABELS.role[user.role] || user.role),
      h('dt', {}, 'Tình trạng'), h('dd', { id: 'account-state' }, state(user))),
    user.activation_pending ? null
      : notice('Cấp mã mới sẽ xóa mật khẩu hiện tại của tài khoản và đăng xuất tài khoản trên mọi thiết bị.', 'warn'),
    out,
    h('div', { class: 'actions' }, issue, h('button', { type: 'button', onclick: close }, 'Đóng'))].filter(Boolean));
  dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(); });
  document.body.append(dialog);
  dialog.showModal();
  issue.focus();
}

// The accounts in scope, searchable, each with its activation state.
export async function accounts(ctx) {
  const params = Object.fromEntries(ctx.params.entries());
  const q = params.q || '';
  const page = Number(params.page || 1);
  const list = await api.get(`/api/v1/users${api.query({ q, page, page_size: PAGE_SIZE })}`);
  const input = h('input', { type: 'search', id: 'q', name: 'q', value: q, placeholder: 'Tên đăng nhập, họ tên hoặc số điện thoại' });
  const search = h('form', { class: 'inline', role: 'search' }, h('label', { for: 'q' }, 'Tìm tài khoản'), input, h('button', { type: 'submit' }, 'Tìm'));
  search.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go(`#/tai-khoan${api.query({ q: input.value.trim() })}`);
  });
  const reload = () => ctx.go(`#/tai-khoan${api.query({ q, page })}`);
  const rows = list.items.map((u) => h('tr', { 'data-user': u.id },
    h('th', { scope: 'row' }, u.username),
    h('td', {}, u.full_name || '—'),
    h('td', {}, LABELS.role[u.role] || u.role),
    h('td', {}, u.unit_code || '—'),
    h('td', {}, state(u)),
    h('td', {}, canIssue(ctx.me, u)
      ? h('button', { type: 'button', onclick: (ev) => activationDialog(u.id, u.full_name || u.username, reload).catch((e) => ev.target.after(notice(e.message))) }, 'Mã kích hoạt') : null)));
  const pages = Math.max(1, Math.ceil(list.total / PAGE_SIZE));
  const link = (p, text) => h('a', { href: `#/tai-khoan${api.query({ q, page: p })}` }, text);
  return h('section', {}, h('h1', {}, 'Tài khoản'),
    h('div', { class: 'toolbar' }, search),
    list.items.length ? table(['Tên đăng nhập', 'Họ tên', 'Vai trò', 'Đơn vị', 'Tình trạng', ''], rows, { className: 'accounts' })
      : notice(q ? `Không tìm thấy tài khoản cho "${q}".` : 'Chưa có tài khoản nào.', 'info'),
    h('nav', { class: 'pager', 'aria-label': 'Trang' },
      page > 1 ? link(page - 1, '← Trang trước') : null,
      h('span', {}, `Trang ${page}/${pages} · ${fmt(list.total)} tài khoản`),
      page < pages ? link(page + 1, 'Trang sau →') : null));
}
