//! A question's card at send time: what the question shows now, posted, edited or removed
//! from its thread, and remembered. Rows are one per change, but each shows the question as
//! it is when sent: of a burst of votes, the rows after the first edit mostly find the card
//! showing their vote already and cost no request.

use super::row::Sent;
use super::{Deliver, Shared};
use crate::domain::questions::{card, Card};
use crate::domain::reminders::{Subject, Target};
use crate::jobs::{Claim, SendError};
use crate::store;
use crate::store::outbox::OutboxEntry;
use crate::store::questions::Locked;

/// How long a card's change waits when another worker is editing the card: about one edit.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Brings the card of the row's question up to date. The question's row stays locked from
/// reading it to recording the message, so two workers never edit one card at once (the
/// older text could win) or post it twice; a second worker puts its row back for a moment
/// instead of waiting; votes are rows of their own and do not wait.
pub(super) async fn show<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    claim: &Claim,
) -> Result<Sent, SendError> {
    let (Subject::Question(question), Target::Channel(thread)) =
        (entry.post.key.subject, entry.post.key.target)
    else {
        return Err(SendError::Rejected("not a question's card".to_owned()));
    };
    let unreadable = |error: store::StoreError| {
        // Organisers see the row's last error: the database's own words stay in the log.
        tracing::error!(
            question = question.0,
            "reading a question failed: {error:#}"
        );
        SendError::Transient("the question could not be read".to_owned())
    };
    let mut tx = shared
        .pool
        .begin()
        .await
        .map_err(|e| unreadable(e.into()))?;
    let state = match store::questions::lock_card(&mut tx, question)
        .await
        .map_err(unreadable)?
    {
        Locked::Card(state) => state,
        Locked::Gone => return Err(SendError::Stale("the question is gone".to_owned())),
        // The other worker's edit may predate this row's change: a later change still to
        // send shows it, else this row reads the question again after the edit.
        Locked::Busy => {
            // On this row's own connection: a burst's rows must not take two each.
            let covered = store::questions::later_change_queued(&mut *tx, question, entry.id)
                .await
                .map_err(unreadable)?;
            return Err(if covered {
                SendError::Stale("a later change of the card shows this one".to_owned())
            } else {
                SendError::NotYet {
                    reason: "another worker is updating the card".to_owned(),
                    wait: BUSY_WAIT,
                }
            });
        }
    };
    let shown = match card(&state.question) {
        Card::Show(message) => {
            if state.message.is_some() && state.shown.as_deref() == Some(message.content.as_str()) {
                return Err(SendError::Stale("the card shows this already".to_owned()));
            }
            let id = shared
                .deliver
                .show(thread, state.message, &message, &entry.nonce, claim)
                .await?;
            Some((id, message.content))
        }
        Card::Remove => {
            let Some(message) = state.message else {
                return Err(SendError::Stale("the card is not in the thread".to_owned()));
            };
            shared.deliver.remove(thread, message, claim).await?;
            None
        }
    };
    let (message, content) = match &shown {
        Some((id, content)) => (Some(*id), Some(content.as_str())),
        None => (None, None),
    };
    store::questions::set_card(&mut *tx, question, message, content)
        .await
        .map_err(|error| {
            // Not recorded, the next change would post the card again: an error in the
            // log, and this one tried again (its nonce finds the same message).
            tracing::error!(question = question.0, "recording a card failed: {error:#}");
            SendError::Transient("the card's message could not be recorded".to_owned())
        })?;
    tx.commit().await.map_err(|e| unreadable(e.into()))?;
    Ok(Sent::Now(message))
}
