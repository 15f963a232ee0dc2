//! Tổ Số: the backend of Vietnam's community digital-technology teams.
//!
//! Layers: `http` (routes, DTOs, errors) → domain modules (`accounts`, `auth`, `registry`,
//! `fieldwork`, `reports`, `units`) → `db` (diesel, no HTTP) → `access` (caller, role, scope),
//! `text`, `error`; a module imports only those below it (ARCHITECTURE.md). `startup` wires
//! them; `config` is read once at start.

#[macro_use]
mod macros;

pub mod access;
pub mod accounts;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod fieldwork;
pub mod http;
pub mod ids;
pub mod imports;
pub mod indicators;
pub mod input;
pub mod month;
pub mod phone;
pub mod registry;
pub mod reports;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod units;
pub mod views;
pub mod vocab;
