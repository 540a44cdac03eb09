//! The demo's [`Deliver`]: every post printed as it would appear, where, at the demo
//! clock's time, with board edits, talk threads and their archiving.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use super::{BOARD, CHANNELS};
use crate::cli::output;
use crate::console::render_text;
use crate::domain::commands::Message;
use crate::jobs::{Claim, Clock, Deliver, Recipient, SendError};

/// Delivers by printing: what confbot would post, where, at the demo clock's time.
pub(super) struct Printer {
    pub(super) zone: Tz,
    pub(super) clock: Clock,
    /// Made-up ids of the printed messages (talk threads start on reminders' messages).
    pub(super) next_id: std::sync::atomic::AtomicU64,
    /// Threads printed as opened: their id and name.
    pub(super) threads: std::sync::Mutex<BTreeMap<u64, String>>,
}

impl Printer {
    /// A channel's name, or `🧵 <name>` for a thread the demo opened.
    fn place(&self, channel: u64) -> String {
        match crate::lock::lock(&self.threads).get(&channel) {
            Some(name) => format!("🧵 {name}"),
            None => channel_name(channel),
        }
    }

    fn line(&self, place: &str, text: &str) {
        let now = self.clock.now();
        let text = render_text(text, self.zone, now);
        let line = format!(
            "[{}] {place}: {}\n",
            now.with_timezone(&self.zone).format("%H:%M:%S"),
            text.replace('\n', " ")
        );
        // A closed terminal is not a failed delivery: the demo ends when its input does.
        let _ = output::emit(&line);
    }
}

impl Deliver for Printer {
    /// Printed lines cannot be read back, and nothing else shares the demo's throwaway
    /// database: no earlier attempt can have printed a post unrecorded.
    async fn find_sent(
        &self,
        _to: Recipient,
        _contents: &[String],
        _after: chrono::DateTime<chrono::Utc>,
        _claim: &Claim,
    ) -> Result<bool, SendError> {
        Ok(false)
    }

    /// The demo's DMs are printed: any channel id does.
    async fn open_dm(&self, user: u64, _claim: &Claim) -> Result<u64, SendError> {
        Ok(user)
    }

    async fn open_thread(
        &self,
        channel: u64,
        message: u64,
        name: &str,
        card: &Message,
        _nonce: &str,
        claim: &Claim,
    ) -> Result<(), SendError> {
        if !claim.may_leave() {
            return Err(SendError::ClaimLost);
        }
        crate::lock::lock(&self.threads).insert(message, name.to_owned());
        let place = format!("{} › 🧵 {name}", channel_name(channel));
        self.line(&place, &card.content);
        Ok(())
    }

    /// A question's card leaving its thread (hidden or forgotten).
    async fn remove(&self, channel: u64, _message: u64, claim: &Claim) -> Result<(), SendError> {
        if !claim.may_leave() {
            return Err(SendError::ClaimLost);
        }
        self.line(&self.place(channel), "(a question's card removed)");
        Ok(())
    }

    async fn close_thread(&self, thread: u64, lock: bool, claim: &Claim) -> Result<(), SendError> {
        if !claim.may_leave() {
            return Err(SendError::ClaimLost);
        }
        let name = crate::lock::lock(&self.threads)
            .get(&thread)
            .cloned()
            .unwrap_or_default();
        let what = if lock {
            "archived and locked"
        } else {
            "archived"
        };
        self.line(&format!("🧵 {name}"), &format!("(thread {what})"));
        Ok(())
    }

    /// A board's message or a question's card, printed as posted the first time and as
    /// edited after.
    async fn show(
        &self,
        channel: u64,
        existing: Option<u64>,
        message: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> Result<u64, SendError> {
        let mut shown = message.clone();
        if existing.is_some() {
            shown.content = format!("(edited) {}", shown.content);
        }
        self.deliver(Recipient::Channel(channel), &shown, nonce, claim)
            .await?;
        Ok(existing.unwrap_or(channel))
    }

    async fn deliver(
        &self,
        to: Recipient,
        message: &Message,
        _nonce: &str,
        claim: &Claim,
    ) -> Result<Option<u64>, SendError> {
        if !claim.may_leave() {
            return Err(SendError::ClaimLost);
        }
        let place = match to {
            Recipient::Channel(id) => self.place(id),
            Recipient::Dm { .. } => "DM to you".to_owned(),
        };
        let buttons: String = message
            .buttons
            .iter()
            .map(|b| format!(" [{}]", b.label))
            .collect();
        self.line(&place, &format!("{}{buttons}", message.content));
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Some(id))
    }
}

/// `#barn`, `#now-next`, or `#<id>` for a channel the demo did not name.
fn channel_name(id: u64) -> String {
    if id == BOARD.0 {
        return format!("#{}", BOARD.1);
    }
    CHANNELS
        .iter()
        .find(|(_, channel, _)| *channel == id)
        .map_or_else(|| format!("#{id}"), |(_, _, name)| format!("#{name}"))
}
