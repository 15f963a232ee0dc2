//! Extractors: the authenticated caller, the client address, `If-Match` versions, JSON bodies
//! and query strings.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::access::{Caller, Role};
use crate::auth::jwt::TokenError;
use crate::auth::live_sessions::Lookup;
use crate::db;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

fn unauthorized(code: ErrorCode, detail: &str) -> AppError {
    AppError::Unauthorized {
        code,
        detail: detail.to_string(),
    }
}

pub(crate) fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        unauthorized(
            ErrorCode::MissingToken,
            "this route needs a bearer access token",
        )
    })?;
    let value = value.to_str().map_err(|_| {
        unauthorized(
            ErrorCode::InvalidToken,
            "the Authorization header is not readable",
        )
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(unauthorized(
            ErrorCode::InvalidToken,
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

/// The caller behind a valid access token whose session is live and whose account is enabled.
/// Role and scope come from the database (or from the cache of live sessions that every
/// instance empties of an account when it changes, `auth::live_sessions`), so a change takes
/// effect at the next request. An
/// account whose password was set by someone else gets 403 `password_change_required` until
/// its owner changes it (`AuthPendingPasswordChange` lets the few routes that allow it in).
pub struct Auth(pub Caller);

/// Like `Auth`, but also lets in an account that must change its password first: for
/// `GET /me`, `PUT /me/password` and `POST /auth/logout`.
pub struct AuthPendingPasswordChange(pub Caller);

type CallerFuture = Pin<Box<dyn Future<Output = Result<Caller, AppError>>>>;

fn authenticate(req: &HttpRequest) -> CallerFuture {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| AppError::internal("application state is missing"))?;
        let claims = state.keys.verify(&token?).map_err(|e| match e {
            TokenError::Expired => {
                unauthorized(ErrorCode::TokenExpired, "the access token has expired")
            }
            _ => unauthorized(ErrorCode::InvalidToken, "the access token is not valid"),
        })?;
        let (sid, sub) = (claims.sid, claims.sub);
        let ticket = match state.sessions.lookup(sid, sub) {
            Lookup::Hit(caller) => return Ok(caller),
            Lookup::Miss(ticket) => ticket,
        };
        let (user, expires_at) = db::run(&state.pool, move |conn| {
            Ok(db::sessions::live_session_user(conn, sid, sub)?)
        })
        .await?
        .ok_or_else(|| {
            unauthorized(
                ErrorCode::SessionRevoked,
                "this login has ended; log in again",
            )
        })?;
        let role = Role::parse(&user.fields.role)
            .ok_or_else(|| AppError::internal("unknown role in database"))?;
        let caller = Caller {
            user_id: user.id,
            session_id: sid,
            username: user.fields.username,
            role,
            unit_code: user.fields.unit_code,
            province_code: user.fields.province_code,
            team_id: user.fields.team_id,
            must_change_password: user.must_change_password,
        };
        if let Some(ticket) = ticket {
            state.sessions.remember(ticket, &caller, expires_at);
        }
        Ok(caller)
    })
}

impl FromRequest for Auth {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req);
        Box::pin(async move {
            let caller = caller.await?;
            if caller.must_change_password {
                return Err(AppError::Forbidden {
                    code: ErrorCode::PasswordChangeRequired,
                    detail: "your password was set by someone else: change it with \
                             PUT /api/v1/me/password first"
                        .into(),
                });
            }
            Ok(Auth(caller))
        })
    }
}

impl FromRequest for AuthPendingPasswordChange {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req);
        Box::pin(async move { Ok(AuthPendingPasswordChange(caller.await?)) })
    }
}

/// The client's address: the peer, or the forwarded one when the proxy is trusted. Behind a
/// proxy, the last `X-Forwarded-For` entry is the one the proxy itself saw (entries before it
/// are whatever the client sent). IPv4-mapped addresses count as IPv4, and an IPv6 address as
/// its /64 (one subscriber's network), so a client cannot rotate addresses past the throttle.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    let info = req.connection_info();
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .last();
    let addr = match (trust_proxy, forwarded) {
        (true, Some(last)) => Some(last),
        (true, None) => info.realip_remote_addr(),
        (false, _) => info.peer_addr(),
    };
    let addr = addr.unwrap_or("unknown");
    let ip = addr
        .parse::<std::net::SocketAddr>()
        .map(|sa| sa.ip())
        .or_else(|_| addr.trim_matches(['[', ']']).parse::<std::net::IpAddr>());
    match ip {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
        Ok(ip) => ip.to_string(),
        Err(_) => addr.to_string(),
    }
}

/// The `If-Match` request header of a versioned write: the version the change is based on.
/// `IfMatch(None)` when the header is absent or is `*` ("any current version", RFC 9110: the
/// record exists, which every write checks anyway). A stale version makes the write answer 412;
/// a header that is not an ETag of this API is 400 `invalid_if_match`. As a parameter of
/// `utoipa::path` it documents the header (and the generated document adds the 412 answer).
pub struct IfMatch(pub Option<i32>);

impl FromRequest for IfMatch {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(if_match_version(req).map(IfMatch))
    }
}

impl utoipa::IntoParams for IfMatch {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        vec![ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(utoipa::openapi::Required::False)
            .description(Some(
                "The ETag of the version being changed (a stale one gets 412); `*` or no header: \
                 any current version (an upsert without it may create)",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r#"^(\*|(W/)?"[0-9]{1,9}")$"#)),
            ))
            .build()]
    }
}

fn if_match_version(req: &HttpRequest) -> Result<Option<i32>, AppError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || AppError::BadRequest {
        code: ErrorCode::InvalidIfMatch,
        detail: "If-Match must be an ETag of this API, e.g. \"3\", or *".into(),
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let text = text.strip_prefix("W/").unwrap_or(text);
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(bad)?;
    inner.parse::<i32>().map(Some).map_err(|_| bad())
}

pub fn etag(version: i32) -> header::ETag {
    header::ETag(header::EntityTag::new_strong(version.to_string()))
}

/// A JSON body that is deserialized and then validated; failures are 422 with field errors.
/// On the way in, every string is screened by `text::screen_json` (NFC, no control or bidi
/// characters, not only invisible characters), and an object with a repeated key is refused
/// with 400 `duplicate_key` (see [`UniqueKeys`]). With `ITEMS_APART`, the top-level `items`
/// are left to the handler, which screens and rejects each one on its own (sync batches).
pub struct ValidJson<T, const ITEMS_APART: bool = false>(pub T);

impl<T, const ITEMS_APART: bool> FromRequest for ValidJson<T, ITEMS_APART>
where
    T: serde::de::DeserializeOwned + validator::Validate + 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = web::Json::<UniqueKeys>::from_request(req, payload);
        Box::pin(async move {
            let mut value = fut.await?.into_inner().0;
            let skip: &[&str] = if ITEMS_APART { &["items"] } else { &[] };
            crate::text::screen_json(&mut value, "", skip)?;
            // Deserialising from a value keeps the path of a wrong field for the error.
            let body: T = serde_path_to_error::deserialize(value)
                .map_err(|e| AppError::Validation(vec![field_error(e, "body")]))?;
            body.validate().map_err(AppError::from)?;
            Ok(ValidJson(body))
        })
    }
}

/// The start of the message of a body refused for a repeated key; `http::error::json_error`
/// turns it into 400 `duplicate_key`.
pub const DUPLICATE_KEY: &str = "duplicate key";

/// Any JSON value, read like `serde_json::Value` except that an object naming a key twice
/// is an error. (serde_json keeps the last of two equal keys silently, so
/// `{"left_on": "2026-01-01", "left_on": null}` would mean whatever the last parser decides.)
pub struct UniqueKeys(pub serde_json::Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        serde::Deserialize::deserialize(d).map(|UniqueKeys(v)| v)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "{DUPLICATE_KEY} {key:?}: an object names it more than once"
                )));
            }
            let UniqueKeys(v) = map.next_value()?;
            object.insert(key, v);
        }
        Ok(serde_json::Value::Object(object))
    }
}

/// The field error of a serde failure: the path of the field that failed, its code
/// (`required` or `invalid_value`) and serde's message.
fn field_error<E: std::fmt::Display>(
    e: serde_path_to_error::Error<E>,
    whole: &str,
) -> crate::error::FieldError {
    let path = e.path().to_string();
    let message = e.inner().to_string();
    let field = if path == "." {
        named_field(&message).unwrap_or(whole).to_string()
    } else {
        path
    };
    let code = if message.starts_with("missing field") {
        "required"
    } else {
        "invalid_value"
    };
    crate::error::FieldError::new(field, code, message)
}

/// A query string, deserialized like `web::Query` but answering a failure with 400
/// `invalid_query` and the field that failed in `errors`, as body errors do.
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: serde::de::DeserializeOwned> FromRequest for Query<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pairs = form_urlencoded::parse(req.query_string().as_bytes());
        let result = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs))
            .map(Query)
            .map_err(|e| AppError::InvalidQuery(vec![field_error(e, "query")]));
        std::future::ready(result)
    }
}

/// The `from`/`to` window of a list query: `to` (exclusive) may not come before `from`.
pub fn check_window(
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), AppError> {
    crate::input::in_order(
        (from, to),
        "to",
        "invalid_range",
        "to must not be earlier than from",
    )
}

/// A year of the programme in a query: 2024 to 2100, as the document says (400 otherwise).
pub fn programme_year<'de, D>(d: D) -> Result<Option<i32>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    match Option::<i32>::deserialize(d)? {
        Some(year) if !(2024..=2100).contains(&year) => Err(serde::de::Error::custom(
            "expected a year from 2024 to 2100",
        )),
        year => Ok(year),
    }
}

/// Query parameters that name an instant: an RFC 3339 time (`2026-08-01T00:00:00+07:00`) or a
/// day (`2026-08-01`, meaning 00:00 of that day in Vietnam time, where the API's months are).
pub fn day_or_instant<'de, D>(d: D) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use chrono::{DateTime, NaiveDate, Utc};
    use serde::Deserialize;
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let text = text.trim();
    let at = match DateTime::parse_from_rfc3339(text) {
        Ok(at) => at.with_timezone(&Utc),
        Err(_) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .map(|midnight| midnight.and_utc() - chrono::Duration::hours(7))
            .ok_or_else(|| {
                serde::de::Error::custom(
                    "expected a day (YYYY-MM-DD, 00:00 Vietnam time) or a time with its offset \
                     (RFC 3339, e.g. 2026-08-01T00:00:00+07:00)",
                )
            })?,
    };
    // The same window as the dates of a body (year 0001 or 9999 is a typing slip, not a filter).
    crate::input::plausible_time(&at.fixed_offset()).map_err(|e| {
        serde::de::Error::custom(
            e.message
                .map_or_else(|| e.code.to_string(), |m| m.to_string()),
        )
    })?;
    Ok(Some(at))
}

/// The field serde names in "missing field `x`" or "unknown field `x`, expected …".
fn named_field(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split('`').next()
}

/// A JSON answer with the record's version as its `ETag`.
pub fn versioned<T: serde::Serialize>(
    status: actix_web::http::StatusCode,
    version: i32,
    body: &T,
) -> actix_web::HttpResponse {
    actix_web::HttpResponse::build(status)
        .insert_header(etag(version))
        .json(body)
}

/// A JSON answer with the view of `row` (`crate::views`) and its version as the `ETag`.
pub fn served<R: crate::views::Served>(
    status: actix_web::http::StatusCode,
    version: i32,
    row: R,
) -> actix_web::HttpResponse {
    versioned(status, version, &R::View::from(row))
}

/// Trims a search text, caps its length and folds it for diacritic-insensitive matching.
pub fn search_text(q: Option<String>) -> Option<String> {
    q.map(|s| crate::text::fold(&s.chars().take(100).collect::<String>()))
        .filter(|s| !s.is_empty())
}
