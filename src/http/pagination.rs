//! Page parameters and the paged envelope shared by every list route.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::Page;
use crate::error::{AppError, FieldError};

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 200;
const MAX_PAGE: i64 = 1_000_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    pub page: Option<i64>,
    /// Items per page (default 50, at most 200).
    pub page_size: Option<i64>,
}

impl PageQuery {
    /// Checks the page parameters: out of range is a field error, not a silent clamp.
    pub fn new(page: Option<i64>, page_size: Option<i64>) -> Result<Self, AppError> {
        let mut errors = Vec::new();
        if page.is_some_and(|p| !(1..=MAX_PAGE).contains(&p)) {
            errors.push(FieldError::new(
                "page",
                "range",
                format!("page must be 1 to {MAX_PAGE}"),
            ));
        }
        if page_size.is_some_and(|s| !(1..=MAX_PAGE_SIZE).contains(&s)) {
            errors.push(FieldError::new(
                "page_size",
                "range",
                format!("page_size must be 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        if errors.is_empty() {
            Ok(PageQuery { page, page_size })
        } else {
            Err(AppError::Validation(errors))
        }
    }

    pub fn clamped(&self) -> (i64, i64) {
        let page = self.page.unwrap_or(1).clamp(1, MAX_PAGE);
        let size = self
            .page_size
            .unwrap_or(DEFAULT_PAGE_SIZE)
            .clamp(1, MAX_PAGE_SIZE);
        (page, size)
    }

    pub fn window(&self) -> Page {
        let (page, size) = self.clamped();
        Page {
            limit: size,
            offset: (page - 1) * size,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// How many items match the filters, over all pages.
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, total: i64, query: &PageQuery) -> Self {
        let (page, page_size) = query.clamped();
        Paged {
            items,
            total,
            page,
            page_size,
        }
    }

    /// A page of rows, served as their views (`crate::views`).
    pub fn served<R: crate::views::Served<View = T>>(
        rows: Vec<R>,
        total: i64,
        query: &PageQuery,
    ) -> Self {
        Paged::new(crate::views::all(rows), total, query)
    }
}

/// Declares a list route's query parameters: the filters written out, then `page` and
/// `page_size` (documented, with their ranges), and `paging()` that checks them.
/// `list_query! { window; pub struct … }` adds `from` and `to` (a day or an instant), which the
/// handler checks with `extract::check_window`.
macro_rules! list_query {
    (window; $(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $crate::http::pagination::list_query! {
            $(#[$meta])*
            pub struct $name {
                $($fields)*
                /// From this instant, inclusive: RFC 3339, or a day `YYYY-MM-DD` (00:00 Vietnam time).
                #[serde(default, deserialize_with = "crate::http::extract::day_or_instant")]
                #[param(value_type = Option<String>)]
                pub from: Option<chrono::DateTime<chrono::Utc>>,
                /// Until this instant, exclusive: RFC 3339, or a day `YYYY-MM-DD` (00:00 Vietnam time).
                #[serde(default, deserialize_with = "crate::http::extract::day_or_instant")]
                #[param(value_type = Option<String>)]
                pub to: Option<chrono::DateTime<chrono::Utc>>,
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[$field_meta:meta])* pub $field:ident: $ty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(serde::Deserialize, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($(#[$field_meta])* pub $field: $ty,)*
            /// 1-based page number (default 1).
            #[param(minimum = 1, maximum = 1_000_000)]
            pub page: Option<i64>,
            /// Items per page (default 50).
            #[param(minimum = 1, maximum = 200)]
            pub page_size: Option<i64>,
        }

        impl $name {
            /// The page asked for; out of range is a field error.
            pub fn paging(&self) -> Result<$crate::http::pagination::PageQuery, $crate::error::AppError> {
                $crate::http::pagination::PageQuery::new(self.page, self.page_size)
            }
        }
    };
}

pub(crate) use list_query;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameters_out_of_range_are_field_errors_not_clamps() {
        for (page, size, fields) in [
            (Some(0), None, vec!["page"]),
            (None, Some(0), vec!["page_size"]),
            (Some(1_000_001), Some(201), vec!["page", "page_size"]),
            (Some(-5), Some(-1), vec!["page", "page_size"]),
        ] {
            match PageQuery::new(page, size) {
                Err(AppError::Validation(errors)) => {
                    let named: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                    assert_eq!(named, fields, "page {page:?}, size {size:?}");
                }
                other => panic!("page {page:?}, size {size:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_window_follows_the_page_and_its_size() {
        let first = PageQuery::new(None, None).unwrap().window();
        assert_eq!((first.limit, first.offset), (DEFAULT_PAGE_SIZE, 0));
        let third = PageQuery::new(Some(3), Some(20)).unwrap().window();
        assert_eq!((third.limit, third.offset), (20, 40));
        let last = PageQuery::new(Some(MAX_PAGE), Some(MAX_PAGE_SIZE)).unwrap();
        assert_eq!(last.clamped(), (MAX_PAGE, MAX_PAGE_SIZE));
        let paged = Paged::new(vec![1, 2], 42, &PageQuery::new(Some(2), Some(2)).unwrap());
        assert_eq!((paged.page, paged.page_size, paged.total), (2, 2, 42));
    }
}
