//! Telling the organisers, once per channel and process, that confbot cannot post in a
//! channel its posts go to, and which command picks another.

use super::{Deliver, Shared};
use crate::domain::reminders::PostKind;
use crate::jobs::SendError;

/// Tells the organisers (once per channel and process) that a channel cannot be posted in,
/// naming the command that picks another for what `kind` posts there.
pub(super) async fn report<D: Deliver>(
    shared: &Shared<D>,
    conference_id: i64,
    channel: u64,
    kind: PostKind,
    error: &SendError,
) {
    let first = shared
        .reported
        .lock()
        .map(|mut reported| reported.insert(channel))
        .unwrap_or(false);
    if first {
        let (what, command) = match kind {
            PostKind::Board => ("The now / next board", "/setup board"),
            PostKind::ScheduleUpdate => ("Schedule updates", "/setup updates"),
            PostKind::Announcement => ("Announcements", "/announcements"),
            PostKind::Thread | PostKind::ThreadClose => ("Talk threads", "/setup threads"),
            PostKind::Question => ("Questions", "/setup threads"),
            PostKind::Event => ("Discord Events", "/setup events"),
            PostKind::Reminder | PostKind::Moved | PostKind::Cancelled => ("Reminders", "/channel"),
        };
        let text = format!(
            "⚠️ {what} cannot be posted in <#{channel}> ({error}). Give confbot access or pick \
             another channel with `{command}`."
        );
        crate::jobs::post_to_organisers(
            &shared.pool,
            shared.deliver.as_ref(),
            conference_id,
            &text,
        )
        .await;
    }
}
