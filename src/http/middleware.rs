//! Request context: a request id on every span and response, one log line per request, and a
//! last guard that turns any error response without a problem body into one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, Error, HttpMessage, HttpResponse, ResponseError};
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::error::{Problem, PROBLEM_JSON};
use crate::db;
use crate::error::ErrorCode;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, available to handlers through request extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| v.to_string())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();

    // Handlers answer errors as responses; an `Err` here comes from actix itself and is
    // answered by actix. (The request must not be cloned before routing, so it cannot be
    // rebuilt here.)
    let response = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    let mut response = ensure_problem(response);

    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(status, latency_ms, "request completed"));

    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(response)
}

/// Headers that depend on the configuration: `Cache-Control: no-store` on every answer that
/// does not set its own (API answers carry personal data: no proxy or browser may keep them;
/// unknown routes, health checks and errors alike, whatever the path), and `Strict-Transport-Security` when `TOSO_HSTS_MAX_AGE` is set (the API is
/// then served over TLS by a proxy in front).
pub async fn response_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let hsts = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.settings.hsts_max_age);
    let mut response = next.call(req).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(max_age) = hsts {
        if let Ok(v) = HeaderValue::from_str(&format!("max-age={max_age}; includeSubDomains")) {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, v);
        }
    }
    Ok(response)
}

/// Per client (an account, or an address for requests without a valid token), the share of
/// the admission slots it may hold at once (`TOSO_MAX_IN_FLIGHT_PER_CLIENT`): one client cannot
/// hold every slot, nor every database connection, while others wait.
pub struct ClientShares {
    per_client: usize,
    held: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl ClientShares {
    pub fn new(per_client: usize) -> Self {
        ClientShares {
            per_client: per_client.max(1),
            held: Mutex::new(HashMap::new()),
        }
    }

    fn semaphore(&self, client: &str) -> Arc<Semaphore> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.entry(client.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_client)))
            .clone()
    }

    /// Forgets a client's semaphore once nobody holds or waits for it, so the map only holds
    /// the clients with requests in flight.
    fn release(&self, client: &str, semaphore: Arc<Semaphore>) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        // Two references left: the map's and this one; nobody else holds or waits.
        if Arc::strong_count(&semaphore) == 2 && semaphore.available_permits() == self.per_client {
            held.remove(client);
        }
    }
}

/// Who a request counts against: the account of a valid access token, else the address.
fn client_of(req: &ServiceRequest, state: &AppState) -> String {
    let account = super::extract::bearer(req.request())
        .ok()
        .and_then(|token| state.keys.verify(&token).ok())
        .map(|claims| format!("{ACCOUNT}{}", claims.sub));
    account.unwrap_or_else(|| {
        let ip = super::extract::client_ip(req.request(), state.settings.trust_proxy_headers);
        format!("address:{ip}")
    })
}

/// A problem answered before the handler runs (503 with `Retry-After`).
fn problem_response((status, code, detail): Refusal) -> HttpResponse {
    let mut response = Problem::new(status, code, detail).response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        let retry = HeaderValue::from(1u32);
        response.headers_mut().insert(header::RETRY_AFTER, retry);
    }
    response
}

/// An answer given before the request's body was read in full: the connection is then closed
/// (the rest of the body is never read).
fn closing(mut response: HttpResponse) -> HttpResponse {
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    response
}

/// A body read in full, with the share of the body budget its bytes hold until the answer
/// is built.
struct Body {
    bytes: Bytes,
    budget: Option<OwnedSemaphorePermit>,
}

type Refusal = (StatusCode, ErrorCode, String);

/// The body's announced length (`Content-Length`), refused (413) when above `limit`.
fn declared_length(req: &ServiceRequest, limit: usize) -> Result<Option<usize>, Refusal> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > limit => Err(too_large(limit)),
        _ => Ok(declared),
    }
}

fn too_large(limit: usize) -> Refusal {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        format!("the request body is larger than {limit} bytes"),
    )
}

/// The whole body, read within `deadline` and at most `limit` bytes; 408 when it does not
/// arrive in time, 413 when it is too large. Each chunk takes its bytes from `budget` (all the
/// bodies held at once, across clients) as it arrives, so memory stays bounded however many
/// connections send, and a client that withholds its body holds no budget; when the budget
/// stays exhausted until the deadline, 503.
async fn read_body(
    req: &mut ServiceRequest,
    deadline: Duration,
    limit: usize,
    budget: &Arc<Semaphore>,
) -> Result<Body, Refusal> {
    let declared = declared_length(req, limit)?;
    let timed_out = || {
        (
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestTimeout,
            format!(
                "the request body did not arrive within {} ms",
                deadline.as_millis()
            ),
        )
    };
    let mut payload = req.take_payload();
    // Memory is taken as bytes arrive, not as they are announced.
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0).min(16 * 1024));
    let mut held: Option<OwnedSemaphorePermit> = None;
    let until = tokio::time::Instant::now() + deadline;
    loop {
        let chunk = match tokio::time::timeout_at(until, payload.next()).await {
            Err(_) => return Err(timed_out()),
            Ok(None) => {
                return Ok(Body {
                    bytes: body.freeze(),
                    budget: held,
                })
            }
            Ok(Some(Ok(chunk))) => chunk,
            Ok(Some(Err(e))) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    ErrorCode::MalformedBody,
                    format!("the request body could not be read: {e}"),
                ))
            }
        };
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        let bytes = u32::try_from(chunk.len()).map_err(|_| too_large(limit))?;
        let permit =
            match tokio::time::timeout_at(until, budget.clone().acquire_many_owned(bytes)).await {
                Ok(Ok(permit)) => permit,
                _ => {
                    return Err((
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorCode::ServiceUnavailable,
                        "the server holds too many request bodies; retry shortly".into(),
                    ))
                }
            };
        match held.as_mut() {
            Some(h) => h.merge(permit),
            None => held = Some(permit),
        }
        body.extend_from_slice(&chunk);
    }
}

/// The admission gates of the HTTP layer, shared by every worker: built once at start.
pub struct Gates {
    /// One permit per API request handled at once (`TOSO_MAX_IN_FLIGHT`).
    pub admission: Arc<Semaphore>,
    /// The slots each client (account or address) holds (`TOSO_MAX_IN_FLIGHT_PER_CLIENT`).
    pub shares: ClientShares,
    /// Sync pushes handled at once, one permit per pooled connection (`TOSO_DB_POOL_SIZE`):
    /// taken before a push's body is read, so that the pushes waiting for a connection wait
    /// with their bodies still in the socket (see `admission`).
    pub pushes: Arc<Semaphore>,
    /// Bytes of request bodies held at once, one permit a byte: twice `TOSO_MAX_IN_FLIGHT`
    /// bodies of `TOSO_MAX_BODY_BYTES`, so bodies read before admission stay bounded.
    pub bodies: Arc<Semaphore>,
    /// The same for spreadsheet uploads (`POST /api/v1/imports`), apart so that their larger
    /// limit does not widen the budget of every other body: two files of
    /// `TOSO_MAX_IMPORT_BYTES` at once.
    pub upload_bodies: Arc<Semaphore>,
}

impl Gates {
    pub fn new(settings: &crate::config::Settings) -> Self {
        Gates {
            admission: Arc::new(Semaphore::new(settings.max_in_flight)),
            shares: ClientShares::new(settings.max_in_flight_per_client),
            pushes: Arc::new(Semaphore::new(settings.database.pool_size as usize)),
            bodies: Arc::new(Semaphore::new(
                settings
                    .max_body_bytes
                    .saturating_mul(2 * settings.max_in_flight)
                    .min(Semaphore::MAX_PERMITS),
            )),
            upload_bodies: Arc::new(Semaphore::new(
                settings
                    .max_import_bytes
                    .saturating_mul(2)
                    .min(Semaphore::MAX_PERMITS),
            )),
        }
    }
}

/// Bodies first, then admission. Every request's body is read in full (at most
/// `TOSO_MAX_BODY_BYTES`) within `TOSO_BODY_TIMEOUT_MS`, before it takes any slot: a client that
/// sends its body slowly, or never, holds only its own connection and the bytes it sent, and
/// is answered 408 and disconnected at the deadline. The bodies held at once share one budget
/// (`Gates::bodies`, twice `TOSO_MAX_IN_FLIGHT` full bodies). Then at most `TOSO_MAX_IN_FLIGHT` API requests are handled at
/// once, and at most `TOSO_MAX_IN_FLIGHT_PER_CLIENT` of one client (`ClientShares`); the others
/// wait for at most the checkout timeout and are answered 503 with `Retry-After`. The database
/// gate (`db::run`) bounds the work on PostgreSQL; this bounds the memory of answers built
/// (64 concurrent 500-log pushes held about 190 MB without it) and keeps one client from
/// taking every slot. Health checks and `/api/v1/auth/` (whose password hashing has its own
/// bounded queue) take no slot.
///
/// The exception is a sync push of an account (a valid access token): its client's share and
/// one of `Gates::pushes` (as many as pooled connections) are taken *before* its body is read,
/// within the same wait, past which it is answered the same 503 and its connection closed (the
/// body unread). A push body is the largest an API request sends (~200 KB for 500 logs), and
/// 64 of them read while waiting for 10 connections made the server's memory peak (~30 MB of
/// buffers, `bench/RESULTS.md`); now the pushes that wait leave their bodies in the socket. A
/// slow sender of a push holds its own account's share and one push permit until the body
/// deadline, not more.
pub async fn admission(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let (Some(state), Some(gates)) = (
        req.app_data::<web::Data<AppState>>().cloned(),
        req.app_data::<web::Data<Gates>>().cloned(),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let gated = req.path().starts_with("/api/") && !req.path().starts_with("/api/v1/auth/");
    if !gated {
        return admitted(req, next, &state, &gates, None).await;
    }
    let client = client_of(&req, &state);
    let share = gates.shares.semaphore(&client);
    let response = if client.starts_with(ACCOUNT) && is_sync_push(&req) {
        match push_turn(&req, &state, &gates, &share).await {
            Ok(early) => admitted(req, next, &state, &gates, Some((&share, Some(early)))).await,
            Err(refused) => Ok(req.into_response(refused)),
        }
    } else {
        admitted(req, next, &state, &gates, Some((&share, None))).await
    };
    gates.shares.release(&client, share);
    response
}

/// A push's turn, taken before its body is read: its client's share and a push permit, within
/// the checkout timeout. Else the answer, on a connection then closed (the body is unread).
async fn push_turn(
    req: &ServiceRequest,
    state: &AppState,
    gates: &Gates,
    share: &Arc<Semaphore>,
) -> Result<Early, HttpResponse> {
    // A body announced too large is refused at once, as it is when read.
    if let Err(refusal) = declared_length(req, state.settings.max_body_bytes) {
        return Err(closing(problem_response(refusal)));
    }
    let wait = state.settings.database.checkout_timeout;
    let started = tokio::time::Instant::now();
    let turn = async {
        let own = db::acquire_within(share, wait, CLIENT_BUSY).await?;
        let left = wait.saturating_sub(started.elapsed());
        let push = db::acquire_within(&gates.pushes, left, "too many pushes in flight").await?;
        Ok::<_, crate::error::AppError>((own, push))
    };
    turn.await.map_err(|busy| closing(busy.error_response()))
}

/// The share and push permit a push took before its body was read.
type Early = (OwnedSemaphorePermit, OwnedSemaphorePermit);

const CLIENT_BUSY: &str = "this client has too many requests in flight";

/// The rest of `admission`: the body read, then (for a gated request: its client's share, and
/// what it took early) the slots, then the handler.
async fn admitted(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    state: &AppState,
    gates: &Gates,
    gated: Option<(&Arc<Semaphore>, Option<Early>)>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let settings = &state.settings;
    // A spreadsheet upload has a limit of its own (`TOSO_MAX_IMPORT_BYTES`) and at least a
    // minute to arrive.
    let (limit, deadline, budget) = if is_import_upload(&req) {
        (
            settings.max_import_bytes,
            settings.body_timeout.max(Duration::from_secs(60)),
            &gates.upload_bodies,
        )
    } else {
        (
            settings.max_body_bytes,
            settings.body_timeout,
            &gates.bodies,
        )
    };
    // Held until the answer is built: the handler holds the body (or what it parsed) till then.
    let _body_budget = match read_body(&mut req, deadline, limit, budget).await {
        Ok(body) => {
            req.set_payload(Payload::from(body.bytes));
            body.budget
        }
        Err(refusal) => return Ok(req.into_response(closing(problem_response(refusal)))),
    };
    let Some((share, early)) = gated else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let wait = settings.database.checkout_timeout;
    let started = tokio::time::Instant::now();
    let permits = async {
        let own = match early {
            Some((own, push)) => (own, Some(push)),
            None => (db::acquire_within(share, wait, CLIENT_BUSY).await?, None),
        };
        let left = wait.saturating_sub(started.elapsed());
        let global =
            db::acquire_within(&gates.admission, left, "too many requests in flight").await?;
        Ok::<_, crate::error::AppError>((own, global))
    }
    .await;
    match permits {
        Ok(permits) => {
            let response = next.call(req).await.map(|r| r.map_into_boxed_body());
            drop(permits);
            response
        }
        Err(busy) => Ok(req.into_response(busy.error_response())),
    }
}

const ACCOUNT: &str = "account:";

/// `POST /api/v1/sync/push`: a batch of up to 500 records.
fn is_sync_push(req: &ServiceRequest) -> bool {
    req.method() == actix_web::http::Method::POST && req.path() == "/api/v1/sync/push"
}

/// `POST /api/v1/imports`: a file, not a JSON body.
pub fn is_import_upload(req: &ServiceRequest) -> bool {
    req.method() == actix_web::http::Method::POST && req.path() == "/api/v1/imports"
}

fn ensure_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if status.as_u16() < 400 || is_problem {
        return res;
    }
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        StatusCode::BAD_REQUEST => ErrorCode::BadRequest,
        s if s.is_server_error() => ErrorCode::InternalError,
        _ => ErrorCode::Error,
    };
    let detail = match status {
        StatusCode::NOT_FOUND => "no route matches this path".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "this route does not accept this method".to_string(),
        s => s.canonical_reason().unwrap_or("error").to_string(),
    };
    let (req, old) = res.into_parts();
    let mut fresh = Problem::new(status, code, detail).response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, fresh)
}
