//! `cargo bench --bench live`: what the live-session features (issue 14) cost a 20-room,
//! 3-day conference: Discord requests per hour at the busiest hour, beside the channel
//! reminders they build on, and the planner's CPU per minute sweep for them. Pure planning
//! (the same domain functions the planner and delivery use): no database, no Discord.
//!
//! Requests per post: a reminder, a board edit (or its first post) and a thread's archive
//! are one request each; a thread's opening is two (start it on the reminder, post the
//! card). A schedule update is one request per following server and import with changes
//! (more only past 2,000 characters), whatever the hour. Discord Events: one request per
//! event made (Discord starts and ends external events by itself), planned by the minute
//! sweep from the moment events are turned on (two hours before the first talk) under
//! Discord's 100 live events per server; edits and cancellations come only with changes.
//!
//! Environment: CONFBOT_BENCH_LIVE_ROOMS (default 20), CONFBOT_BENCH_LIVE_DAYS (3),
//! CONFBOT_BENCH_LIVE_RUNS (timing runs, 50).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Timelike, Utc};
use confbot::domain::board::{self, Board, BoardLayout, Panel};
use confbot::domain::events::{event_posts, EventSelection, StoredEvent};
use confbot::domain::model::{
    Conference, ConferenceSlug, Slot, SpeakerData, StoredTalk, TalkData, TalkId,
};
use confbot::domain::programme::Programme;
use confbot::domain::reminders::{
    plan_channels, ChannelPlan, LeadTime, PostBody, PostKey, PostKind,
};
use confbot::domain::threads::{thread_posts, ThreadSettings};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `rooms` rooms, `days` days, 30-minute talks every 40 minutes from 09:00 to 18:00 UTC.
fn conference(rooms: usize, days: usize) -> Programme {
    let first = Utc
        .with_ymd_and_hms(2026, 6, 1, 9, 0, 0)
        .single()
        .expect("a date");
    let mut talks = Vec::new();
    for day in 0..days {
        for room in 0..rooms {
            let mut start = first + Duration::days(day as i64);
            let end_of_day = start + Duration::hours(9);
            while start + Duration::minutes(30) <= end_of_day {
                let id = talks.len() as i64 + 1;
                talks.push(StoredTalk {
                    id: TalkId(id),
                    schedule_version: 1,
                    data: TalkData {
                        source_id: Some(format!("t{id}").into()),
                        title: format!("Talk {id}: a fairly ordinary title for a talk"),
                        speakers: vec![SpeakerData {
                            name: format!("Speaker {id}"),
                            ..SpeakerData::default()
                        }],
                        room: Some(format!("Room {room}").into()),
                        slot: Some(Slot {
                            start,
                            end: start + Duration::minutes(30),
                            all_day: false,
                        }),
                        url: Some(format!("https://example.org/talk/{id}/").into()),
                        ..TalkData::default()
                    },
                });
                start += Duration::minutes(40);
            }
        }
    }
    let conference = Conference {
        slug: ConferenceSlug::parse("livebench").expect("slug"),
        name: "Live Bench".to_owned(),
        time_zone: chrono_tz::UTC,
        source_url: None,
    };
    Programme::new(conference, Vec::new(), talks)
}

/// A channel per room, ten minutes' lead.
fn channels(rooms: usize) -> ChannelPlan {
    ChannelPlan {
        by_room: (0..rooms)
            .map(|room| (format!("Room {room}"), 1_000 + room as u64))
            .collect(),
        default: None,
        lead: LeadTime::from_minutes(10).expect("lead"),
        names: BTreeMap::new(),
    }
}

fn hour(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_minute(0)
        .and_then(|t| t.with_second(0))
        .unwrap_or(at)
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(0.0)
}

fn main() {
    let rooms = env("CONFBOT_BENCH_LIVE_ROOMS", 20);
    let days = env("CONFBOT_BENCH_LIVE_DAYS", 3);
    let runs = env("CONFBOT_BENCH_LIVE_RUNS", 50).max(1);
    let programme = conference(rooms, days);
    let channels = channels(rooms);
    let settings = ThreadSettings::default();
    let boards = [
        Board {
            channel: 9_001,
            layout: BoardLayout::Rooms,
        },
        Board {
            channel: 9_002,
            layout: BoardLayout::Single,
        },
    ];
    let panels: Vec<Panel> = board::panels(&programme, &boards)
        .into_iter()
        .zip(1..)
        .map(|(spec, id)| Panel {
            id,
            spec,
            shown: None,
        })
        .collect();
    let (start, end) = programme.talks.iter().filter_map(|t| t.data.slot).fold(
        (DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC),
        |(a, b), s| (a.min(s.start), b.max(s.end)),
    );
    let window = (start - Duration::hours(2))..(end + Duration::hours(2));

    // Requests per clock hour, by feature.
    let mut per_hour: BTreeMap<DateTime<Utc>, [usize; 5]> = BTreeMap::new();
    let mut add = |at: DateTime<Utc>, feature: usize, requests: usize| {
        per_hour.entry(hour(at)).or_default()[feature] += requests;
    };
    for reminder in plan_channels(&programme, &channels) {
        add(reminder.due, 0, 1);
    }
    let rooms_panels: Vec<Panel> = panels
        .iter()
        .filter(|p| p.spec.room.is_some())
        .cloned()
        .collect();
    let single_panel: Vec<Panel> = panels
        .iter()
        .filter(|p| p.spec.room.is_none())
        .cloned()
        .collect();
    for edit in board::board_edits(&programme, &rooms_panels, window.clone()) {
        add(edit.due, 1, 1);
    }
    for edit in board::board_edits(&programme, &single_panel, window.clone()) {
        add(edit.due, 2, 1);
    }
    // Threads are planned in a moving window: every post any sweep would plan, once.
    let mut threads: HashMap<PostKey, DateTime<Utc>> = HashMap::new();
    let mut now = window.start;
    while now < window.end {
        for post in thread_posts(&programme, &channels, 1, &settings, now) {
            threads.insert(post.key, post.due);
        }
        now += Duration::hours(1);
    }
    for (key, due) in &threads {
        add(*due, 3, if key.kind == PostKind::Thread { 2 } else { 1 });
    }
    // Events: every minute sweep's posts, each made at once and recorded as Discord has it.
    let selection = EventSelection::default();
    let mut stored: Vec<StoredEvent> = Vec::new();
    let mut most_live = 0;
    let mut now = window.start;
    while now < window.end {
        for post in event_posts(&programme, 1, Some(&selection), &stored, now) {
            let (
                Some(talk),
                PostBody::Event {
                    spec: Some(spec), ..
                },
            ) = (post.key.subject.talk(), &post.body)
            else {
                continue;
            };
            add(now, 4, 1);
            stored.retain(|event| event.talk != talk);
            stored.push(StoredEvent {
                talk,
                event: Some(talk.0 as u64),
                shown: Some(spec.digest()),
                start: Some(spec.start),
                end: Some(spec.end),
                cancelled: false,
                revision: 1,
            });
        }
        most_live = most_live.max(stored.iter().filter(|e| e.live(now)).count());
        now += Duration::minutes(1);
    }

    let busiest = |feature: usize| {
        per_hour
            .iter()
            .map(|(at, counts)| (counts[feature], *at))
            .max()
            .unwrap_or((0, window.start))
    };
    let (total_peak, total_at) = per_hour
        .iter()
        .map(|(at, c)| (c.iter().sum::<usize>(), *at))
        .max()
        .unwrap_or((0, window.start));
    let baseline_at_total = per_hour.get(&total_at).map_or(0, |c| c[0]);
    println!(
        "{rooms} rooms, {days} days, {} talks, 30 minutes every 40 from 09:00 to 18:00",
        programme.talks.len()
    );
    println!("| requests | busiest hour | in that hour | whole conference |");
    println!("|---|---|---:|---:|");
    let names = [
        "channel reminders (baseline)",
        "board, a message per room",
        "board, one message",
        "threads (open 2, archive 1)",
        "Discord Events (one per event made)",
    ];
    for (feature, name) in names.iter().enumerate() {
        let (peak, at) = busiest(feature);
        let total: usize = per_hour.values().map(|c| c[feature]).sum();
        println!("| {name} | {} | {peak} | {total} |", at.format("%a %H:00"));
    }
    println!(
        "| all of them | {} | {total_peak} (baseline {baseline_at_total}) | {} |",
        total_at.format("%a %H:00"),
        per_hour
            .values()
            .map(|c| c.iter().sum::<usize>())
            .sum::<usize>()
    );
    println!(
        "rate budget: 45 requests/s = 162,000 per hour; the busiest hour uses {:.2} %",
        total_peak as f64 / 1_620.0
    );
    let steady: Vec<usize> = per_hour
        .iter()
        .filter(|(at, _)| **at > hour(window.start))
        .map(|(_, c)| c[4])
        .collect();
    println!(
        "events: {} made at switch-on, then at most {} an hour; at most {most_live} live at once (Discord allows 100)",
        per_hour.get(&hour(window.start)).map_or(0, |c| c[4]),
        steady.iter().max().copied().unwrap_or(0)
    );

    // The planner's share: what one minute sweep computes for boards and threads at the
    // busiest hour (the outbox upserts of unchanged rows come on top, in the database).
    let at = total_at + Duration::minutes(20);
    let mut board_ms = Vec::with_capacity(runs);
    let mut thread_ms = Vec::with_capacity(runs);
    let mut event_ms = Vec::with_capacity(runs);
    let mut planned = (0, 0);
    let live_then: Vec<StoredEvent> = stored
        .iter()
        .filter(|e| e.start.is_some_and(|s| s <= at + Duration::hours(6)))
        .cloned()
        .collect();
    for _ in 0..runs {
        let started = Instant::now();
        let events = event_posts(&programme, 1, Some(&selection), &live_then, at);
        event_ms.push(started.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(events);
        let started = Instant::now();
        let posts = board::board_posts(&programme, &panels, at);
        board_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        let opened = thread_posts(&programme, &channels, 1, &settings, at);
        thread_ms.push(started.elapsed().as_secs_f64() * 1e3);
        planned = (posts.len(), opened.len());
    }
    println!(
        "per sweep at {}: boards {} posts in {:.3} ms, threads {} posts in {:.3} ms, events {:.3} ms (medians of {runs})",
        at.format("%a %H:%M"),
        planned.0,
        median(board_ms),
        planned.1,
        median(thread_ms),
        median(event_ms)
    );
}
