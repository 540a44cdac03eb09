//! A talk's Discord Event at send time: created, edited, cancelled or ended as
//! `domain::events::action` decides from what is recorded, and the outcome recorded.
//!
//! Three steps, so that no database row or pooled connection is held while Discord is
//! asked (and while the pacer waits): the talk's event row is locked to decide and to mark
//! the request under way (`in_flight_until`, at most a lease: a crashed worker's mark
//! expires), then the request is made, then its outcome is recorded under the lock again.
//! Another row of the same talk that comes meanwhile waits for the mark; a row planned
//! from an older revision is dropped. Discord keeps no nonce for events, so a create is
//! marked as tried before it leaves (`create_tried_at`, cleared only by an answer): the next
//! create for the talk, by this row or a later one, looks for the event first.

use std::time::Duration;

use super::row::Sent;
use super::{Deliver, Shared};
use crate::domain::events::{self, EventAction, EventSpec};
use crate::domain::model::TalkId;
use crate::domain::reminders::Target;
use crate::jobs::{Claim, SendError};
use crate::store;
use crate::store::outbox::OutboxEntry;

/// How long a new event waits when the server has as many events as Discord allows
/// (events people made count too): one ends meanwhile, or an organiser removes some.
const FULL_WAIT: Duration = Duration::from_secs(300);

/// How long an event waits when confbot lacks Manage Events: it is made once the organisers
/// grant it (`/status` tells them), at the cost of one refused request per event this often.
const PERMISSION_WAIT: Duration = Duration::from_secs(600);

/// How long a row waits while another request for the same event is under way.
const BUSY_WAIT: Duration = Duration::from_secs(1);

/// Brings the talk's event in the post's server to `spec` (`None`: cancelled), if the event
/// is still at the `revision` the post was planned from.
pub(super) async fn apply<D: Deliver>(
    shared: &Shared<D>,
    entry: &OutboxEntry,
    spec: Option<&EventSpec>,
    revision: i32,
    claim: &Claim,
) -> Result<Sent, SendError> {
    let key = entry.post.key;
    let (Target::Guild(guild), Some(talk)) = (key.target, key.subject.talk()) else {
        return Err(SendError::Rejected(
            "an event post names no server's talk".to_owned(),
        ));
    };
    let mut event = Event {
        guild,
        talk,
        recorded_start: None,
    };
    let (action, look_first, recorded_start) = event.begin(shared, entry, spec, revision).await?;
    event.recorded_start = recorded_start;
    let action = match (&action, look_first) {
        (EventAction::Create(spec), true) => {
            match shared.deliver.find_event(guild, spec, claim).await {
                Ok(Some(found)) => EventAction::Edit {
                    event: found,
                    spec: spec.clone(),
                    started: false,
                },
                Ok(None) => action,
                Err(error) => {
                    event.end(shared, false).await?;
                    return Err(error);
                }
            }
        }
        _ => action,
    };
    let result = shared.deliver.event(guild, &action, claim).await;
    event.finish(shared, &action, result).await
}

/// The talk's event in a server, as the row's requests touch it.
struct Event {
    guild: u64,
    talk: TalkId,
    /// The start recorded when the request began (kept by an edit of a started event).
    recorded_start: Option<chrono::DateTime<chrono::Utc>>,
}

impl Event {
    /// Decides the request under the row's lock and marks it under way; whether a create
    /// must look for an earlier attempt's event first, and the start recorded.
    async fn begin<D: Deliver>(
        &self,
        shared: &Shared<D>,
        entry: &OutboxEntry,
        spec: Option<&EventSpec>,
        revision: i32,
    ) -> Result<(EventAction, bool, Option<chrono::DateTime<chrono::Utc>>), SendError> {
        let failed = |error| self.failed(error);
        let mut tx = shared.pool.begin().await.map_err(|e| failed(e.into()))?;
        let locked = store::events::lock(&mut tx, entry.conference_id, self.guild, self.talk)
            .await
            .map_err(failed)?;
        let now = shared.clock.now();
        if locked.in_flight_until.is_some_and(|until| until > now) {
            return Err(SendError::NotYet {
                reason: "another request for this event is under way".to_owned(),
                wait: BUSY_WAIT,
            });
        }
        let action = events::action(spec, revision, Some(&locked.stored), now)
            .map_err(|why| SendError::Stale(why.to_owned()))?;
        let creating = matches!(action, EventAction::Create(_));
        let look_first =
            creating && (locked.create_tried_at.is_some() || entry.maybe_sent_since.is_some());
        let until = now + shared.clock.stretch(shared.options.lease);
        store::events::begin_request(
            &mut *tx,
            self.guild,
            self.talk,
            until,
            creating.then_some(now),
        )
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(|e| failed(e.into()))?;
        Ok((action, look_first, locked.stored.start))
    }

    /// Records Discord's answer to `action`.
    async fn finish<D: Deliver>(
        &self,
        shared: &Shared<D>,
        action: &EventAction,
        result: Result<u64, SendError>,
    ) -> Result<Sent, SendError> {
        let (guild, talk) = (self.guild, self.talk);
        let pool = &shared.pool;
        let recorded = match (action, &result) {
            (EventAction::Create(spec), Ok(event)) => {
                store::events::set_shown(pool, guild, talk, *event, spec, spec.start).await
            }
            (EventAction::Edit { spec, started, .. }, Ok(event)) => {
                // An edit that kept Discord's start: the recorded start stays.
                let start = match self.recorded_start {
                    Some(start) if *started => start,
                    _ => spec.start,
                };
                store::events::set_shown(pool, guild, talk, *event, spec, start).await
            }
            (
                EventAction::Cancel { .. } | EventAction::End { .. },
                Ok(_) | Err(SendError::EventGone),
            )
            | (EventAction::Edit { .. }, Err(SendError::EventGone)) => {
                // Cancelled, ended, or deleted in Discord by someone: the next plan makes a
                // deleted one again.
                store::events::set_cancelled(pool, guild, talk).await
            }
            // Discord answered without acting: a refused create made nothing.
            (
                _,
                Err(
                    SendError::EventsFull
                    | SendError::MissingPermission(_)
                    | SendError::Rejected(_),
                ),
            ) => store::events::end_request(pool, guild, talk, true).await,
            // No answer: a create may have made the event.
            (_, Err(_)) => store::events::end_request(pool, guild, talk, false).await,
        };
        if let Err(error) = recorded {
            let error = self.failed(error);
            // Made in Discord but not recorded: the mark makes the next create look first.
            return Err(match action {
                EventAction::Create(_) => SendError::Unknown(error.to_string()),
                _ => error,
            });
        }
        match result {
            Ok(_) => Ok(Sent::Now(None)),
            Err(SendError::EventGone) if matches!(action, EventAction::Edit { .. }) => {
                Err(SendError::Stale(
                    "the event was deleted in Discord: the next plan makes it again".to_owned(),
                ))
            }
            Err(SendError::EventGone) => Ok(Sent::Now(None)),
            Err(SendError::EventsFull) => {
                tracing::warn!(
                    guild,
                    "the server has 100 scheduled events: the talk's waits"
                );
                Err(SendError::NotYet {
                    reason: SendError::EventsFull.to_string(),
                    wait: FULL_WAIT,
                })
            }
            Err(SendError::MissingPermission(error)) => {
                tracing::warn!(
                    guild,
                    "confbot lacks Manage Events: the talk's event waits ({error})"
                );
                Err(SendError::NotYet {
                    reason: format!("confbot lacks the Manage Events permission: {error}"),
                    wait: PERMISSION_WAIT,
                })
            }
            Err(error) => Err(error),
        }
    }

    /// Clears the request's mark after a failure before any request left.
    async fn end<D: Deliver>(
        &self,
        shared: &Shared<D>,
        made_nothing: bool,
    ) -> Result<(), SendError> {
        store::events::end_request(&shared.pool, self.guild, self.talk, made_nothing)
            .await
            .map_err(|error| self.failed(error))
    }

    fn failed(&self, error: store::StoreError) -> SendError {
        // Organisers see the row's last error: the database's own words stay in the log.
        tracing::error!(
            guild = self.guild,
            talk = self.talk.0,
            "the talk's event could not be read or recorded: {error:#}"
        );
        SendError::Transient("the event could not be read or recorded".to_owned())
    }
}
