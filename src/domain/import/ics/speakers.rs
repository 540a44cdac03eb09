//! Who speaks at a VEVENT. iCalendar has no speaker property, so generators put them in
//! different places; each rule below is one such place, tried in this order, and the import
//! says which rule found the speakers (never a silent guess):
//!
//! 1. `X-CONFBOT-SPEAKER` (our own export);
//! 2. SUMMARY `Title - Speaker, Speaker`: pretalx files (by PRODID), or any file when the
//!    organiser says so (`--summary-speakers`), since a dash in a plain title is common;
//! 3. `ATTENDEE;CN=…` (every attendee but a `ROLE=NON-PARTICIPANT`);
//! 4. `ORGANIZER;CN=…`, unless one organiser is on every event (the calendar's owner);
//! 5. a `Speaker:` / `Speakers:` / `Speaker(s):` / `Presenter(s):` line at the start or end
//!    of DESCRIPTION, which is then removed from the abstract.

use super::lexer::ContentLine;
use super::tree::Component;

/// Which rule named an event's speakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpeakerRule {
    Explicit,
    PretalxSummary,
    SummarySwitch,
    Attendee,
    Organizer,
    DescriptionLine,
}

impl SpeakerRule {
    /// How the import summary names the rule.
    pub fn describe(self) -> &'static str {
        match self {
            SpeakerRule::Explicit => "X-CONFBOT-SPEAKER",
            SpeakerRule::PretalxSummary => "the SUMMARY \"Title - Speaker\" (a pretalx file)",
            SpeakerRule::SummarySwitch => {
                "the SUMMARY \"Title - Speaker\" (as asked with --summary-speakers)"
            }
            SpeakerRule::Attendee => "ATTENDEE CN",
            SpeakerRule::Organizer => "ORGANIZER CN",
            SpeakerRule::DescriptionLine => "a \"Speaker:\" line in DESCRIPTION",
        }
    }
}

/// How SUMMARY is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Summary {
    /// The bare title.
    Title,
    /// `Title - Speaker, Speaker`, because the file is pretalx's.
    Pretalx,
    /// `Title - Speaker, Speaker`, because the organiser said so.
    Switched,
}

/// An event's title, speakers and abstract, and the rule that found the speakers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Credits {
    pub title: String,
    pub speakers: Vec<String>,
    pub description: Option<String>,
    pub rule: Option<SpeakerRule>,
}

/// Reads the credits of `event`. `owner` is the calendar's organiser (see [`Owner`]).
pub(super) fn credits(
    event: &Component,
    summary: String,
    description: Option<String>,
    read_summary: Summary,
    owner: Option<&str>,
) -> Credits {
    let found = |title, speakers: Vec<String>, description, rule| Credits {
        title,
        speakers,
        description,
        rule: Some(rule),
    };
    let explicit: Vec<String> = event
        .properties_named("X-CONFBOT-SPEAKER")
        .map(ContentLine::text)
        .collect();
    if !explicit.is_empty() {
        return found(summary, explicit, description, SpeakerRule::Explicit);
    }
    let mut title = summary;
    if read_summary != Summary::Title {
        let (bare, speakers) = split_summary(&title);
        if !speakers.is_empty() {
            let rule = match read_summary {
                Summary::Pretalx => SpeakerRule::PretalxSummary,
                _ => SpeakerRule::SummarySwitch,
            };
            return found(bare, speakers, description, rule);
        }
        title = bare;
    }
    let attendees: Vec<String> = event
        .properties_named("ATTENDEE")
        .filter(|p| {
            !p.param("ROLE")
                .is_some_and(|role| role.eq_ignore_ascii_case("NON-PARTICIPANT"))
        })
        .filter_map(common_name)
        .collect();
    if !attendees.is_empty() {
        return found(title, attendees, description, SpeakerRule::Attendee);
    }
    let organizer = event
        .property("ORGANIZER")
        .and_then(common_name)
        .filter(|name| Some(name.as_str()) != owner);
    if let Some(name) = organizer {
        return found(title, vec![name], description, SpeakerRule::Organizer);
    }
    if let Some((speakers, rest)) = description.as_deref().and_then(speaker_line) {
        return found(title, speakers, rest, SpeakerRule::DescriptionLine);
    }
    Credits {
        title,
        speakers: Vec::new(),
        description,
        rule: None,
    }
}

/// The calendar's owner, learnt as its events arrive: the organiser named on every event of
/// a calendar with more than one event (a conference account, a team), not a speaker.
#[derive(Debug, Default)]
pub(super) enum Owner {
    /// No event seen yet.
    #[default]
    Unknown,
    /// Every event so far names this organiser.
    Candidate { name: String, events: usize },
    /// An event without an organiser, or with another one: the calendar has no owner.
    RuledOut,
}

impl Owner {
    /// Takes the calendar's next event.
    pub(super) fn see(&mut self, event: &Component) {
        let name = event.property("ORGANIZER").and_then(common_name);
        *self = match (std::mem::take(self), name) {
            (Owner::Unknown, Some(name)) => Owner::Candidate { name, events: 1 },
            (Owner::Candidate { name, events }, Some(next)) if next == name => Owner::Candidate {
                name,
                events: events + 1,
            },
            _ => Owner::RuledOut,
        };
    }

    pub(super) fn is_ruled_out(&self) -> bool {
        matches!(self, Owner::RuledOut)
    }

    /// The owner, once every event has been seen.
    pub(super) fn settled(&self) -> Option<&str> {
        match self {
            Owner::Candidate { name, events } if *events > 1 => Some(name),
            _ => None,
        }
    }
}

/// A person's name from the `CN` parameter; `None` when there is none, or it is only an
/// address.
fn common_name(property: &ContentLine) -> Option<String> {
    let name = property.param("CN")?.trim();
    (!name.is_empty() && !name.contains('@')).then(|| name.to_owned())
}

/// pretalx writes SUMMARY as `"{title} - {speaker}, {speaker}"`. Titles may themselves
/// contain " - ", names never do: split at the last one.
pub(super) fn split_summary(summary: &str) -> (String, Vec<String>) {
    match summary.rsplit_once(" - ") {
        Some((title, names)) if !title.trim().is_empty() => (
            title.to_owned(),
            names
                .split(", ")
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        _ => (summary.to_owned(), Vec::new()),
    }
}

/// `Speaker: A, B and C` as the first or last non-empty line of a description: the names and
/// the description without that line.
fn speaker_line(description: &str) -> Option<(Vec<String>, Option<String>)> {
    let lines: Vec<&str> = description.lines().collect();
    let first = lines.iter().position(|l| !l.trim().is_empty())?;
    let last = lines.iter().rposition(|l| !l.trim().is_empty())?;
    for index in [first, last] {
        let Some(names) = names_after_label(lines[index]) else {
            continue;
        };
        let rest: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, line)| *line)
            .collect();
        let rest = rest.join("\n").trim().to_owned();
        return Some((names, (!rest.is_empty()).then_some(rest)));
    }
    None
}

fn names_after_label(line: &str) -> Option<Vec<String>> {
    const LABELS: [&str; 6] = [
        "speakers",
        "speaker(s)",
        "speaker",
        "presenters",
        "presenter(s)",
        "presenter",
    ];
    let (label, names) = line.trim().split_once(':')?;
    let label = label.trim().to_lowercase();
    if !LABELS.contains(&label.as_str()) {
        return None;
    }
    let names = split_names(names);
    (!names.is_empty()).then_some(names)
}

/// `A, B and C` / `A & B` / `A; B` into names.
fn split_names(names: &str) -> Vec<String> {
    names
        .split([',', ';', '&'])
        .flat_map(|part| part.split(" and "))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_split_at_the_last_dash() {
        assert_eq!(
            split_summary("Rust - the good parts - Ana Lima, Bo Chen"),
            (
                "Rust - the good parts".to_owned(),
                vec!["Ana Lima".to_owned(), "Bo Chen".to_owned()]
            )
        );
        assert_eq!(split_summary("Lunch"), ("Lunch".to_owned(), Vec::new()));
        assert_eq!(split_summary(" - Ana"), (" - Ana".to_owned(), Vec::new()));
    }

    #[test]
    fn a_speaker_line_is_read_at_the_start_or_the_end_of_a_description() {
        assert_eq!(
            speaker_line("Speakers: Ana Lima and Bo Chen\n\nAbout memory."),
            Some((
                vec!["Ana Lima".to_owned(), "Bo Chen".to_owned()],
                Some("About memory.".to_owned())
            ))
        );
        assert_eq!(
            speaker_line("About memory.\nSpeaker(s): Zoë Ødegård & Li Wei\n"),
            Some((
                vec!["Zoë Ødegård".to_owned(), "Li Wei".to_owned()],
                Some("About memory.".to_owned())
            ))
        );
        assert_eq!(
            speaker_line("Presenter: Ana"),
            Some((vec!["Ana".to_owned()], None))
        );
        assert_eq!(speaker_line("About memory.\nNote: bring a laptop"), None);
        assert_eq!(
            speaker_line("First\nSpeaker: Ana\nLast"),
            None,
            "only first or last"
        );
        assert_eq!(speaker_line("Speaker:   "), None);
    }
}
