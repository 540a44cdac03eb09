//! The domain core: the schedule model, time zones, importers, the import diff and exports.
//! Pure code: no tokio, sqlx, serenity or HTTP, and no clock (`now` is always a parameter).

pub mod announcements;
pub mod board;
pub mod commands;
pub(crate) mod compact;
pub mod diff;
pub mod events;
pub mod export;
pub mod feeds;
pub mod guild_settings;
pub mod html;
pub mod import;
pub mod model;
pub mod organisers;
pub mod privacy;
pub mod programme;
pub mod questions;
pub mod reminders;
pub mod screens;
pub mod search;
pub mod source_url;
pub mod sync;
pub mod text;
pub mod threads;
pub mod time;
pub mod updates;
