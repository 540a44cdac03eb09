//! Talk identity shared by every importer: which id a talk gets, and what happens when an
//! export gives two events the same one.
//!
//! - pretalx gives each talk a code in every format (.ics UID `pretalx-<event>-<CODE>@host`,
//!   JSON `code`, XML `<url>…/talk/<CODE>/</url>`). That code is the talk's id wherever it is
//!   present, so switching a conference from one format to another is a diff of zero.
//! - Real exports repeat ids (frab congress XML re-uses `guid`s for merged rooms and
//!   templates). Every event is still imported: a repeat gets `<id>#<hash>`, the hash taken
//!   over its own start, room and title, so a re-import of the same file matches the same
//!   talks again and reordering the file does not swap ids between events that differ.

use std::collections::HashMap;
use std::fmt;

use crate::domain::model::TalkData;
use taken::Taken;

mod taken;

/// The pretalx code in a UID such as `pretalx-nbpy-2026-ERUJ9T@pretalx.northbaypython.org`.
pub fn pretalx_code_from_uid(uid: &str) -> Option<&str> {
    let (local, _host) = uid.strip_prefix("pretalx-")?.split_once('@')?;
    let (_event, code) = local.rsplit_once('-')?;
    is_code(code).then_some(code)
}

/// The pretalx code in a talk URL such as `https://pretalx.example.com/conf/talk/GK99DE/`.
pub fn pretalx_code_from_url(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?.trim_end_matches('/');
    let (before, code) = path.rsplit_once('/')?;
    (before.ends_with("/talk") && is_code(code)).then_some(code)
}

/// The pretalx code a stored talk was known by, whichever format imported it: its id when
/// that is a pretalx UID, else its URL. This is how rows imported before codes became the id
/// are matched (and then re-keyed) on the next import.
pub fn pretalx_code_of(talk: &TalkData) -> Option<&str> {
    talk.source_id
        .as_deref()
        .and_then(pretalx_code_from_uid)
        .or_else(|| talk.url.as_deref().and_then(pretalx_code_from_url))
}

/// pretalx codes are short runs of upper-case letters and digits.
fn is_code(code: &str) -> bool {
    (4..=16).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Hands out ids in file order, giving every repeat of an id one of its own. `P` is where a
/// talk is in its file (a line number; a day, room and position), kept to name the first
/// holder of an id should a repeat turn up: the place's text held for every talk was 4 MB
/// of a 100,000-talk schedule.json.
#[derive(Debug)]
pub struct Ids<P> {
    /// Every id handed out so far, with the place of the talk that holds it.
    taken: Taken<P>,
    /// For a derived id, the last number tried after it, so long runs do not re-probe.
    last_number: HashMap<String, u64>,
}

/// A talk given an id of its own because its id was taken.
#[derive(Debug)]
pub struct Repeat<P> {
    /// The place of the talk that has the id.
    pub first: P,
    id: String,
    derived: String,
}

impl<P> Repeat<P> {
    /// The warning to show: the repeat is at `place`, the id's holder at `first`.
    pub fn warning(&self, place: impl fmt::Display, first: impl fmt::Display) -> String {
        format!(
            "{place}: the id {:?} is also used by {first}; imported as {:?}",
            shorten(&self.id),
            shorten(&self.derived)
        )
    }
}

impl Repeat<usize> {
    /// [`Repeat::warning`] where places are line numbers.
    pub fn at_line(&self, line: usize) -> String {
        self.warning(
            format_args!("line {line}"),
            format_args!("line {}", self.first),
        )
    }
}

impl<P> Default for Ids<P> {
    fn default() -> Self {
        Self {
            taken: Taken::default(),
            last_number: HashMap::new(),
        }
    }
}

impl<P: Clone> Ids<P> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `talk`'s id, found at `place`. When the id is already taken the talk gets a
    /// derived one, and what the warning needs is returned.
    pub fn claim(&mut self, talk: &mut TalkData, place: P) -> Option<Repeat<P>> {
        // Borrowed until a repeat is found: most talks' ids are not copied at all.
        let id = talk.source_id.as_deref()?;
        let Some(first) = self.taken.get(id).cloned() else {
            self.taken.insert(id, place);
            return None;
        };
        let id = id.to_owned();
        let base = format!("{id}#{:08x}", fields_hash(talk) >> 32);
        // Identical repeats (same start, room and title) are told apart by their order; each
        // probe is one hash lookup, and a run of n identical repeats costs O(n) in total
        // because the next free number is remembered.
        let mut derived = base.clone();
        let mut n = 1u64;
        while self.taken.contains(&derived) {
            n = self.next_number(&base, n);
            derived = format!("{base}-{n}");
        }
        self.taken.insert(&derived, place);
        talk.source_id = Some(derived.as_str().into());
        Some(Repeat { first, id, derived })
    }

    /// The next number to try for `base`.
    fn next_number(&mut self, base: &str, at_least: u64) -> u64 {
        let last = self.last_number.entry(base.to_owned()).or_insert(1);
        *last = (*last).max(at_least) + 1;
        *last
    }
}

/// FNV-1a over start instant, room and title: spelled out because std's hasher may change
/// between Rust releases, and these ids must not.
fn fields_hash(talk: &TalkData) -> u64 {
    let start = talk.slot.map(|s| s.start.to_rfc3339()).unwrap_or_default();
    let parts = [
        start.as_str(),
        talk.room.as_deref().unwrap_or_default(),
        talk.title.as_str(),
    ];
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.join("\u{0}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Ids in messages stay readable even when a file carries a 10,000-character one.
fn shorten(id: &str) -> String {
    const MAX: usize = 80;
    match id.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &id[..cut]),
        None => id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::programme::testing;

    fn talk(id: &str, title: &str, room: &str, hour: u32) -> TalkData {
        let start = format!("2026-12-27T{hour:02}:00:00Z");
        TalkData {
            source_id: Some(id.into()),
            ..testing::talk(title, "Speaker", room, &start, 60)
        }
    }

    fn assign(talks: &mut [TalkData]) -> Vec<String> {
        let mut ids = Ids::new();
        talks
            .iter_mut()
            .enumerate()
            .filter_map(|(i, t)| ids.claim(t, i + 1).map(|repeat| repeat.at_line(i + 1)))
            .collect()
    }

    fn ids_of(talks: &[TalkData]) -> Vec<String> {
        talks
            .iter()
            .filter_map(|t| t.source_id.as_deref().map(str::to_owned))
            .collect()
    }

    #[test]
    fn a_repeated_id_keeps_the_first_talk_and_derives_one_for_the_repeat() {
        let mut talks = vec![talk("g", "Opening", "A", 10), talk("g", "Closing", "B", 17)];
        let warnings = assign(&mut talks);
        let ids = ids_of(&talks);
        assert_eq!(ids[0], "g");
        assert!(ids[1].starts_with("g#") && ids[1].len() == 10, "{ids:?}");
        assert_eq!(
            warnings,
            vec![format!(
                "line 2: the id \"g\" is also used by line 1; imported as {:?}",
                ids[1]
            )]
        );
    }

    #[test]
    fn derived_ids_follow_the_fields_not_the_order_of_the_file() {
        let mut one = vec![
            talk("g", "Opening", "A", 10),
            talk("g", "Lunch", "B", 12),
            talk("g", "Closing", "C", 17),
        ];
        let mut two = vec![one[0].clone(), one[2].clone(), one[1].clone()];
        assign(&mut one);
        assign(&mut two);
        let id_of = |talks: &[TalkData], title: &str| {
            talks
                .iter()
                .find(|t| t.title == title)
                .and_then(|t| t.source_id.clone())
        };
        for title in ["Opening", "Lunch", "Closing"] {
            assert_eq!(id_of(&one, title), id_of(&two, title), "{title}");
        }
    }

    #[test]
    fn identical_repeats_get_distinct_ids_in_linear_time() {
        let mut talks = vec![talk("same", "Same", "A", 10); 100_000];
        let warnings = assign(&mut talks);
        assert_eq!(warnings.len(), 99_999);
        let unique: std::collections::HashSet<_> = ids_of(&talks).into_iter().collect();
        assert_eq!(unique.len(), 100_000);
    }

    #[test]
    fn a_calendar_of_one_uid_repeated_100_000_times_imports_every_event() {
        let event = "BEGIN:VEVENT\r\nUID:same@example.org\r\nDTSTART:20261227T100000Z\r\n\
                     DTEND:20261227T110000Z\r\nSUMMARY:Same\r\nEND:VEVENT\r\n";
        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{}END:VCALENDAR\r\n",
            event.repeat(100_000)
        );
        let started = std::time::Instant::now();

        let schedule = crate::domain::import::ics::parse(
            &ics,
            &crate::domain::import::ImportOptions::default(),
        )
        .expect("imports");

        assert_eq!(schedule.talks.len(), 100_000);
        assert_eq!(schedule.warnings.len(), 99_999);
        assert_eq!(
            ids_of(&schedule.talks)
                .into_iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            100_000
        );
        // Generous for an unoptimised build on a shared machine; quadratic work would take
        // hours here, not seconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
    }

    #[test]
    fn pretalx_codes_are_read_from_uids_and_urls_only_when_they_look_like_codes() {
        assert_eq!(
            pretalx_code_from_uid("pretalx-nbpy-2026-ERUJ9T@pretalx.northbaypython.org"),
            Some("ERUJ9T")
        );
        assert_eq!(pretalx_code_from_uid("pretalx-x-lower@h"), None);
        assert_eq!(pretalx_code_from_uid("event-123@frab"), None);
        assert_eq!(
            pretalx_code_from_url("https://pretalx.example.com/conf/talk/GK99DE/"),
            Some("GK99DE")
        );
        assert_eq!(
            pretalx_code_from_url("https://pretalx.example.com/conf/talk/GK99DE?x=1"),
            Some("GK99DE")
        );
        assert_eq!(
            pretalx_code_from_url("https://frab.example/events/1234.html"),
            None
        );
    }
}
