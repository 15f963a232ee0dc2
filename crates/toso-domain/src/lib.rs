//! Tổ Số's rules: who may do what, and how each change is made. Accounts, sessions and tokens
//! (`accounts`, `auth`), the register (`registry`), field work and sync (`fieldwork`), monthly
//! reports and their workflow (`reports`), administrative units (`units`), indicators and
//! targets (`indicators`), bulk imports (`imports`), with the state they share (`state`) and
//! the configuration read at start (`config`). Functions here return `AppError` and know no
//! HTTP type; the database work is `toso_db`'s.

// The layers below, under the names the modules here use: `crate::access::Scope`,
// `crate::db::villages`.
pub(crate) use toso_core::{access, error, ids, input, month, phone, privacy, text, vocab};
pub(crate) use toso_db as db;

pub mod accounts;
pub mod auth;
pub mod config;
pub mod fieldwork;
pub mod imports;
pub mod indicators;
pub mod registry;
pub mod reports;
pub mod state;
pub mod units;
pub mod views;
