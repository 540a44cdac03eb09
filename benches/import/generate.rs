//! A deterministic, realistic conference programme for the import benchmark: five days,
//! twenty rooms, unique titles, 600-1000 character abstracts, one to three speakers with
//! biographies drawn from a shared pool (people speak more than once), tracks and levels.
//!
//! Everything comes from one seeded SplitMix64 generator, so every run and every machine
//! gets byte-identical files and the numbers stay comparable.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use confbot::domain::text::{name_key, title_key};

use super::words;

/// Programme days. The conference runs Wednesday 2026-10-28 to Sunday 2026-11-01, so the
/// last day falls after the US change back to standard time: the importers must resolve two
/// different UTC offsets from the same VTIMEZONE.
pub const DAYS: usize = 5;
/// Parallel rooms.
pub const ROOMS: usize = 20;
/// Each room's programme runs from 08:00 to 23:00 local time.
const DAY_MINUTES: u32 = 15 * 60;
const FIRST_DAY: (i32, u32, u32) = (2026, 10, 28);

/// SplitMix64: tiny, fast, and good enough to pick words.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One item of a non-empty slice.
    pub fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items
            .get(self.below(items.len()))
            .copied()
            .unwrap_or_default()
    }
}

/// A speaker. The same person may give several talks; the bio is theirs, not the talk's.
pub struct Person {
    pub id: u32,
    pub code: String,
    pub name: String,
    pub bio: String,
}

/// One scheduled talk, in local wall-clock time.
pub struct Talk {
    pub id: u32,
    pub code: String,
    pub guid: String,
    pub title: String,
    /// A one-sentence summary: the listing's `Description:` and the JSON/XML `description`.
    pub summary: String,
    /// Paragraphs separated by a blank line.
    pub abstract_text: String,
    /// Indexes into [`Conference::people`].
    pub speakers: Vec<usize>,
    pub track: &'static str,
    pub level: &'static str,
    pub talk_type: &'static str,
    pub language: &'static str,
    pub day: usize,
    pub room: usize,
    pub start: NaiveDateTime,
    pub minutes: u32,
}

impl Talk {
    pub fn end(&self) -> NaiveDateTime {
        self.start + Duration::minutes(i64::from(self.minutes))
    }
}

/// The whole programme.
pub struct Conference {
    pub acronym: String,
    pub title: String,
    pub zone: Tz,
    pub days: Vec<NaiveDate>,
    pub rooms: Vec<String>,
    pub people: Vec<Person>,
    pub talks: Vec<Talk>,
}

/// Generates a conference of `count` talks.
pub fn conference(count: usize) -> Conference {
    let mut rng = Rng::new(0x00C0_FFEE_2026);
    let first = NaiveDate::from_ymd_opt(FIRST_DAY.0, FIRST_DAY.1, FIRST_DAY.2).unwrap_or_default();
    let days: Vec<NaiveDate> = (0..DAYS)
        .map(|d| first + Duration::days(d as i64))
        .collect();
    let rooms: Vec<String> = words::ROOMS
        .iter()
        .take(ROOMS)
        .map(|r| (*r).to_owned())
        .collect();
    let people = people(&mut rng, (count * 3 / 5).max(3));

    // Fill each room's day with equal slots; at ten thousand talks that is 100 talks per room
    // and day, i.e. 9-minute slots (7-minute talks): a dense programme, but the parser and the
    // store do not care how long a talk is.
    let per_room_day = count.div_ceil(DAYS * ROOMS).max(1);
    let slot = (DAY_MINUTES / per_room_day as u32).clamp(5, 60);
    let minutes = (slot * 5 / 6).max(4);

    let mut titles = HashSet::with_capacity(count);
    let talks = (0..count)
        .map(|i| {
            let day = (i / (per_room_day * ROOMS)) % DAYS;
            let room = (i / per_room_day) % ROOMS;
            let k = (i % per_room_day) as u32;
            let date = days.get(day).copied().unwrap_or(first);
            let start = date.and_time(NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default())
                + Duration::minutes(i64::from(k * slot));
            talk(
                &mut rng,
                i,
                &mut titles,
                people.len(),
                day,
                room,
                start,
                minutes,
            )
        })
        .collect();
    Conference {
        acronym: "benchconf-2026".into(),
        title: "BenchConf 2026".into(),
        zone: chrono_tz::America::Los_Angeles,
        days,
        rooms,
        people,
        talks,
    }
}

#[allow(clippy::too_many_arguments)] // one call site, reads better than a struct
fn talk(
    rng: &mut Rng,
    i: usize,
    titles: &mut HashSet<String>,
    people: usize,
    day: usize,
    room: usize,
    start: NaiveDateTime,
    minutes: u32,
) -> Talk {
    let speaker_count = match rng.below(100) {
        0..=69 => 1,
        70..=91 => 2,
        _ => 3,
    };
    let mut speakers: Vec<usize> = Vec::with_capacity(speaker_count);
    while speakers.len() < speaker_count.min(people) {
        let p = rng.below(people);
        if !speakers.contains(&p) {
            speakers.push(p);
        }
    }
    Talk {
        id: 10_000 + i as u32,
        code: code(i as u64, 0x2545_F491, 7_919),
        guid: format!(
            "{:08x}-{:04x}-5{:03x}-9{:03x}-{:012x}",
            rng.next_u64() as u32,
            rng.next_u64() as u16,
            rng.next_u64() as u16 & 0xfff,
            rng.next_u64() as u16 & 0xfff,
            i
        ),
        title: unique_title(rng, titles),
        summary: sentence_run(rng, words::SUMMARIES, 1),
        abstract_text: abstract_text(rng),
        speakers,
        track: rng.pick(words::TRACKS),
        level: rng.pick(&["Beginner", "Intermediate", "Intermediate", "Advanced"]),
        talk_type: rng.pick(&["Talk", "Talk", "Talk", "Lightning talk", "Workshop"]),
        language: rng.pick(&["en", "en", "en", "en", "es", "de"]),
        day,
        room,
        start,
        minutes,
    }
}

/// A pretalx-style code (`GK99DE`): six base-36 characters, unique per index because
/// `i * multiplier + offset` is a bijection modulo 36^6 when the multiplier is coprime to 6.
fn code(i: u64, offset: u64, multiplier: u64) -> String {
    const ALPHABET: &[u8; 36] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789IO";
    let mut n = (i.wrapping_mul(multiplier).wrapping_add(offset)) % 36u64.pow(6);
    let mut out = String::with_capacity(6);
    for _ in 0..6 {
        out.push(char::from(ALPHABET[(n % 36) as usize]));
        n /= 36;
    }
    out
}

fn unique_title(rng: &mut Rng, seen: &mut HashSet<String>) -> String {
    let mut attempt = 0;
    loop {
        let template = rng.pick(words::TITLE_TEMPLATES);
        let title = template
            .replace("{topic}", rng.pick(words::TOPICS))
            .replace("{other}", rng.pick(words::TOPICS))
            .replace("{adj}", rng.pick(words::ADJECTIVES))
            .replace("{thing}", rng.pick(words::THINGS))
            .replace("{n}", &(2 + rng.below(14)).to_string());
        // After a few collisions, number the talk like a series ("..., part 3").
        let title = if attempt < 4 {
            title
        } else {
            format!("{title}, part {}", attempt - 2)
        };
        if seen.insert(title_key(&title)) {
            return title;
        }
        attempt += 1;
    }
}

/// 600-1000 characters in two or three paragraphs.
fn abstract_text(rng: &mut Rng) -> String {
    let target = 600 + rng.below(400);
    let paragraphs = 2 + rng.below(2);
    let mut text = String::with_capacity(target + 200);
    let mut paragraph_len = 0;
    let mut paragraph = 1;
    while text.len() < target {
        if paragraph_len > target / paragraphs && paragraph < paragraphs {
            text.push_str("\n\n");
            paragraph += 1;
            paragraph_len = 0;
        } else if !text.is_empty() {
            text.push(' ');
        }
        let sentence = rng.pick(words::SENTENCES);
        paragraph_len += sentence.len();
        text.push_str(sentence);
    }
    text
}

fn sentence_run(rng: &mut Rng, pool: &[&str], count: usize) -> String {
    (0..count)
        .map(|_| rng.pick(pool))
        .collect::<Vec<_>>()
        .join(" ")
}

fn people(rng: &mut Rng, count: usize) -> Vec<Person> {
    let mut seen = HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let first = rng.pick(words::FIRST_NAMES);
        let last = rng.pick(words::LAST_NAMES);
        let mut name = format!("{first} {last}");
        if seen.contains(&name_key(&name)) {
            // A middle initial, as people with common names do on programmes.
            let initial = char::from(b'A' + rng.below(26) as u8);
            name = format!("{first} {initial}. {last}");
        }
        if !seen.insert(name_key(&name)) {
            continue;
        }
        let i = out.len() as u64;
        let opening = rng.pick(words::BIO_OPENINGS);
        let sentences = 1 + rng.below(3);
        let bio = format!(
            "{name} {opening} {}",
            sentence_run(rng, words::BIO_SENTENCES, sentences)
        );
        out.push(Person {
            id: 1_000 + i as u32,
            code: code(i, 0x0B1D_F00D, 5_393),
            name,
            bio,
        });
    }
    out
}
