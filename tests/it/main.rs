//! The integration tests: one test binary (fast to link), one module per area.
//! Every test that needs a database takes a fresh one from `harness::TestDb`.

mod fixtures;
mod harness;
mod process;
mod served;

mod cli;
mod cli_limits;
mod cli_sources;
mod console;
mod demo;
mod discord;
mod embedded_db;
mod gateway_store;
mod guilds_store;
mod import;
mod import_people;
mod import_real_world;
mod import_record;
mod import_settled;
mod import_settled_listing;
mod integrity;
mod integrity_locks;
mod mass_change;
mod ops;
mod privacy;
mod real_world;
pub mod reminders;
mod reminders_store;
mod sync;
mod web;
