use actix_web::web::{Data, Path};
use actix_web::{get, HttpResponse};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::Auth;
use super::extract::Query;
use super::pagination::{list_query, Paged};
use super::Reply;
use crate::db::units;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct UnitOut {
    /// Official code: 2 digits for a province, 5 for a commune.
    #[schema(example = "01")]
    pub code: String,
    #[schema(example = "Thành phố Hà Nội")]
    pub name: String,
    /// `province` or `commune` (or `district` where a deployment adds it).
    pub level: String,
    /// tỉnh, thành phố trung ương, xã, phường, đặc khu.
    pub unit_type: String,
    pub parent_code: Option<String>,
    pub province_code: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl From<units::UnitRow> for UnitOut {
    fn from(u: units::UnitRow) -> Self {
        UnitOut {
            code: u.fields.code,
            name: u.fields.name,
            level: u.fields.level,
            unit_type: u.fields.unit_type,
            parent_code: u.fields.parent_code,
            province_code: u.fields.province_code,
            valid_from: u.fields.valid_from,
            valid_to: u.valid_to,
        }
    }
}

list_query! {
    pub struct UnitListQuery {
        /// `province` or `commune`.
        pub level: Option<String>,
        /// Units directly under this code.
        pub parent: Option<String>,
        /// Name search that ignores case and Vietnamese diacritics (`ha noi` finds Hà Nội).
        pub q: Option<String>,
        /// Include units that are no longer valid (merged away).
        pub include_expired: Option<bool>,
    }
}

/// The official administrative units, ordered by code.
#[utoipa::path(
    operation_id = "listUnits",
    tag = "units",
    security(("bearer" = [])),
    params(UnitListQuery),
    responses((status = 200, body = Paged<UnitOut>))
)]
#[get("/api/v1/units")]
pub async fn list(state: Data<AppState>, _auth: Auth, query: Query<UnitListQuery>) -> Reply {
    let q = query.into_inner();
    let page = q.paging()?;
    let filter = units::UnitFilter {
        level: q.level.filter(|l| !l.is_empty()),
        parent_code: q.parent.filter(|p| !p.is_empty()),
        search: super::extract::search_text(q.q),
        include_expired: q.include_expired.unwrap_or(false),
    };
    let (rows, total) = crate::units::list(&state, filter, page.window()).await?;
    let items = rows.into_iter().map(UnitOut::from).collect();
    Ok(HttpResponse::Ok().json(Paged::new(items, total, &page)))
}

/// One administrative unit by its official code.
#[utoipa::path(
    operation_id = "getUnit",
    tag = "units",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "official code, e.g. 01 or 00004")),
    responses(
        (status = 200, body = UnitOut),
    )
)]
#[get("/api/v1/units/{code}")]
pub async fn get(state: Data<AppState>, _auth: Auth, code: Path<String>) -> Reply {
    let unit = crate::units::get(&state, code.into_inner()).await?;
    Ok(HttpResponse::Ok().json(UnitOut::from(unit)))
}
