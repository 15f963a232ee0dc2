//! Tổ Số's vocabulary: what every layer above speaks. The caller, its role and scope
//! (`access`), every closed set of values (`vocab`), the register's ids (`ids`), months in
//! Vietnam time (`month`), the text and input rules (`text`, `phone`, `input`, `privacy`) and
//! the one error type (`error`). It imports nothing of the database, the domain or HTTP (with
//! the `actix` feature, `error` also answers as an actix `ResponseError`).

#[macro_use]
mod macros;

pub mod access;
pub mod error;
pub mod ids;
pub mod input;
pub mod month;
pub mod phone;
pub mod privacy;
pub mod text;
pub mod vocab;
