//! A board's panel at send time: its message edited, or posted when it has none (or
//! someone deleted it), and the message remembered for the next edits.

use super::row::Sent;
use super::{Deliver, Shared};
use crate::domain::board::Shown;
use crate::jobs::{Claim, SendError};
use crate::store;
use crate::store::outbox::OutboxEntry;

/// A board's panel: its message edited (or posted, and remembered for the next edits).
/// The panel's row stays locked from reading its message to recording it, so two edits of
/// one panel (two workers, a retry overlapping the next boundary) never run together: they
/// could leave the older text up, or post two messages for a panel that had none.
pub(super) async fn show<D: Deliver>(
    shared: &Shared<D>,
    channel: u64,
    panel: i64,
    entry: &OutboxEntry,
    message: &crate::domain::commands::Message,
    claim: &Claim,
) -> Result<Sent, SendError> {
    let unreadable = |error: store::StoreError| {
        // Organisers see the row's last error: the database's own words stay in the log.
        tracing::error!(panel, "reading the board's message failed: {error:#}");
        SendError::Transient("the board could not be read".to_owned())
    };
    let mut tx = shared
        .pool
        .begin()
        .await
        .map_err(|e| unreadable(e.into()))?;
    let locked = match store::boards::lock_panel(&mut tx, panel)
        .await
        .map_err(unreadable)?
    {
        Some(locked) => locked,
        // Removed (the board was turned off or moved, the room has no talk left).
        None => return Err(SendError::Stale("the board's panel is gone".to_owned())),
    };
    if let (Some(existing), Some(shown)) = (locked.message, &locked.shown_content) {
        if *shown == message.content {
            // Already shown: at a boundary the plan can name the period's text a second time
            // while its first post is on its way (the text it compares with is still the
            // last period's). An edit would change nothing, and after a moderator deleted the
            // message it would bring back the text already shown, before the next change.
            return Ok(Sent::Now(Some(existing)));
        }
    }
    let shown = shared
        .deliver
        .show(channel, locked.message, message, &entry.nonce, claim)
        .await?;
    let now_shown = Shown {
        version: entry.post.key.schedule_version,
        content: message.content.clone(),
    };
    store::boards::set_shown(&mut *tx, panel, shown, &now_shown)
        .await
        .map_err(|error| {
            // Not recorded, the next edit would post yet another message: an error in the
            // log, and this one tried again (its nonce finds the same message).
            tracing::error!(panel, "recording the board's message failed: {error:#}");
            SendError::Transient("the board's message could not be recorded".to_owned())
        })?;
    tx.commit().await.map_err(|e| unreadable(e.into()))?;
    Ok(Sent::Now(Some(shown)))
}
