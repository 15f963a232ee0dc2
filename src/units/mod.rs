//! The official list of administrative units and its import.

pub mod import;
