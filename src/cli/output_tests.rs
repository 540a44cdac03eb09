//! The import report, conference list and programme as the CLI prints them.

use super::*;
use crate::domain::diff::Field;
use crate::domain::model::{ConferenceSlug, Slot, TalkData, TalkId};

fn conference() -> Conference {
    Conference {
        slug: ConferenceSlug::parse("nbpy-2026").expect("slug"),
        name: "NBPy".to_owned(),
        time_zone: Tz::America__Los_Angeles,
        source_url: None,
    }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

#[test]
fn an_import_report_shows_moves_in_the_conference_zone() {
    let diff = ImportDiff {
        changed: vec![DiffEntry {
            talk_id: Some(1),
            source_id: Some("A".to_owned()),
            title: "Glue".to_owned(),
            fields: vec![Field::Start, Field::Room],
            before: Some(Box::new(Placement {
                start: Some(at("2026-04-25T22:45:00Z")),
                end: None,
                room: Some("Barn".to_owned()),
                status: TalkStatus::Confirmed,
            })),
            after: Placement {
                start: Some(at("2026-04-25T23:45:00Z")),
                end: None,
                room: Some("Loft".to_owned()),
                status: TalkStatus::Confirmed,
            },
        }],
        unchanged: 3,
        ..ImportDiff::default()
    };

    let report = import_report(&conference(), &diff, false).to_string();

    assert_eq!(
        report,
        "nbpy-2026 (America/Los_Angeles): 0 added, 1 changed, 0 cancelled, 3 unchanged\n  \
         ~ Glue: changed start, room (was Sat 25 Apr 15:45 PDT, Barn; now Sat 25 Apr 16:45 PDT, Loft)\n"
    );
}

#[test]
fn a_talk_outside_the_conference_year_shows_its_year_in_the_report() {
    let added = |id: i64, title: &str, start: &str| DiffEntry {
        talk_id: Some(id),
        source_id: None,
        title: title.to_owned(),
        fields: Vec::new(),
        before: None,
        after: Placement {
            start: Some(at(start)),
            end: None,
            room: None,
            status: TalkStatus::Confirmed,
        },
    };
    let diff = ImportDiff {
        added: vec![
            added(1, "Opening", "2026-04-25T16:00:00Z"),
            added(2, "Typo", "2062-04-25T16:00:00Z"),
            added(3, "Closing", "2026-04-26T23:00:00Z"),
        ],
        ..ImportDiff::default()
    };

    let report = import_report(&conference(), &diff, false).to_string();

    assert!(
        report.contains("+ Opening: Sat 25 Apr 09:00 PDT\n"),
        "{report}"
    );
    assert!(
        report.contains("+ Typo: Tue 25 Apr 2062 09:00 PDT\n"),
        "{report}"
    );
}

#[test]
fn a_cancelled_talk_says_so_in_the_report() {
    let cancelled = Placement {
        start: Some(at("2026-04-25T22:45:00Z")),
        end: None,
        room: Some("Barn".to_owned()),
        status: TalkStatus::Cancelled,
    };
    let diff = ImportDiff {
        added: vec![DiffEntry {
            talk_id: Some(2),
            source_id: None,
            title: "Gone".to_owned(),
            fields: vec![],
            before: None,
            after: cancelled.clone(),
        }],
        changed: vec![DiffEntry {
            talk_id: Some(1),
            source_id: None,
            title: "Back".to_owned(),
            fields: vec![Field::Status],
            before: Some(Box::new(cancelled.clone())),
            after: Placement {
                status: TalkStatus::Confirmed,
                ..cancelled
            },
        }],
        ..ImportDiff::default()
    };

    let report = import_report(&conference(), &diff, false).to_string();

    assert!(
        report.contains("+ Gone: Sat 25 Apr 15:45 PDT, Barn, cancelled\n"),
        "{report}"
    );
    assert!(
        report.contains(
            "~ Back: changed status (was Sat 25 Apr 15:45 PDT, Barn, cancelled; now Sat 25 Apr 15:45 PDT, Barn)"
        ),
        "{report}"
    );
}

#[test]
fn the_programme_groups_talks_by_local_day_not_utc_date() {
    // 02:00 UTC on the 26th is the evening of the 25th in Los Angeles.
    let talk = |id: i64, title: &str, start: &str, end: &str| StoredTalk {
        id: TalkId(id),
        schedule_version: 1,
        data: TalkData {
            title: title.to_owned(),
            room: Some("Barn".into()),
            slot: Some(Slot {
                start: at(start),
                end: at(end),
                all_day: false,
            }),
            ..TalkData::default()
        },
    };
    let talks = [
        talk(1, "Evening", "2026-04-26T02:00:00Z", "2026-04-26T02:30:00Z"),
        talk(
            2,
            "Next morning",
            "2026-04-26T16:00:00Z",
            "2026-04-26T16:30:00Z",
        ),
    ];

    let text = programme(&conference(), &talks);

    assert_eq!(
        text,
        "NBPy — times in America/Los_Angeles\n\nSaturday 25 April 2026\n  \
         19:00–19:30  Barn     Evening\n\nSunday 26 April 2026\n  \
         09:00–09:30  Barn     Next morning\n"
    );
}

/// Standard output whose reader stops after `room` bytes, failing then with `kind`.
struct Reader {
    read: Vec<u8>,
    room: usize,
    kind: std::io::ErrorKind,
}

impl std::io::Write for Reader {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.room - self.read.len());
        if n == 0 {
            return Err(self.kind.into());
        }
        self.read.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A first import's report, longer than the buffer it is printed through.
fn long_diff() -> ImportDiff {
    let added = (0..3_000)
        .map(|i| DiffEntry {
            talk_id: Some(i),
            source_id: None,
            title: format!("Talk number {i}"),
            fields: Vec::new(),
            before: None,
            after: Placement {
                start: Some(at("2026-04-25T22:45:00Z")),
                end: None,
                room: Some("Barn".to_owned()),
                status: TalkStatus::Confirmed,
            },
        })
        .collect();
    ImportDiff {
        added,
        ..ImportDiff::default()
    }
}

#[test]
fn a_report_is_printed_whole_through_the_buffer() {
    let (conference, diff) = (conference(), long_diff());
    let report = import_report(&conference, &diff, false);
    let whole = report.to_string();
    assert!(whole.len() > 1 << 16, "{} bytes", whole.len());
    let mut reader = Reader {
        read: Vec::new(),
        room: usize::MAX,
        kind: std::io::ErrorKind::BrokenPipe,
    };

    emit_to(&mut reader, format_args!("{report}")).expect("printed");

    assert_eq!(String::from_utf8(reader.read).expect("utf-8"), whole);
}

#[test]
fn a_reader_that_goes_away_mid_report_ends_it_as_a_closed_stdout_and_other_errors_stay_errors() {
    let (conference, diff) = (conference(), long_diff());
    let report = import_report(&conference, &diff, false);
    let whole = report.to_string();
    let mut reader = Reader {
        read: Vec::new(),
        room: 10_000,
        kind: std::io::ErrorKind::BrokenPipe,
    };

    let error = emit_to(&mut reader, format_args!("{report}")).expect_err("the pipe closed");

    assert!(error.is::<StdoutClosed>(), "{error:#}");
    assert_eq!(reader.read.len(), 10_000);
    assert!(whole.as_bytes().starts_with(&reader.read));

    let mut full = Reader {
        read: Vec::new(),
        room: 10_000,
        kind: std::io::ErrorKind::PermissionDenied,
    };
    let error = emit_to(&mut full, format_args!("{report}")).expect_err("writing is refused");
    assert!(!error.is::<StdoutClosed>(), "{error:#}");
}
