//! confbot: a Discord bot for conference communities.
//!
//! Data flows one way: source file -> [`domain::import`] -> [`domain::model`] -> [`store`] ->
//! commands and reminders -> Discord. See the README's architecture map.

pub mod cli;
pub mod config;
pub mod console;
pub mod discord;
pub mod domain;
pub mod embedded_db;
pub mod errors;
pub mod fetch;
pub mod importer;
pub mod jobs;
mod lock;
pub mod metrics;
pub mod ops;
pub mod questions;
pub mod store;
pub mod sync;
pub mod web;

#[cfg(test)]
mod test_support;
