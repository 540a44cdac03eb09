//! One VEVENT -> one [`TalkData`].

use super::lexer::{preview, ContentLine};
use super::tree::Component;
use super::when::Zones;
use crate::domain::import::ImportError;
use crate::domain::model::{SpeakerData, TalkData, TalkKind, TalkStatus};
use crate::domain::text::{clean, clean_line};

/// Reads a VEVENT. `pretalx` says whether SUMMARY is pretalx's `"Title - Speaker, Speaker"`.
pub(super) fn talk(
    event: &Component,
    zones: &Zones,
    pretalx: bool,
) -> Result<TalkData, ImportError> {
    let slot = zones.slot(event)?;
    let summary_prop = event.property("SUMMARY");
    let summary = summary_prop.map(ContentLine::text).unwrap_or_default();

    // Our own export names speakers explicitly; only then is SUMMARY certainly the bare title.
    let own_speakers: Vec<&ContentLine> = event.properties_named("X-CONFBOT-SPEAKER").collect();
    let (title, speakers) = if !own_speakers.is_empty() {
        (summary, own_speakers.iter().map(|p| p.text()).collect())
    } else if pretalx {
        split_pretalx_summary(&summary)
    } else {
        (summary, Vec::new())
    };
    // An empty title would make the talk unfindable and unannounceable: refuse it rather than
    // invent "(untitled)".
    let title = clean_line(&title).ok_or_else(|| {
        let line = summary_prop.map_or(event.line, |p| p.line);
        ImportError::at_line(line, "VEVENT without a title (SUMMARY is missing or empty)")
    })?;
    let speakers = speakers
        .iter()
        .filter_map(|name| clean_line(name))
        .map(|name| SpeakerData {
            name,
            ..SpeakerData::default()
        })
        .collect();

    let kind = if slot.all_day {
        TalkKind::Other
    } else {
        match event.property("X-CONFBOT-KIND") {
            Some(prop) => prop
                .text()
                .trim()
                .to_ascii_lowercase()
                .parse()
                .map_err(|_| {
                    ImportError::at_line(
                        prop.line,
                        format!(
                            "X-CONFBOT-KIND {:?} is neither talk nor other",
                            preview(&prop.text())
                        ),
                    )
                })?,
            None => TalkKind::Talk,
        }
    };
    let status = match event.property("STATUS") {
        Some(prop) if prop.text().trim().eq_ignore_ascii_case("CANCELLED") => TalkStatus::Cancelled,
        _ => TalkStatus::Confirmed,
    };
    let track = line_text(event, "X-CONFBOT-TRACK").or_else(|| {
        event
            .property("CATEGORIES")
            .and_then(|p| p.text_list().iter().find_map(|c| clean_line(c)))
    });

    Ok(TalkData {
        source_id: Some(source_id(event, &title)),
        title,
        subtitle: line_text(event, "X-CONFBOT-SUBTITLE"),
        abstract_text: event.property("DESCRIPTION").and_then(|p| clean(&p.text())),
        description: None,
        speakers,
        track,
        level: line_text(event, "X-CONFBOT-LEVEL"),
        talk_type: line_text(event, "X-CONFBOT-TYPE"),
        language: line_text(event, "X-CONFBOT-LANGUAGE"),
        room: line_text(event, "LOCATION"),
        slot: Some(slot),
        status,
        kind,
        // A URI, not TEXT: no escapes to resolve.
        url: event.property("URL").and_then(|p| clean_line(&p.value)),
    })
}

/// A one-line TEXT property, cleaned.
fn line_text(event: &Component, name: &str) -> Option<String> {
    event.property(name).and_then(|p| clean_line(&p.text()))
}

/// pretalx writes SUMMARY as `"{title} - {speaker}, {speaker}"`. Titles may themselves
/// contain " - ", names rarely do, so the split is at the last one.
fn split_pretalx_summary(summary: &str) -> (String, Vec<String>) {
    match summary.rsplit_once(" - ") {
        Some((title, names)) => (
            title.to_owned(),
            names.split(", ").map(str::to_owned).collect(),
        ),
        None => (summary.to_owned(), Vec::new()),
    }
}

/// The UID, or a synthesized id when the event has none.
///
/// Re-imports match talks by this id, so it must be stable. Rather than refusing calendars
/// whose exporter leaves UID out (RFC 5545 requires it, but hand-made and some converted
/// files lack it), we derive `generated-<hash>` from the title and the DTSTART as written:
/// re-importing an unchanged file gives the same ids. The cost: moving or renaming such an
/// event reads as "cancelled + added", which is the best a file without ids allows. The hash
/// is FNV-1a, spelled out here because std's hasher may change between Rust releases.
fn source_id(event: &Component, title: &str) -> String {
    if let Some(uid) = event.property("UID").and_then(|p| clean_line(&p.text())) {
        return uid;
    }
    let start = event.property("DTSTART");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [
        title,
        start.and_then(|p| p.param("TZID")).unwrap_or_default(),
        start.map_or("", |p| p.value.as_str()),
    ];
    for byte in parts.join("\u{0}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("generated-{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretalx_summaries_split_at_the_last_dash() {
        assert_eq!(
            split_pretalx_summary("Rust - the good parts - Ana Lima, Bo Chen"),
            (
                "Rust - the good parts".to_owned(),
                vec!["Ana Lima".to_owned(), "Bo Chen".to_owned()]
            )
        );
        assert_eq!(
            split_pretalx_summary("Lunch"),
            ("Lunch".to_owned(), Vec::new())
        );
    }
}
