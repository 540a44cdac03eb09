//! Discord Events through the real planner, outbox and sender against the stand-in's
//! scheduled events: one external event per selected talk, edited when it moves, cancelled
//! when it is cancelled, made again when a moderator deletes it, never twice with two
//! schedulers or after a restart; Discord's limit of 100 and a missing permission.

use chrono::{DateTime, Duration, Utc};
use confbot::jobs::Clock;

use super::{ics, import, Scheduler, Talk, SLUG};
use crate::discord::guilds::{CANCELED, MANAGE_EVENTS, SCHEDULED};
use crate::discord::payloads::GUILD_ID;
use crate::discord::standin::{Recorded, StandIn};
use crate::harness::TestDb;

const T0: &str = "2026-06-01T09:00:00Z";

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339")
}

/// Three talks two, three and four hours on (25 minutes each); `change` alters them.
fn schedule(t0: DateTime<Utc>, change: impl FnOnce(&mut Vec<Talk<'static>>)) -> String {
    let mut talks = vec![
        Talk::new("a", "Async Rust", "Barn", t0 + Duration::hours(2)),
        Talk::new("b", "Borrowing", "Loft", t0 + Duration::hours(3)),
        Talk::new("c", "Closures", "Barn", t0 + Duration::hours(4)),
    ];
    change(&mut talks);
    ics(&talks)
}

pub(super) async fn events_on(db: &TestDb, guild: u64) {
    sqlx::query(
        "INSERT INTO guild_settings (guild_id, conference_slug, events, updated_by)
         VALUES ($1, $2, true, 1)",
    )
    .bind(i64::try_from(guild).expect("small id"))
    .bind(SLUG)
    .execute(&db.pool)
    .await
    .expect("settings");
}

/// What every test here starts from: `schedule(t0, change)` imported, events on in the test
/// server, the stand-in (confbot granted Manage Events when `granted`) reading a clock that
/// starts at T0 and runs `speed` times real time, for Discord's automation.
async fn set_up(
    speed: u32,
    granted: bool,
    change: impl FnOnce(&mut Vec<Talk<'static>>),
) -> (TestDb, StandIn, Clock, DateTime<Utc>) {
    let db = TestDb::new().await;
    let t0 = at(T0);
    import(&db.pool, &schedule(t0, change)).await;
    events_on(&db, GUILD_ID).await;
    let standin = super::standin().await;
    if granted {
        standin.guilds().grant_bot(MANAGE_EVENTS);
    }
    let clock = Clock::starting_at(t0, speed);
    standin.guilds().events().set_clock(move || clock.now());
    (db, standin, clock, t0)
}

fn creates(standin: &StandIn, guild: u64) -> Vec<Recorded> {
    let path = format!("/api/v10/guilds/{guild}/scheduled-events");
    standin
        .requests()
        .into_iter()
        .filter(|r| r.is("POST", &path))
        .collect()
}

/// The names of the events confbot asked to create in the test server, sorted.
fn created_names(standin: &StandIn) -> Vec<String> {
    let mut names: Vec<String> = creates(standin, GUILD_ID)
        .iter()
        .map(|r| r.body["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    names.sort();
    names
}

fn is_create_of(guild: u64, name: &'static str) -> impl Fn(&Recorded) -> bool {
    let path = format!("/api/v10/guilds/{guild}/scheduled-events");
    move |r| r.is("POST", &path) && r.body["name"] == name
}

#[tokio::test]
async fn each_talk_keeps_one_event_through_moves_cancellations_deletions_and_restarts() {
    // A minute is two seconds.
    let (db, standin, clock, t0) = set_up(30, true, |_| {}).await;
    let one = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;
    let two = Scheduler::start(&db.url, &standin, clock, "w2", |_| {}).await;

    let closures = standin
        .wait_for("the third event", is_create_of(GUILD_ID, "Closures"))
        .await;
    assert_eq!(closures.body["entity_type"], 3);
    assert_eq!(closures.body["privacy_level"], 2);
    assert_eq!(closures.body["entity_metadata"]["location"], "Barn");
    let start = (t0 + Duration::hours(4)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(closures.body["scheduled_start_time"], start.as_str());
    standin
        .guilds()
        .events()
        .wait_until(GUILD_ID, "three events", |events| events.len() == 3)
        .await;
    let live = standin.guilds().events().live(GUILD_ID);

    // Borrowing moves a quarter of an hour on; Closures is cancelled.
    import(
        &db.pool,
        &schedule(t0, |talks| {
            talks[1].start += Duration::minutes(15);
            talks[2].cancelled = true;
        }),
    )
    .await;
    let borrowing = live
        .iter()
        .find(|e| e.name == "Borrowing")
        .expect("made")
        .id;
    let cancelled = live.iter().find(|e| e.name == "Closures").expect("made").id;
    let edit = |id: u64| format!("/api/v10/guilds/{GUILD_ID}/scheduled-events/{id}");
    let moved = standin
        .wait_for("the moved talk's edit", |r| r.is("PATCH", &edit(borrowing)))
        .await;
    standin
        .wait_for("the cancellation", |r| {
            r.is("PATCH", &edit(cancelled)) && r.body["status"] == 4
        })
        .await;
    let moved_to = (t0 + Duration::minutes(195)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(moved.body["scheduled_start_time"], moved_to.as_str());

    // A moderator deletes Async Rust's event; its talk is renamed: the edit finds it gone
    // and the event is made again.
    let async_rust = live
        .iter()
        .find(|e| e.name == "Async Rust")
        .expect("made")
        .id;
    standin.guilds().events().delete(async_rust);
    import(
        &db.pool,
        &schedule(t0, |talks| {
            talks[0].title = "Async Rust, Again";
            talks[1].start += Duration::minutes(15);
            talks[2].cancelled = true;
        }),
    )
    .await;
    standin
        .wait_for(
            "the deleted event made again",
            is_create_of(GUILD_ID, "Async Rust, Again"),
        )
        .await;
    one.stop().await;
    two.stop().await;

    // A restart: nothing is made twice; the next change is one more edit.
    let restarted = Scheduler::start(&db.url, &standin, clock, "w3", |_| {}).await;
    import(
        &db.pool,
        &schedule(t0, |talks| {
            talks[0].title = "Async Rust, Again";
            talks[1].title = "Borrowing Well";
            talks[1].start += Duration::minutes(15);
            talks[2].cancelled = true;
        }),
    )
    .await;
    standin
        .wait_for("the renamed talk's edit", |r| {
            r.is("PATCH", &edit(borrowing)) && r.body["name"] == "Borrowing Well"
        })
        .await;
    restarted.stop().await;

    let names = created_names(&standin);
    assert_eq!(
        names,
        ["Async Rust", "Async Rust, Again", "Borrowing", "Closures"].map(String::from),
        "each event made once, two schedulers and a restart notwithstanding"
    );
    let events = standin.guilds().events().of(GUILD_ID);
    let status = |name: &str| {
        events
            .iter()
            .find(|(e, _)| e.name == name)
            .map(|(_, status)| *status)
    };
    assert_eq!(status("Closures"), Some(CANCELED));
    assert_eq!(status("Borrowing Well"), Some(SCHEDULED));
    assert_eq!(status("Async Rust, Again"), Some(SCHEDULED));
}

#[tokio::test]
async fn a_full_server_gets_the_rest_of_its_events_as_places_free_up() {
    // Two minutes a second.
    let (db, standin, clock, t0) = set_up(120, true, |_| {}).await;
    let events = standin.guilds().events();
    // People made 98 events of their own, over six minutes in: two places are left.
    events.add_by_people(
        GUILD_ID,
        98,
        t0 + Duration::minutes(1),
        t0 + Duration::minutes(16),
    );
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;

    // Two events are made at once; the third (whichever comes last) waits (30038) and is
    // tried again every five minutes until the people's events have ended.
    standin
        .guilds()
        .events()
        .wait_until(GUILD_ID, "the third of confbot's events", |events| {
            events.iter().filter(|(e, _)| e.creator != 1).count() == 3
        })
        .await;
    let postponed = scheduler.outcomes.counts().postponed;
    scheduler.stop().await;

    assert!(postponed >= 1, "a create waited for a free place");
    assert!(
        creates(&standin, GUILD_ID).len() >= 4,
        "refused while the server was full, then made"
    );
    assert!(clock.now() >= t0 + Duration::minutes(16));
    let live = standin.guilds().events().live(GUILD_ID);
    assert_eq!(live.len(), 3, "the people's events are over: {live:#?}");
}

#[tokio::test]
async fn without_manage_events_each_event_waits_and_is_made_once_it_is_granted() {
    // Ten minutes a second: the ten minutes' wait after a refusal is a second.
    let (db, standin, clock, _) = set_up(600, false, |_| {}).await;
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;

    scheduler
        .wait_for("three refusals", |counts| counts.postponed >= 3)
        .await;
    let waiting: Vec<String> = sqlx::query_scalar(
        "SELECT last_error FROM outbox WHERE kind = 'event' AND status = 'pending'",
    )
    .fetch_all(&db.pool)
    .await
    .expect("rows");
    let refused = creates(&standin, GUILD_ID).len();
    assert!(standin.guilds().events().of(GUILD_ID).is_empty());
    standin.guilds().grant_bot(MANAGE_EVENTS);
    standin
        .guilds()
        .events()
        .wait_until(GUILD_ID, "the events once allowed", |e| e.len() == 3)
        .await;
    scheduler.stop().await;

    assert_eq!(waiting.len(), 3);
    assert!(
        waiting
            .iter()
            .all(|e| e.contains("Manage Events") && e.contains("50013")),
        "{waiting:?}"
    );
    assert!(refused >= 3, "each refused at first");
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_looked_for_and_never_made_twice() {
    let (db, standin, clock, _) = set_up(30, true, |_| {}).await;
    let events = standin.guilds().events();
    // Each of the three creates makes its event and answers 500.
    events.fail_after_creating(3);
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;

    scheduler
        .wait_for("three events sent", |counts| counts.sent >= 3)
        .await;
    scheduler.stop().await;

    let path = format!("/api/v10/guilds/{GUILD_ID}/scheduled-events");
    let requests = standin.requests();
    let count = |method: &str, exact: bool| {
        requests
            .iter()
            .filter(|r| {
                r.method == method
                    && (if exact {
                        r.path == path
                    } else {
                        r.path.starts_with(&path) && r.path != path
                    })
            })
            .count()
    };
    assert_eq!(count("POST", true), 3, "each made once");
    assert!(
        count("GET", true) >= 3,
        "each looked for before a second try"
    );
    assert_eq!(
        count("PATCH", false),
        3,
        "the one found is brought up to date instead"
    );
    assert_eq!(standin.guilds().events().live(GUILD_ID).len(), 3);
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT event_id) FROM guild_events WHERE event_id IS NOT NULL",
    )
    .fetch_one(&db.pool)
    .await
    .expect("count");
    assert_eq!(recorded, 3);
}

#[tokio::test]
async fn a_cancelled_talk_under_way_is_ended_and_events_turned_off_and_on_are_made_anew() {
    use crate::discord::guilds::{ACTIVE, COMPLETED};
    let soon = |talks: &mut Vec<Talk<'static>>| talks[0].start = at(T0) + Duration::minutes(2);
    let (db, standin, clock, t0) = set_up(30, true, soon).await;
    let events = standin.guilds().events();
    let scheduler = Scheduler::start(&db.url, &standin, clock, "w1", |_| {}).await;
    let status = |name: &'static str, wanted: u64| {
        move |events: &[(crate::discord::guilds::Event, u64)]| {
            events.iter().any(|(e, s)| e.name == name && *s == wanted)
        }
    };

    events
        .wait_until(GUILD_ID, "the events", |events| events.len() == 3)
        .await;
    // Discord starts the event at its talk's start: the test waits for that instant.
    let started = t0 + Duration::minutes(2) + Duration::seconds(10);
    tokio::time::sleep(clock.real_time_until(started)).await;
    assert!(status("Async Rust", ACTIVE)(&events.of(GUILD_ID)));
    // Cancelled while under way: Discord lets an active event only end.
    import(
        &db.pool,
        &schedule(t0, |talks| {
            soon(talks);
            talks[0].cancelled = true;
        }),
    )
    .await;
    events
        .wait_until(
            GUILD_ID,
            "Async Rust ended",
            status("Async Rust", COMPLETED),
        )
        .await;
    let set = |on: bool| {
        sqlx::query("UPDATE guild_settings SET events = $1, updated_at = now()")
            .bind(on)
            .execute(&db.pool)
    };
    set(false).await.expect("off");
    events
        .wait_until(GUILD_ID, "the events cancelled", |events| {
            events.iter().filter(|(_, s)| *s == CANCELED).count() == 2
        })
        .await;
    set(true).await.expect("on");
    events
        .wait_until(GUILD_ID, "the events made anew", |events| {
            events.iter().filter(|(_, s)| *s == SCHEDULED).count() == 2
        })
        .await;
    scheduler.stop().await;

    let names = created_names(&standin);
    assert_eq!(
        names,
        [
            "Async Rust",
            "Borrowing",
            "Borrowing",
            "Closures",
            "Closures"
        ]
        .map(String::from),
        "the cancelled talk gets no new event"
    );
}
