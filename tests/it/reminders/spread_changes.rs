//! A talk moved or cancelled while its fan-out is going out early: every DM not yet on its
//! way follows the change. The fan-out is 100 DMs from a bot paced at 20 requests a second
//! (counted at 18: it starts about 6 s ahead of the due instant); the change comes once 15
//! have gone. Only the DMs already claimed (the quarter second of sends the delivery loop
//! queues ahead, a batch, and those awaiting an answer) may still go as they were: every
//! row the change retired stays unsent.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use confbot::domain::reminders::{PostKind, Target};
use confbot::jobs::Clock;
use confbot::store::outbox::{OutboxEntry, OutboxStatus};

use super::{
    assert_each_sent_row_created_once, fan_out, ics, outbox_of, Paced, Scheduler, Talk, BARN, SLUG,
};
use crate::harness::TestDb;

const SUBSCRIBERS: u64 = 100;
/// The bot's rate: slow enough that the fan-out lasts seconds.
const RATE: u32 = 20;

/// The fan-out under way, with 15 of its DMs sent: the conference and the scheduler.
async fn fan_out_under_way(db: &TestDb, standin: &super::StandIn) -> (i64, Scheduler) {
    let due: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
    let conference = fan_out(&db.pool, due, SUBSCRIBERS).await;
    let paced = Paced {
        timeout: confbot::discord::sender::REQUEST_TIMEOUT,
        rate: RATE,
    };
    let clock = Clock::starting_at(due - Duration::seconds(13), 1);
    let scheduler = Scheduler::start_paced(&db.url, standin, clock, "w1", paced, |_| {}).await;
    scheduler
        .wait_for("the fan-out under way", |c| c.sent >= 15)
        .await;
    (conference, scheduler)
}

fn start() -> DateTime<Utc> {
    "2026-06-01T09:10:00Z".parse().unwrap()
}

/// The talk's schedule versions that have DM reminders in `rows`, oldest first.
fn versions(rows: &[OutboxEntry]) -> Vec<i32> {
    let versions: BTreeSet<i32> = rows
        .iter()
        .filter(|r| r.post.key.kind == PostKind::Reminder)
        .filter(|r| matches!(r.post.key.target, Target::Dm(_)))
        .map(|r| r.post.key.schedule_version)
        .collect();
    versions.into_iter().collect()
}

/// The DM reminders of `rows` planned from schedule version `version`, by user.
fn dm_reminders(rows: &[OutboxEntry], version: i32) -> BTreeMap<u64, &OutboxEntry> {
    rows.iter()
        .filter(|r| r.post.key.kind == PostKind::Reminder && r.post.key.schedule_version == version)
        .filter_map(|r| match r.post.key.target {
            Target::Dm(user) => Some((user, r)),
            _ => None,
        })
        .collect()
}

/// The users sent a DM that `is` describes; none may have had two.
fn users_with_one(
    posted: &[crate::discord::messages::Posted],
    is: impl Fn(&str) -> bool,
) -> BTreeSet<u64> {
    let mut per_user: BTreeMap<u64, usize> = BTreeMap::new();
    for (user, _) in posted
        .iter()
        .filter_map(|p| p.dm_user.zip(Some(&p.content)))
        .filter(|(_, content)| is(content))
    {
        *per_user.entry(user).or_default() += 1;
    }
    assert!(
        per_user.values().all(|n| *n == 1),
        "a user told twice: {per_user:?}"
    );
    per_user.into_keys().collect()
}

#[tokio::test]
async fn a_talk_cancelled_during_its_fan_out_sends_none_of_the_reminders_not_yet_on_their_way() {
    let db = TestDb::new().await;
    let standin = super::standin().await;
    let (conference, scheduler) = fan_out_under_way(&db, &standin).await;

    let cancelled = Talk {
        cancelled: true,
        ..Talk::new("big", "Everybody Comes", "Barn", start())
    };
    // Its only talk cancelled: confirmed, as `--allow-mass-change` does.
    crate::fixtures::import_text_confirmed(&db.pool, SLUG, &ics(&[cancelled])).await;

    let notices = |standin: &super::StandIn| {
        standin
            .messages()
            .posted()
            .iter()
            .filter(|p| p.content.starts_with("Cancelled: **Everybody Comes**"))
            .count()
    };
    scheduler
        .wait_for("every subscriber's cancellation notice", |_| {
            notices(&standin) == SUBSCRIBERS as usize
        })
        .await;
    scheduler.stop().await;

    let rows = outbox_of(&db.pool, conference).await;
    let [version] = versions(&rows)[..] else {
        panic!("one schedule version reminded: {:?}", versions(&rows));
    };
    let reminders = dm_reminders(&rows, version);
    assert_eq!(reminders.len(), SUBSCRIBERS as usize);
    let sent: BTreeSet<u64> = reminders
        .iter()
        .filter(|(_, r)| r.status == OutboxStatus::Sent)
        .map(|(user, _)| *user)
        .collect();
    let retired = reminders
        .values()
        .filter(|r| r.status == OutboxStatus::Dropped)
        .count();
    assert_eq!(
        sent.len() + retired,
        SUBSCRIBERS as usize,
        "every reminder sent or retired, none left pending"
    );
    // The change came mid-spread (in practice 20-25 of 100 reminded): some DMs were still
    // unclaimed. Which ones escaped is the outbox's to say, not a clock's: no retired one was
    // sent (below), and none was left pending.
    assert!(
        retired > 0,
        "the cancellation stopped the fan-out: {} of {SUBSCRIBERS} reminded",
        sent.len()
    );
    let channel = rows
        .iter()
        .find(|r| {
            r.post.key.target == Target::Channel(BARN) && r.post.key.kind == PostKind::Reminder
        })
        .expect("the channel's reminder");
    assert_eq!(
        channel.status,
        OutboxStatus::Dropped,
        "due at its instant, after the cancellation"
    );
    // A message for each sent row and none for a retired one.
    let posted = standin.messages().posted();
    assert_each_sent_row_created_once(&posted, standin.messages().counts(), &rows);
    assert_eq!(standin.messages().counts().rate_limited, 0);
    let reminded = users_with_one(&posted, |c| c.starts_with('⏰'));
    assert_eq!(reminded, sent);
    let told = users_with_one(&posted, |c| c.starts_with("Cancelled: **Everybody Comes**"));
    assert_eq!(told, (1..=SUBSCRIBERS).collect::<BTreeSet<_>>());
}

#[tokio::test]
async fn a_talk_moved_during_its_fan_out_is_reminded_in_its_new_room_to_everyone_not_yet_reminded()
{
    let db = TestDb::new().await;
    let standin = super::standin().await;
    let (conference, scheduler) = fan_out_under_way(&db, &standin).await;

    crate::fixtures::import_text(
        &db.pool,
        SLUG,
        &ics(&[Talk::new("big", "Everybody Comes", "Loft", start())]),
    )
    .await;
    let moved = |c: &str| c.starts_with("Moved: **Everybody Comes**");
    scheduler
        .wait_for("every subscriber's notice of the move", |_| {
            standin
                .messages()
                .posted()
                .iter()
                .filter(|p| moved(&p.content))
                .count()
                == SUBSCRIBERS as usize
        })
        .await;
    // The new schedule version's reminders were planned with the notices.
    let rows = outbox_of(&db.pool, conference).await;
    let [old, new] = versions(&rows)[..] else {
        panic!("two schedule versions reminded: {:?}", versions(&rows));
    };
    let new_version = dm_reminders(&rows, new);
    let in_loft = |c: &str| c.starts_with('⏰') && c.contains(" in Loft (<t:");
    scheduler
        .wait_for("the reminders in the new room", |_| {
            standin
                .messages()
                .posted()
                .iter()
                .filter(|p| p.dm_user.is_some() && in_loft(&p.content))
                .count()
                == new_version.len()
        })
        .await;
    scheduler.stop().await;

    let rows = outbox_of(&db.pool, conference).await;
    let old = dm_reminders(&rows, old);
    let old_sent: BTreeSet<u64> = old
        .iter()
        .filter(|(_, r)| r.status == OutboxStatus::Sent)
        .map(|(user, _)| *user)
        .collect();
    let old_retired: BTreeSet<u64> = old
        .iter()
        .filter(|(_, r)| r.status == OutboxStatus::Dropped)
        .map(|(user, _)| *user)
        .collect();
    assert_eq!(old_sent.len() + old_retired.len(), SUBSCRIBERS as usize);
    assert!(
        !old_retired.is_empty(),
        "the move stopped the old fan-out: {} of {SUBSCRIBERS} reminded of the Barn",
        old_sent.len()
    );
    let posted = standin.messages().posted();
    assert_each_sent_row_created_once(&posted, standin.messages().counts(), &rows);
    assert_eq!(standin.messages().counts().rate_limited, 0);
    let in_barn = users_with_one(&posted, |c| {
        c.starts_with('⏰') && c.contains(" in Barn (<t:")
    });
    assert_eq!(
        in_barn, old_sent,
        "the Barn only for the reminders already on their way"
    );
    let new_sent: BTreeSet<u64> = dm_reminders(&rows, new)
        .into_iter()
        .filter(|(_, r)| r.status == OutboxStatus::Sent)
        .map(|(user, _)| user)
        .collect();
    assert!(
        old_retired.is_subset(&new_sent),
        "everyone whose Barn reminder was retired is reminded of the Loft"
    );
    assert_eq!(users_with_one(&posted, in_loft), new_sent);
    assert_eq!(
        users_with_one(&posted, moved),
        (1..=SUBSCRIBERS).collect::<BTreeSet<_>>()
    );
}
