//! A talk's Discord Event at send time: created, edited, cancelled or ended as
//! `domain::events::action` decides from what is recorded, and the outcome recorded.

use super::row::Sent;
use super::{Deliver, Shared};
use crate::domain::events::{self, EventAction, EventSpec};
use crate::domain::reminders::Target;
use crate::jobs::{Claim, SendError};
use crate::store;
use crate::store::outbox::OutboxEntry;

/// How long an event waits when confbot lacks Manage Events: it is made once the organisers
/// grant it (`/status` tells them), at the cost of one refused request per event this often.
const PERMISSION_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// How long a new event waits when the server has as many events as Discord allows
/// (events people made count too): one ends meanwhile, or an organiser removes some.
const FULL_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Brings the talk's event in the post's server to `spec` (`None`: cancelled). The talk's
/// event row stays locked from reading it to recording the outcome, so two workers never
/// make two events for one talk, nor apply two changes out of order.
pub(super) async fn apply<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    spec: Option<&EventSpec>,
    claim: &Claim,
) -> Result<Sent, SendError> {
    let key = entry.post.key;
    let (Target::Guild(guild), Some(talk)) = (key.target, key.subject.talk()) else {
        return Err(SendError::Rejected(
            "an event post names no server's talk".to_owned(),
        ));
    };
    let failed = |error: store::StoreError| {
        // Organisers see the row's last error: the database's own words stay in the log.
        tracing::error!(
            guild,
            talk = talk.0,
            "the talk's event could not be read or recorded: {error:#}"
        );
        SendError::Transient("the event could not be read or recorded".to_owned())
    };
    let mut tx = shared.pool.begin().await.map_err(|e| failed(e.into()))?;
    let stored = store::events::lock(&mut tx, entry.conference_id, guild, talk)
        .await
        .map_err(failed)?;
    let now = shared.clock.now();
    let mut action =
        events::action(spec, Some(&stored), now).map_err(|why| SendError::Stale(why.to_owned()))?;
    if let (EventAction::Create(spec), Some(_)) = (&action, entry.maybe_sent_since) {
        // An earlier attempt may have made it: Discord keeps no nonce for events.
        if let Some(event) = shared.deliver.find_event(guild, spec, claim).await? {
            action = EventAction::Edit {
                event,
                spec: spec.clone(),
                started: false,
            };
        }
    }
    let result = shared.deliver.event(guild, &action, claim).await;
    let (recorded, outcome) = match (&action, result) {
        (EventAction::Create(spec) | EventAction::Edit { spec, .. }, Ok(event)) => (
            store::events::set_shown(&mut *tx, guild, talk, event, spec).await,
            Ok(Sent::Now(None)),
        ),
        (
            EventAction::Cancel { .. } | EventAction::End { .. },
            Ok(_) | Err(SendError::EventGone),
        ) => (
            store::events::set_cancelled(&mut *tx, guild, talk).await,
            Ok(Sent::Now(None)),
        ),
        (EventAction::Edit { .. }, Err(SendError::EventGone)) => {
            // Someone deleted it in Discord: the row comes back and makes it anew.
            (
                store::events::set_cancelled(&mut *tx, guild, talk).await,
                Err(SendError::NotYet {
                    reason: "the event was deleted in Discord: it is made again".to_owned(),
                    wait: std::time::Duration::ZERO,
                }),
            )
        }
        (_, Err(SendError::EventsFull)) => {
            tracing::warn!(
                guild,
                "the server has 100 scheduled events: the talk's waits"
            );
            return Err(SendError::NotYet {
                reason: SendError::EventsFull.to_string(),
                wait: FULL_WAIT,
            });
        }
        (_, Err(SendError::MissingPermission(error))) => {
            tracing::warn!(
                guild,
                "confbot lacks Manage Events: the talk's event waits ({error})"
            );
            return Err(SendError::NotYet {
                reason: format!("confbot lacks the Manage Events permission: {error}"),
                wait: PERMISSION_WAIT,
            });
        }
        (_, Err(error)) => return Err(error),
    };
    let kept = match recorded {
        Ok(()) => tx.commit().await.map_err(Into::into),
        Err(error) => Err(error),
    };
    if let Err(error) = kept {
        let error = failed(error);
        // Made in Discord but not recorded: the retry looks for it before making another.
        return Err(match action {
            EventAction::Create(_) => SendError::Unknown(error.to_string()),
            _ => error,
        });
    }
    outcome
}
