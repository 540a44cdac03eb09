//! A 10,000-talk conference for the command benchmark, and the inputs attendees type.
//!
//! The conference is built around the real current day (two days before to two days after,
//! in Europe/Amsterdam), because `confbot run` answers with the real clock: `/next` and
//! `/schedule` then do the work they do during a conference, not before it. Names carry
//! accents (the search folds them) and titles are unique, as in a real programme.
//!
//! Everything else comes from one seeded SplitMix64 generator, so the programme's shape and
//! the inputs are the same on every run.

use anyhow::Context as _;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use confbot::domain::import::Format;
use confbot::domain::model::{
    ConferenceSlug, ImportedSchedule, ProgrammeDay, ScheduleScope, Slot, SpeakerData, TalkData,
    TalkKind, TalkStatus,
};
use confbot::store::imports::{apply_import, ImportRequest};
use sqlx::PgPool;

/// Programme days, rooms and talks per room and day: 5 x 20 x 100 = 10,000 talks.
pub const DAYS: i64 = 5;
pub const ROOMS: usize = 20;
const TALKS_PER_ROOM_DAY: usize = 100;
/// Each room runs from 08:00 for 15 hours: 9-minute slots holding 7-minute talks.
const SLOT_MINUTES: i64 = 9;
const TALK_MINUTES: i64 = 7;
pub const ZONE: Tz = chrono_tz::Europe::Amsterdam;

use super::words::{
    ADJECTIVES, ANGLES, FIRST_NAMES, LAST_NAMES, LEVELS, NOUNS, TOPICS, TRACKS, WORDS,
};

/// SplitMix64: tiny, fast, and good enough to pick words.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One item of a non-empty slice.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

/// The first programme day: two days before today in the conference zone.
pub fn first_day(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&ZONE).date_naive() - Duration::days(2)
}

/// Room names: "Hall 1" .. "Hall 20".
pub fn room(index: usize) -> String {
    format!("Hall {}", index + 1)
}

/// The whole schedule as an importer would produce it (a pretalx-like timetable).
/// Stores a generated `schedule` as conference `slug`, as its JSON import would.
pub async fn store(
    pool: &PgPool,
    slug: &ConferenceSlug,
    schedule: &ImportedSchedule,
) -> anyhow::Result<()> {
    apply_import(
        pool,
        ImportRequest {
            slug,
            source: "benches/commands/generate.rs",
            format: Format::Json,
            schedule: schedule.clone(),
            time_zone_override: None,
            default_time_zone: Tz::UTC,
            dry_run: false,
            allow_mass_change: false,
        },
    )
    .await
    .context("storing the benchmark conference")?;
    Ok(())
}

pub fn schedule(now: DateTime<Utc>) -> ImportedSchedule {
    let mut rng = Rng::new(0x00C0_FFEE_2026);
    let first = first_day(now);
    let local = |date: NaiveDate, minutes: i64| -> DateTime<Utc> {
        let naive = date.and_time(NaiveTime::MIN) + Duration::minutes(minutes);
        ZONE.from_local_datetime(&naive)
            .earliest()
            .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
    };
    let mut schedule = ImportedSchedule::new(ScheduleScope::Timetable);
    schedule.name = Some("BenchConf Live".to_owned());
    schedule.time_zone = Some(ZONE);
    let mut seen = std::collections::HashSet::new();
    for day in 0..DAYS {
        let date = first + Duration::days(day);
        schedule.days.push(ProgrammeDay {
            date,
            start: local(date, 6 * 60),
            end: local(date, 27 * 60),
        });
        for room_index in 0..ROOMS {
            for k in 0..TALKS_PER_ROOM_DAY {
                let start = local(date, 8 * 60 + k as i64 * SLOT_MINUTES);
                let number = schedule.talks.len();
                schedule.talks.push(TalkData {
                    source_id: Some(format!("bench-{number}").into()),
                    title: unique_title(&mut rng, &mut seen),
                    abstract_text: Some(abstract_text(&mut rng).into()),
                    speakers: (0..1 + rng.below(3)).map(|_| speaker(&mut rng)).collect(),
                    track: Some(rng.pick(TRACKS).into()),
                    level: Some(rng.pick(LEVELS).into()),
                    talk_type: Some("Talk".into()),
                    language: Some("en".into()),
                    room: Some(room(room_index).into()),
                    slot: Some(Slot {
                        start,
                        end: start + Duration::minutes(TALK_MINUTES),
                        all_day: false,
                    }),
                    status: TalkStatus::Confirmed,
                    kind: TalkKind::Talk,
                    url: Some(
                        format!("https://pretalx.example.org/bench/talk/B{number:05}/").into(),
                    ),
                    ..TalkData::default()
                });
            }
        }
    }
    schedule
}

fn unique_title(rng: &mut Rng, seen: &mut std::collections::HashSet<String>) -> String {
    loop {
        let title = format!(
            "{} {} with {}: {}",
            rng.pick(ADJECTIVES),
            rng.pick(NOUNS),
            rng.pick(TOPICS),
            rng.pick(ANGLES)
        );
        if seen.insert(title.clone()) {
            return title;
        }
    }
}

/// A speaker from a pool of 2,500 people (first x last name), so people speak several times
/// and share names' parts, as search has to cope with.
fn speaker(rng: &mut Rng) -> SpeakerData {
    let first = rng.pick(FIRST_NAMES);
    let last = rng.pick(LAST_NAMES);
    SpeakerData {
        source_id: None,
        name: format!("{first} {last}"),
        biography: Some(
            format!(
                "{first} works on {} and {} and has spoken about {} at many meetups.",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(TOPICS)
            )
            .into(),
        ),
    }
}

/// Four to seven sentences, 400-800 characters.
fn abstract_text(rng: &mut Rng) -> String {
    let sentences = 4 + rng.below(4);
    (0..sentences)
        .map(|_| {
            format!(
                "This talk looks at {} and {} in {}, with {} from real {}.",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(TOPICS),
                rng.pick(WORDS),
                rng.pick(WORDS)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What attendees type into `/talk query` while autocomplete runs: prefixes of real titles
/// and speaker names (mostly 2-12 characters, as typed), some with a typo, some in lower
/// case or without accents, some a word from the middle of a title.
pub fn autocomplete_inputs(schedule: &ImportedSchedule, count: usize) -> Vec<String> {
    let mut rng = Rng::new(0xA070_C0DE);
    let titles: Vec<&str> = schedule.talks.iter().map(|t| t.title.as_str()).collect();
    (0..count)
        .map(|_| {
            let title = rng.pick(&titles);
            let typed_len = 2 + rng.below(11);
            match rng.below(20) {
                0..=8 => prefix(title, typed_len),
                9..=12 => typo(&mut rng, &prefix(title, typed_len.max(5))),
                13..=15 => prefix(&speaker_name(&mut rng), typed_len),
                16 => prefix(&fold_accents(&speaker_name(&mut rng)), typed_len).to_lowercase(),
                17 => prefix(title, typed_len).to_lowercase(),
                18 => {
                    let words: Vec<&str> = title.split(' ').collect();
                    prefix(rng.pick(&words), typed_len)
                }
                _ => prefix(title, 1),
            }
        })
        .collect()
}

/// `/talk query` values: whole titles (what autocomplete fills in), shortened or misspelt
/// titles, speaker names and words that only occur in abstracts and biographies.
pub fn talk_queries(schedule: &ImportedSchedule, count: usize) -> Vec<String> {
    let mut rng = Rng::new(0x7A1C_0001);
    let titles: Vec<&str> = schedule.talks.iter().map(|t| t.title.as_str()).collect();
    (0..count)
        .map(|_| {
            let title = rng.pick(&titles);
            match rng.below(10) {
                0..=4 => title.to_owned(),
                5 => prefix(title, 20),
                6 => typo(&mut rng, title),
                7 => speaker_name(&mut rng),
                8 => format!("{} {}", rng.pick(WORDS), rng.pick(TOPICS)),
                _ => rng.pick(NOUNS).to_lowercase(),
            }
        })
        .collect()
}

fn speaker_name(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
}

/// The first `chars` characters (at a character boundary).
fn prefix(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// One typo: a dropped, doubled or swapped character.
fn typo(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.len() < 3 {
        return text.to_owned();
    }
    let at = 1 + rng.below(chars.len() - 2);
    match rng.below(3) {
        0 => {
            chars.remove(at);
        }
        1 => chars.insert(at, chars[at]),
        _ => chars.swap(at, at + 1),
    }
    chars.into_iter().collect()
}

/// What someone without the accent on their keyboard types.
fn fold_accents(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'á' | 'à' | 'ą' => 'a',
            'é' | 'è' | 'É' => 'e',
            'í' | 'ì' | 'ı' | 'Ì' => 'i',
            'ó' | 'ò' | 'ö' | 'ø' | 'ọ' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            'ł' | 'Ł' => 'l',
            'ñ' => 'n',
            'ë' => 'e',
            other => other,
        })
        .collect()
}

/// `/next` options: every room, one room, a track, a room and a track.
pub fn next_options(count: usize) -> Vec<Vec<(String, String)>> {
    let mut rng = Rng::new(0x0E47_0002);
    (0..count)
        .map(|i| {
            let room_option = ("room".to_owned(), room(rng.below(ROOMS)));
            let track_option = ("track".to_owned(), rng.pick(TRACKS).to_owned());
            match i % 4 {
                0 => Vec::new(),
                1 => vec![room_option],
                2 => vec![track_option],
                _ => vec![room_option, track_option],
            }
        })
        .collect()
}

/// `/schedule` options: today's programme, a date, a weekday, `tomorrow`, each with or
/// without a room.
pub fn schedule_options(count: usize, first: NaiveDate) -> Vec<Vec<(String, String)>> {
    let mut rng = Rng::new(0x5C4E_0003);
    (0..count)
        .map(|i| {
            let date = first + Duration::days(rng.below(DAYS as usize) as i64);
            let day = match i % 4 {
                0 => None,
                1 => Some(date.format("%Y-%m-%d").to_string()),
                2 => Some(date.format("%A").to_string().to_lowercase()),
                _ => Some("tomorrow".to_owned()),
            };
            let mut options: Vec<(String, String)> =
                day.map(|d| ("day".to_owned(), d)).into_iter().collect();
            if i % 8 >= 4 {
                options.push(("room".to_owned(), room(rng.below(ROOMS))));
            }
            options
        })
        .collect()
}
