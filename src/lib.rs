//! Tổ Số: the backend of Vietnam's community digital-technology teams.
//!
//! Layers: `http` (routes, DTOs, errors) → domain modules (`accounts`, `auth`, `registry`,
//! `fieldwork`, `reports`, `units`) → `db` (diesel, no HTTP) → `access` (caller, role, scope),
//! `text`, `error`; a module imports only those below it (ARCHITECTURE.md). `startup` wires
//! them; `config` is read once at start.

// The vocabulary (crates/toso-core) and the database layer (crates/toso-db), under the names
// the modules here use: `crate::access::Scope`, `crate::db::villages`.
pub use toso_core::{access, error, ids, input, month, phone, privacy, text, vocab};
pub use toso_db as db;
pub use toso_domain::{
    accounts, auth, config, fieldwork, imports, indicators, registry, reports, state, units, views,
};

pub mod http;
pub mod startup;
pub mod telemetry;
