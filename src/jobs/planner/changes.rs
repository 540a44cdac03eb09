//! What a notification of an import or announcement change, and every minute sweep, plans:
//! the talks new imports changed, their change notices and public schedule updates, the
//! live boards, and the announcements' moving window of occurrences.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::diff::ImportDiff;
use crate::domain::model::TalkId;
use crate::domain::programme::Programme;
use crate::domain::reminders::{change_notices, ChannelPlan, PlannedPost, PostKind};
use crate::domain::updates::schedule_updates;
use crate::domain::{board, events};
use crate::store::conferences::ConferenceRow;
use crate::store::{self, outbox, subscriptions, StoreError};

use super::{scoped, PlanSettings, Replanned};

/// The store side of the changes of a replan, in the caller's transaction: the talks new
/// imports changed, their change notices and schedule updates (queued and marked planned),
/// the boards, the talk threads, and the announcements' occurrences from an hour back to
/// two days ahead.
pub(super) async fn apply_changes(
    settings: &PlanSettings,
    conn: &mut PgConnection,
    row: &ConferenceRow,
    programme: &Programme,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let mut done = Replanned::default();
    let imports = store::imports::unplanned_notices(&mut *conn, row.id).await?;
    if !imports.is_empty() {
        let touched: BTreeSet<TalkId> = imports
            .iter()
            .flat_map(|(_, diff)| {
                diff.added
                    .iter()
                    .chain(&diff.changed)
                    .chain(&diff.cancelled)
            })
            .filter_map(|entry| entry.talk_id.map(TalkId))
            .collect();
        let subscriptions = subscriptions::of_conference(&mut *conn, row.id).await?;
        if !touched.is_empty() {
            let channels = channels(settings, &mut *conn, row).await?;
            let lead = scoped::default_lead(conn, row.id, settings.default_lead).await?;
            let leads = subscriptions::leads(&mut *conn, row.id).await?;
            done.add(
                scoped::apply_talks(
                    conn,
                    row.id,
                    programme,
                    scoped::Inputs {
                        subscriptions: &subscriptions,
                        leads: &leads,
                        default_lead: lead,
                        channels: &channels,
                    },
                    &touched,
                    now,
                )
                .await?,
            );
        }
        let notices: Vec<PlannedPost> = imports
            .iter()
            .flat_map(|(_, diff)| change_notices(diff, programme, &subscriptions, now))
            .collect();
        let queued = outbox::enqueue(&mut *conn, row.id, &notices, now).await?;
        done.notices = queued.added;
        done.added += queued.added;
        done.replanned += queued.replanned;
        let channels = store::guilds::updates_channels(&mut *conn, row.id).await?;
        let diffs: Vec<(i64, &ImportDiff)> = imports.iter().map(|(id, diff)| (*id, diff)).collect();
        let updates = schedule_updates(&diffs, &channels, now);
        let queued = outbox::enqueue(&mut *conn, row.id, &updates, now).await?;
        done.updates = queued.added;
        done.added += queued.added;
        done.replanned += queued.replanned;
        let ids: Vec<i64> = imports.iter().map(|(id, _)| *id).collect();
        store::imports::mark_notices_planned(&mut *conn, &ids, now).await?;
    }
    done.add(plan_boards(conn, row, programme, now).await?);
    done.add(plan_threads(settings, conn, row, programme, now).await?);
    done.add(plan_events(conn, row, programme, now).await?);
    let announcements = store::announcements::scheduled(&mut *conn, row.id).await?;
    let posts: Vec<PlannedPost> = announcements.iter().flat_map(|a| a.posts(now)).collect();
    let keys: Vec<_> = posts.iter().map(|post| post.key).collect();
    let queued = outbox::enqueue(&mut *conn, row.id, &posts, now).await?;
    done.added += queued.added;
    done.replanned += queued.replanned;
    let kind = PostKind::Announcement;
    done.retired += outbox::retire_unplanned_of_kind(&mut *conn, row.id, kind, &keys, now).await?;
    Ok(done)
}

/// The live boards' panels and their posts from the current period to the horizon; the
/// pending posts the plan no longer holds are retired.
async fn plan_boards(
    conn: &mut PgConnection,
    row: &ConferenceRow,
    programme: &Programme,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let boards = store::boards::boards_of(&mut *conn, row.id).await?;
    let specs = board::panels(programme, &boards);
    let panels = store::boards::sync_panels(&mut *conn, row.id, &specs).await?;
    let posts = board::board_posts(programme, &panels, now);
    queue_whole(conn, row.id, &posts, PostKind::Board, now).await
}

/// The talk threads of the reminders due from an hour back to the horizon. Pending opens
/// the plan no longer holds are retired (threads turned off, a talk moved far away); an
/// archive is never retired, so an opened thread is always archived (delivery drops an
/// archive whose thread never opened).
async fn plan_threads(
    settings: &PlanSettings,
    conn: &mut PgConnection,
    row: &ConferenceRow,
    programme: &Programme,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let posts = match store::guilds::threads_of(&mut *conn, row.id).await? {
        Some((guild, threads)) => {
            let channels = channels(settings, &mut *conn, row).await?;
            crate::domain::threads::thread_posts(programme, &channels, guild, &threads, now)
        }
        None => Vec::new(),
    };
    queue_whole(conn, row.id, &posts, PostKind::Thread, now).await
}

/// The Discord Events of every server with events on, and the cancellation of the live
/// events of servers that turned them off or follow another conference now.
async fn plan_events(
    conn: &mut PgConnection,
    row: &ConferenceRow,
    programme: &Programme,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let selections = store::events::selections(&mut *conn, row.id).await?;
    let recorded = store::events::recorded(&mut *conn, row.id).await?;
    let mut guilds: BTreeSet<u64> = selections.iter().map(|(guild, _)| *guild).collect();
    guilds.extend(recorded.iter().map(|(guild, _)| *guild));
    let mut posts = Vec::new();
    for guild in guilds {
        let stored: Vec<_> = recorded
            .iter()
            .filter(|(of, _)| *of == guild)
            .map(|(_, event)| event.clone())
            .collect();
        let selection = selections
            .iter()
            .find(|(of, _)| *of == guild)
            .map(|(_, selection)| selection);
        posts.extend(events::event_posts(
            programme, guild, selection, &stored, now,
        ));
    }
    queue_whole(conn, row.id, &posts, PostKind::Event, now).await
}

/// Queues `posts`, all of `kind`, and retires the conference's pending posts of that kind
/// they do not hold: for the kinds planned whole on every pass (boards, thread openings).
async fn queue_whole(
    conn: &mut PgConnection,
    conference_id: i64,
    posts: &[PlannedPost],
    kind: PostKind,
    now: DateTime<Utc>,
) -> Result<Replanned, StoreError> {
    let keys: Vec<_> = posts.iter().map(|post| post.key).collect();
    let queued = outbox::enqueue(&mut *conn, conference_id, posts, now).await?;
    let retired = outbox::retire_unplanned_of_kind(conn, conference_id, kind, &keys, now).await?;
    Ok(Replanned {
        added: queued.added,
        replanned: queued.replanned,
        retired,
        ..Replanned::default()
    })
}

/// The conference's channel plan: stored by `/channel`, else configured.
pub(super) async fn channels(
    settings: &PlanSettings,
    conn: &mut PgConnection,
    row: &ConferenceRow,
) -> Result<ChannelPlan, StoreError> {
    Ok(
        match subscriptions::channel_plan(&mut *conn, row.id).await? {
            Some(stored) => stored,
            None => settings.configured_channels(&row.conference.slug),
        },
    )
}
