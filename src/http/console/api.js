// The public API, as the console calls it. The access token lives in this module's memory
// only; the refresh token is an HttpOnly cookie the page cannot read (see ARCHITECTURE.md).

let access = null;
let refreshing = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problemText(problem, status));
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || `http_${status}`;
  }
}

// Vietnamese for the API's stable problem codes; unknown codes fall back to the server's text.
const CODES = {
  invalid_credentials: 'Sai tên đăng nhập hoặc mật khẩu.',
  account_disabled: 'Tài khoản đã bị khóa.',
  too_many_requests: 'Thử sai quá nhiều lần. Vui lòng đợi rồi thử lại.',
  invalid_token: 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.',
  session_revoked: 'Phiên đăng nhập đã kết thúc. Vui lòng đăng nhập lại.',
  invalid_refresh_token: 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.',
  refresh_token_reused: 'Phiên đăng nhập đã kết thúc. Vui lòng đăng nhập lại.',
  password_change_required: 'Bạn cần đổi mật khẩu trước khi tiếp tục.',
  version_mismatch: 'Bản ghi đã được người khác sửa trong lúc bạn chỉnh. Thay đổi của bạn chưa được lưu.',
  validation_failed: 'Thông tin chưa hợp lệ. Vui lòng sửa các ô được đánh dấu.',
  invalid_query: 'Điều kiện tìm kiếm chưa hợp lệ.',
  not_found: 'Không tìm thấy (hoặc nằm ngoài phạm vi của bạn).',
  forbidden: 'Bạn không có quyền thực hiện thao tác này.',
  outside_scope: 'Nằm ngoài phạm vi của bạn.',
  peer_account: 'Chỉ cấp cao hơn mới được sửa tài khoản này.',
  month_not_ended: 'Tháng chưa kết thúc: chỉ nộp hoặc duyệt báo cáo sau ngày cuối tháng.',
  month_locked: 'Tháng đã được duyệt và khóa sổ.',
  already_submitted: 'Báo cáo đã được nộp.',
  already_approved: 'Báo cáo đã được duyệt.',
  not_submitted: 'Báo cáo chưa được nộp.',
  invalid_transition: 'Không thể chuyển báo cáo sang trạng thái này.',
  parent_archived: 'Đơn vị cấp trên đã bị lưu trữ.',
  dependent_records: 'Còn bản ghi phụ thuộc nên chưa thể lưu trữ.',
  has_dependents: 'Còn bản ghi phụ thuộc nên chưa thể lưu trữ.',
  linked_account_elsewhere: 'Tài khoản liên kết đang ở tổ khác.',
  service_unavailable: 'Máy chủ đang bận. Vui lòng thử lại sau ít giây.',
  request_timeout: 'Hết thời gian gửi dữ liệu. Vui lòng thử lại.',
  internal_error: 'Lỗi máy chủ. Vui lòng thử lại; nếu còn lỗi, báo cho quản trị viên.',
  import_rejected: 'Tệp có dòng bị lỗi nên chưa ghi gì vào sổ. Sửa các dòng được liệt kê rồi thử lại.',
  payload_too_large: 'Tệp quá lớn so với giới hạn của máy chủ.',
  unsupported_media_type: 'Máy chủ không nhận kiểu dữ liệu này.',
  malformed_multipart: 'Không đọc được tệp gửi lên. Vui lòng chọn lại tệp.',
  invalid_activation_code: 'Mã kích hoạt không đúng, đã dùng hoặc đã hết hạn.',
  csrf_check_failed: 'Yêu cầu bị từ chối vì lý do bảo mật. Vui lòng tải lại trang.',
  network: 'Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.',
};

// Vietnamese for field error codes.
const FIELD_CODES = {
  required: 'Bắt buộc nhập.',
  taken: 'Giá trị này đã được dùng.',
  too_weak: 'Mật khẩu quá dễ đoán. Hãy dùng cụm từ dài hơn, khó đoán hơn.',
  incorrect: 'Mật khẩu hiện tại không đúng.',
  length: 'Độ dài không hợp lệ.',
  too_long: 'Quá dài.',
  range: 'Ngoài khoảng cho phép.',
  out_of_range: 'Ngoài khoảng cho phép.',
  personal_data: 'Không ghi dữ liệu cá nhân của người dân (số điện thoại, CCCD, tài khoản, email, mã OTP).',
  forbidden_character: 'Có ký tự không được phép.',
  invisible: 'Chỉ có ký tự vô hình.',
  too_old: 'Ngày quá xa trong quá khứ.',
  too_far_ahead: 'Ngày quá xa trong tương lai.',
  invalid_phone: 'Số điện thoại di động Việt Nam không hợp lệ.',
  invalid_value: 'Giá trị không hợp lệ.',
  leader_exists: 'Tổ đã có tổ trưởng.',
  before_joined: 'Trước ngày tham gia.',
  work_recorded_after: 'Thành viên còn hoạt động được ghi nhận sau ngày này.',
  work_recorded_before: 'Thành viên có hoạt động được ghi nhận trước ngày này.',
  invalid_range: 'Khoảng thời gian không hợp lệ.',
};

export function problemText(problem, status) {
  if (problem && CODES[problem.code]) return CODES[problem.code];
  if (problem && problem.detail) return problem.detail;
  return `Lỗi ${status}.`;
}

export function fieldText(error) {
  return FIELD_CODES[error.code] || error.message || 'Giá trị không hợp lệ.';
}

export function loggedIn() {
  return access !== null;
}

async function send(method, path, { body, formData, ifMatch, accept, token = access, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, credentials: 'same-origin' };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (ifMatch) init.headers['If-Match'] = ifMatch;
  if (accept) init.headers.Accept = accept;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  // A file upload: the browser writes the multipart body and its boundary.
  if (formData) init.body = formData;
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, { code: 'network' });
  }
}

async function readProblem(res) {
  try {
    return await res.json();
  } catch {
    return { code: `http_${res.status}` };
  }
}

async function tokens(res) {
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  const body = await res.json();
  access = body.access_token;
  return body;
}

export async function login(username, password) {
  return tokens(await send('POST', '/api/v1/auth/login', { body: { username, password, console: true }, token: null }));
}

// Redeems a one-time activation code: the owner chooses the password and is logged in.
export async function activate(code, password) {
  return tokens(await send('POST', '/api/v1/auth/activate', { body: { code, password, console: true }, token: null }));
}

// One refresh at a time, however many requests found the access token expired.
export function refresh() {
  if (!refreshing) {
    refreshing = send('POST', '/api/v1/auth/refresh', { token: null, headers: { 'X-Toso-Console': '1' } })
      .then(tokens)
      .catch((e) => {
        access = null;
        throw e;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

export async function logout() {
  try {
    if (access) await send('POST', '/api/v1/auth/logout');
  } finally {
    access = null;
  }
}

// A request with the access token; an expired one is refreshed once through the cookie.
export async function request(method, path, opts = {}) {
  let res = await send(method, path, opts);
  if (res.status === 401 && path !== '/api/v1/auth/login') {
    await refresh();
    res = await send(method, path, opts);
  }
  if (!res.ok) throw new ApiError(res.status, await readProblem(res));
  if (res.status === 204) return { data: null, etag: null, res };
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json() : await res.blob();
  return { data, etag: res.headers.get('etag'), res };
}

export const get = (path) => request('GET', path).then((r) => r.data);
export const post = (path, body) => request('POST', path, { body }).then((r) => r.data);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
