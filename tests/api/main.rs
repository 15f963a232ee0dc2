//! HTTP-level tests: each test starts the real app on a free port against its own PostgreSQL
//! database, cloned from a migrated template that already holds the official units.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is the test's verdict

mod accounts;
mod activation;
mod attacks;
mod auth;
mod console;
mod errors;
mod faults;
mod fieldwork;
mod fixtures;
mod health;
mod helpers;
mod imports;
mod indicators;
mod input;
mod journey;
mod migrations;
mod openapi;
mod partitions;
mod registry;
mod replica;
mod report_cache;
mod report_figures;
mod reports;
mod scaleout;
mod scope;
mod security;
mod trainings;
mod units;
mod users;
