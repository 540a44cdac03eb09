//! confbot: a Discord bot for conference communities.
//!
//! Data flows one way: source file -> [`domain::import`] -> [`domain::model`] -> [`store`] ->
//! commands and reminders -> Discord. See the README's architecture map.

pub mod domain;
pub mod store;
pub mod cli;
pub mod config;
pub mod embedded_db;
pub mod fetch;
