//! Real-world encodings (`decode.rs`) end to end: one small pretalx-style conference written
//! as Windows-1252, UTF-16 LE and BE with a BOM, CR-only line endings, and folded in the
//! middle of UTF-8 characters, each read talk by talk to the same programme.

use super::{parse, ImportOptions};
use crate::domain::model::ImportedSchedule;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/real-world/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn import(name: &str) -> ImportedSchedule {
    parse(&fixture(name), None, &ImportOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (start, title, speakers, room) per talk.
fn programme(schedule: &ImportedSchedule) -> Vec<(String, String, String, String)> {
    schedule
        .talks
        .iter()
        .map(|t| {
            let speakers: Vec<&str> = t.speakers.iter().map(|s| s.name.as_str()).collect();
            (
                t.slot.map(|s| s.start.to_rfc3339()).unwrap_or_default(),
                t.title.clone(),
                speakers.join(", "),
                t.room.as_deref().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn expected() -> Vec<(String, String, String, String)> {
    let row = |at: &str, title: &str, speakers: &str| {
        (
            at.to_owned(),
            title.to_owned(),
            speakers.to_owned(),
            "Salle Éole".to_owned(),
        )
    };
    vec![
        row(
            "2027-06-10T07:30:00+00:00",
            "Crème brûlée for engineers",
            "Zoë Ødegård, José Müller",
        ),
        row("2027-06-10T08:30:00+00:00", "Naïve façades", "Håkon Ærø"),
    ]
}

#[test]
fn windows_1252_is_read_with_one_warning() {
    let schedule = import("encoding-windows-1252.ics");

    assert_eq!(programme(&schedule), expected());
    assert_eq!(schedule.name.as_deref(), Some("Café Conf"));
    assert_eq!(
        schedule.talks[0].abstract_text.as_deref(),
        Some("Why don’t we – ever – measure?")
    );
    assert_eq!(
        schedule.warnings,
        [
            "line 4: the file is not UTF-8; it was read as Windows-1252 (Latin-1), so check \
          accented names"
        ]
    );
}

#[test]
fn utf16_with_a_bom_is_read_either_way_round() {
    for name in ["encoding-utf16le-bom.ics", "encoding-utf16be-bom.ics"] {
        let schedule = import(name);

        assert_eq!(programme(&schedule), expected(), "{name}");
        assert!(
            schedule.warnings.is_empty(),
            "{name}: {:?}",
            schedule.warnings
        );
    }
}

#[test]
fn cr_only_line_endings_are_lines() {
    let schedule = import("line-endings-cr-only.ics");

    assert_eq!(programme(&schedule), expected());
}

#[test]
fn a_character_folded_in_half_is_whole_again() {
    let schedule = import("folded-mid-character.ics");

    assert_eq!(programme(&schedule), expected());
    let description = schedule.talks[0]
        .abstract_text
        .as_deref()
        .unwrap_or_default();
    assert!(
        description.starts_with("Why don’t we – ever – measure? Benchmarks that lie, oo and")
            && description.ends_with("queues – and don’t forget Zoë."),
        "{description}"
    );
    assert!(schedule.warnings.is_empty(), "{:?}", schedule.warnings);
}
