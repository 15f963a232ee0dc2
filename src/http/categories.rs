use actix_web::{get, post};

use super::record::catalogue_routes;
use crate::fieldwork::categories::{self, CategoryInput};
use crate::views::CategoryView;

catalogue_routes! {
    domain = categories, entry = CategoryView, tag = "categories",
    list = ("listCategories", "/api/v1/categories", categories::list, CategoryQuery,
        ["Assistance categories, in display order."], "Also list retired categories."),
    create = ("createCategory", CategoryInput, ["Add a category (admin)."]),
    retire = ("retireCategory", "/api/v1/categories/{code}/retire",
        ["Retire a category: old logs keep it, new logs cannot use it (admin)."]),
    restore = ("restoreCategory", "/api/v1/categories/{code}/restore",
        ["Bring a retired category back (admin)."]),
}
