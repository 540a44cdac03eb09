//! Direct messages at one request each: every subscriber's DM channel is opened ahead of
//! their reminders ([`open_ahead`], while nothing is due) and stored for every process, so
//! the send itself is the only request when a fan-out falls due. A user who does not
//! accept DMs (50007) is recorded and not tried again until they interact with the bot.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::super::deliver::{Recipient, SendError};
use super::super::lease::Claim;
use super::{Deliver, Shared};
use crate::domain::reminders::Target;
use crate::store::dm_channels::{self, DmChannel};

/// How far ahead DM channels are opened: every DM due within it has its channel when it
/// falls due, however many are due at once.
pub(super) const OPEN_AHEAD: chrono::Duration = chrono::Duration::hours(2);

/// Where a post to `target` goes. A user whose channel is not `known` yet has it opened
/// now (and stored); a user known to refuse DMs is not asked again.
pub(super) async fn recipient<D: Deliver>(
    shared: &Shared<D>,
    target: Target,
    known: &mut Option<DmChannel>,
    claim: &Claim,
) -> Result<Recipient, SendError> {
    let user = match target {
        Target::Channel(channel) => return Ok(Recipient::Channel(channel)),
        Target::Dm(user) => user,
        // Events are made by their own requests (`super::events`), never a message.
        Target::Guild(_) => {
            return Err(SendError::Rejected(
                "a server is no message recipient".to_owned(),
            ))
        }
    };
    match *known {
        Some(DmChannel::Open(channel)) => Ok(Recipient::Dm { user, channel }),
        Some(DmChannel::Closed) => Err(SendError::ClosedDm),
        None => {
            let channel = open(shared, user, claim).await?;
            *known = Some(DmChannel::Open(channel));
            Ok(Recipient::Dm { user, channel })
        }
    }
}

/// Opens `user`'s DM channel and stores it. Opening creates no message, so a request
/// without an answer is only a temporary failure; a refusal is recorded like closed DMs.
async fn open<D: Deliver>(shared: &Shared<D>, user: u64, claim: &Claim) -> Result<u64, SendError> {
    let now = shared.clock.now();
    match shared.deliver.open_dm(user, claim).await {
        Ok(channel) => {
            if let Err(error) = dm_channels::remember(&shared.pool, user, channel, now).await {
                // Opened again next time: a request more, nothing lost.
                tracing::warn!(user, "storing a DM channel failed: {error}");
            }
            shared.outcomes.opened_dm_channel();
            Ok(channel)
        }
        Err(SendError::Rejected(reason)) => {
            tracing::info!(user, "Discord would not open a DM channel: {reason}");
            if let Err(error) = dm_channels::mark_closed(&shared.pool, user, None, now).await {
                tracing::warn!(user, "recording a refused DM channel failed: {error}");
            }
            Err(SendError::Rejected(reason))
        }
        Err(SendError::Unknown(reason)) => Err(SendError::Transient(reason)),
        Err(error) => Err(error),
    }
}

/// What a failed DM tells about the user's channel: closed DMs are recorded (no DM is
/// tried until they interact again), and a refused message forgets the stored channel so
/// the next DM opens it afresh.
pub(super) async fn learn<D: Deliver>(shared: &Shared<D>, to: Recipient, error: &SendError) {
    let Recipient::Dm { user, channel } = to else {
        return;
    };
    let stored = match error {
        SendError::ClosedDm => {
            dm_channels::mark_closed(&shared.pool, user, Some(channel), shared.clock.now()).await
        }
        SendError::Rejected(_) => dm_channels::forget(&shared.pool, user).await,
        _ => return,
    };
    if let Err(error) = stored {
        tracing::warn!(user, "recording what a DM failure says failed: {error}");
    }
}

/// How long opening a DM channel ahead may wait for the pacer: opens take free slots only,
/// never a queue of them that due posts would wait behind.
const OPEN_WAIT: Duration = Duration::from_millis(500);

/// How long a process holds the users whose channels it opens ahead, so that no other
/// process opens them too: the pacer's wait and a request's timeout, with room to spare.
/// A hold outlives its process only if that process dies mid-open.
const OPEN_HOLD: Duration = Duration::from_secs(30);

/// Opens the DM channels of a few users with DMs due within
/// [`OPEN_AHEAD`] and no channel yet: two batches, as many as the pacer has slots for
/// within [`OPEN_WAIT`] (a wave waits for its answers, so it must be large enough to keep
/// the rate under Discord's latency). Returns how many users were settled (opened, or
/// refused by Discord); 0 when none was due or none could be opened now (the pacer had no
/// slot soon, or the opens failed): the loop then sleeps, and a later idle turn goes on.
pub(super) async fn open_ahead<D: Deliver>(shared: &Arc<Shared<D>>) -> usize {
    let now = shared.clock.now();
    let hold_until = now + shared.clock.stretch(OPEN_HOLD);
    let few = shared.options.batch.saturating_mul(2);
    let taken = dm_channels::take_to_open(&shared.pool, now + OPEN_AHEAD, now, hold_until, few);
    let users = match taken.await {
        Ok(users) => users,
        Err(error) => {
            tracing::warn!("finding DM channels to open failed: {error}");
            return 0;
        }
    };
    let mut opens = JoinSet::new();
    for user in users {
        let shared = Arc::clone(shared);
        let claim = Claim::unclaimed_within(OPEN_WAIT);
        opens.spawn(async move {
            let opened = open(&shared, user, &claim).await;
            // Settled ends the hold as it is stored; otherwise any process may try again.
            if !matches!(opened, Ok(_) | Err(SendError::Rejected(_))) {
                if let Err(error) = dm_channels::let_go(&shared.pool, user, hold_until).await {
                    tracing::warn!(user, "letting go of a DM channel to open failed: {error}");
                }
            }
            opened
        });
    }
    let mut settled = 0;
    while let Some(done) = opens.join_next().await {
        match done {
            Ok(Ok(_) | Err(SendError::Rejected(_))) => settled += 1,
            // The pacer is busy: this one waits for a quieter moment.
            Ok(Err(SendError::RateLimited { .. })) | Err(_) => {}
            Ok(Err(error)) => tracing::warn!("opening a DM channel ahead failed: {error}"),
        }
    }
    settled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_ahead_is_settled_well_inside_its_hold() {
        // A hold that ran out mid-request would let another process open the same channel.
        // An open ahead waits for its route's bucket and then for the pacer (up to
        // `OPEN_WAIT` each), and its request ends within the sender's timeout.
        let longest = 2 * OPEN_WAIT + crate::discord::sender::REQUEST_TIMEOUT;
        assert!(OPEN_HOLD > 2 * longest);
    }
}
