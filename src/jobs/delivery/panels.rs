//! A board's panel at send time: its message edited, or posted when it has none (or
//! someone deleted it), and the message remembered for the next edits.

use super::row::Sent;
use super::{Deliver, Shared};
use crate::jobs::{Claim, SendError};
use crate::store;
use crate::store::outbox::OutboxEntry;

/// A board's panel: its message edited (or posted, and remembered for the next edits).
pub(super) async fn show<D: Deliver>(
    shared: &Shared<D>,
    channel: u64,
    panel: i64,
    entry: &OutboxEntry,
    message: &crate::domain::commands::Message,
    claim: &Claim,
) -> Result<Sent, SendError> {
    let existing = store::boards::message_of(&shared.pool, panel)
        .await
        .map_err(|e| SendError::Transient(format!("reading the board's message: {e}")))?;
    let shown = shared
        .deliver
        .show(channel, existing, message, &entry.nonce, claim)
        .await?;
    if existing != Some(shown) {
        // Not recorded, the next edit posts a new message and the old one stays behind:
        // worth an error in the log, not a second post of this one.
        if let Err(error) = store::boards::set_message(&shared.pool, panel, shown).await {
            tracing::error!(panel, "recording the board's message failed: {error:#}");
        }
    }
    Ok(Sent::Now(Some(shown)))
}
