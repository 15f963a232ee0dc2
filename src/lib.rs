//! Tổ Số: the backend of Vietnam's community digital-technology teams.
//!
//! Layers: `http` (routes, DTOs, errors) → domain modules (`accounts`, `auth`, `units`) →
//! `db` (diesel, no HTTP). `startup` wires them; `config` is read once at start.

#[macro_use]
mod macros;

pub mod accounts;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod fieldwork;
pub mod http;
pub mod input;
pub mod phone;
pub mod registry;
pub mod reports;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod units;
