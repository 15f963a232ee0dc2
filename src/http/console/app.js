// The console's shell: session start (refresh through the cookie), the header, hash routing.
import * as api from './api.js';
import { h, LABELS, notice } from './ui.js';
import * as pages from './pages.js';
import * as registry from './registry.js';
import * as imports from './imports.js';
import * as accounts from './accounts.js';

const session = { me: null, unit: null };

const NAV = {
  commune_officer: [['#/thang', 'Báo cáo tháng'], ['#/chi-tieu', 'Chỉ tiêu'], ['#/thon', 'Thôn, tổ dân phố'], ['#/to', 'Tổ công nghệ số'], ['#/thanh-vien', 'Thành viên'], ['#/nhap', 'Nhập từ tệp'], ['#/tai-khoan', 'Tài khoản']],
  province_officer: [['#/tinh', 'Tình trạng nộp'], ['#/tinh/bao-cao', 'Báo cáo tỉnh'], ['#/tinh/chi-tieu', 'Chỉ tiêu'], ['#/thon', 'Thôn'], ['#/to', 'Tổ'], ['#/thanh-vien', 'Thành viên'], ['#/nhap', 'Nhập từ tệp'], ['#/tai-khoan', 'Tài khoản']],
  admin: [['#/quoc-gia', 'Toàn quốc'], ['#/tinh', 'Tình trạng nộp'], ['#/danh-muc', 'Danh mục hỗ trợ'], ['#/tai-khoan', 'Tài khoản']],
};
const HOME = { commune_officer: '#/thang', province_officer: '#/tinh', admin: '#/quoc-gia' };

const ROUTES = {
  '#/dang-nhap': pages.login,
  '#/kich-hoat': pages.activate,
  '#/doi-mat-khau': pages.changePassword,
  '#/toi': pages.me,
  '#/thang': pages.communeMonth,
  '#/chi-tieu': pages.indicatorValues,
  '#/tinh': pages.provinceBoard,
  '#/tinh/bao-cao': pages.provinceReport,
  '#/tinh/chi-tieu': pages.provinceTargets,
  '#/quoc-gia': pages.national,
  '#/danh-muc': pages.categories,
  '#/thon': registry.villages,
  '#/to': registry.teams,
  '#/thanh-vien': registry.members,
  '#/nhap': imports.importPage,
  '#/nhap/ket-qua': imports.importDetail,
  '#/tai-khoan': accounts.accounts,
};

export async function startSession() {
  session.me = await api.get('/api/v1/me');
  session.unit = session.me.unit_code ? await api.get(`/api/v1/units/${session.me.unit_code}`).catch(() => null) : null;
}

function header() {
  const me = session.me;
  const top = document.getElementById('top');
  if (!me) {
    top.replaceChildren(h('div', { class: 'brand' }, 'Tổ Số'));
    return;
  }
  const here = location.hash.split('?')[0];
  const links = me.must_change_password ? [] : NAV[me.role] || [];
  top.replaceChildren(
    h('div', { class: 'brand' }, h('a', { href: HOME[me.role] || '#/toi' }, 'Tổ Số')),
    h('nav', { 'aria-label': 'Chức năng' }, h('ul', {}, links.map(([href, text]) =>
      h('li', {}, h('a', { href, 'aria-current': here === href ? 'page' : null }, text))))),
    h('div', { class: 'who' },
      h('a', { href: '#/toi', class: 'whoami' }, me.username, ' · ', LABELS.role[me.role] || me.role,
        session.unit ? ` · ${session.unit.name}` : ''),
      h('button', { type: 'button', class: 'link', onclick: logout }, 'Đăng xuất')));
}

async function logout() {
  await api.logout().catch(() => {});
  session.me = null;
  session.unit = null;
  location.hash = '#/dang-nhap';
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  const main = document.getElementById('main');
  let [path, qs] = location.hash.split('?');
  const open = ['#/dang-nhap', '#/kich-hoat'];
  if (!session.me && !open.includes(path)) {
    location.hash = '#/dang-nhap';
    return;
  }
  if (session.me && session.me.must_change_password && path !== '#/doi-mat-khau') {
    location.hash = '#/doi-mat-khau';
    return;
  }
  if (session.me && (!path || path === '#/' || open.includes(path))) {
    location.hash = HOME[session.me.role] || '#/toi';
    return;
  }
  header();
  const page = ROUTES[path];
  main.setAttribute('aria-busy', 'true');
  let node;
  try {
    node = page ? await page({ ...session, session, params: new URLSearchParams(qs || ''), go, startSession })
      : h('section', {}, h('h1', {}, 'Không có trang này'), h('p', {}, h('a', { href: '#/' }, 'Về trang chính')));
  } catch (e) {
    if (e.code === 'password_change_required') {
      session.me.must_change_password = true;
      location.hash = '#/doi-mat-khau';
      return;
    }
    if (e.status === 401) {
      session.me = null;
      location.hash = '#/dang-nhap';
      return;
    }
    node = h('section', {}, h('h1', {}, 'Không tải được trang'), notice(e.message));
  }
  main.removeAttribute('aria-busy');
  main.replaceChildren(node);
  header();
  const title = main.querySelector('h1');
  document.title = `${title ? title.textContent : 'Tổ Số'} · Tổ Số`;
  if (title) {
    title.setAttribute('tabindex', '-1');
    title.focus({ preventScroll: true });
  }
}

async function boot() {
  try {
    await api.refresh();
    await startSession();
  } catch {
    session.me = null;
  }
  window.addEventListener('hashchange', render);
  render();
}

boot();
