//! One VEVENT -> one [`TalkData`].

use std::sync::Arc;

use super::lexer::{preview, ContentLine};
use super::speakers::{self, Credits, SpeakerRule, Summary};
use super::tree::Component;
use super::when::Zones;
use crate::domain::import::ImportError;
use crate::domain::model::{SpeakerData, TalkData, TalkKind, TalkStatus};
use crate::domain::text::{clean_line, clean_owned};

/// Reads a VEVENT, and which rule found its speakers (see [`speakers`]). `owner` is the
/// calendar's own organiser, never taken for a speaker.
pub(super) fn talk(
    event: &Component,
    zones: &Zones,
    read_summary: Summary,
    owner: Option<&str>,
) -> Result<(TalkData, Option<SpeakerRule>), ImportError> {
    let slot = zones.slot(event)?;
    let summary_prop = event.property("SUMMARY");
    let summary = summary_prop.map(ContentLine::text).unwrap_or_default();
    let description = event
        .property("DESCRIPTION")
        .and_then(|p| clean_owned(p.text()));
    let Credits {
        title,
        speakers,
        description,
        rule,
    } = speakers::credits(event, summary, description, read_summary, owner);
    // An empty title would make the talk unfindable and unannounceable: refuse it rather than
    // invent "(untitled)".
    let title = clean_line(&title).ok_or_else(|| {
        let line = summary_prop.map_or(event.line, |p| p.line);
        ImportError::at_line(line, "VEVENT without a title (SUMMARY is missing or empty)")
    })?;
    let mut speakers: Vec<SpeakerData> = speakers
        .iter()
        .filter_map(|name| clean_line(name))
        .map(|name| SpeakerData {
            name,
            ..SpeakerData::default()
        })
        .collect();
    // Collected as they are found, a list of one speaker has room for four, and talks are
    // held until the import is written. Shrunk where it lies, unlike schedule.json's persons
    // (`pretalx_json::wire::Speakers`): not looked at in the heap, but this format's peak did
    // not rise when the speaker shrank (BENCHMARKS.md).
    speakers.shrink_to_fit();

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

    let talk = TalkData {
        source_id: Some(source_id(event, &title).into()),
        title,
        subtitle: line_text(event, "X-CONFBOT-SUBTITLE").map(Into::into),
        abstract_text: description.map(Into::into),
        description: None,
        speakers,
        track: track.map(Arc::from),
        level: line_text(event, "X-CONFBOT-LEVEL").map(Arc::from),
        talk_type: line_text(event, "X-CONFBOT-TYPE").map(Arc::from),
        language: line_text(event, "X-CONFBOT-LANGUAGE").map(Arc::from),
        room: line_text(event, "LOCATION").map(Arc::from),
        slot: Some(slot),
        status,
        kind,
        // A URI, not TEXT: no escapes to resolve.
        url: event
            .property("URL")
            .and_then(|p| clean_line(&p.value))
            .map(Into::into),
    };
    Ok((talk, rule))
}

/// A one-line TEXT property, cleaned.
fn line_text(event: &Component, name: &str) -> Option<String> {
    event.property(name).and_then(|p| clean_line(&p.text()))
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
        start.map_or("", |p| p.value.as_ref()),
    ];
    for byte in parts.join("\u{0}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("generated-{hash:016x}")
}
