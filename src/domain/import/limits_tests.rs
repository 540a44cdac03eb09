use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::*;
use crate::domain::export;
use crate::domain::import::{parse, Format, ImportOptions};
use crate::domain::model::{
    Conference, ConferenceSlug, ScheduleScope, Slot, SpeakerData, StoredTalk, TalkId,
};

/// A calendar of one event with the given extra property lines.
fn calendar(event_lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n\
         BEGIN:VEVENT\r\nUID:first@example\r\nDTSTART:20260425T100000Z\r\n\
         DTEND:20260425T103000Z\r\nSUMMARY:Fine\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:long@example\r\n{event_lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn import(text: &str) -> Result<ImportedSchedule, ImportError> {
    parse(
        text.as_bytes(),
        Some(Format::Ics),
        &ImportOptions::default(),
    )
}

const SLOT: &str = "DTSTART:20260425T110000Z\r\nDTEND:20260425T113000Z\r\n";

#[test]
fn a_title_over_the_limit_is_refused_naming_the_talk_the_field_the_line_and_the_limit() {
    let title = "t".repeat(3_000);
    let err = import(&calendar(&format!("{SLOT}SUMMARY:{title}\r\n"))).unwrap_err();

    let message = err.to_string();
    assert!(message.starts_with("line 11: talk \"tttt"), "{message}");
    assert!(message.contains("(id long@example)"), "{message}");
    assert!(
        message.contains("the title is 3000 characters long, over the limit of 500"),
        "{message}"
    );
}

#[test]
fn a_room_name_over_the_limit_is_refused() {
    let room = "r".repeat(20_000);
    let err = import(&calendar(&format!(
        "{SLOT}SUMMARY:Long room\r\nLOCATION:{room}\r\n"
    )))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("talk \"Long room\" (id long@example): the room is 20000 characters long, over the limit of 200"),
        "{err}"
    );
}

/// A biography is shared between a person's talks: cut in each, warned about in each, and
/// one that needs no cut stays the shared text.
#[test]
fn a_shared_over_long_biography_is_cut_in_every_talk_and_a_short_one_stays_shared() {
    let long: Arc<str> = "é".repeat(MAX_PROSE_CHARS + 5).into();
    let short: Arc<str> = "Short.".into();
    let speakers = vec![
        SpeakerData {
            name: "Ann".into(),
            biography: Some(Arc::clone(&long)),
            ..SpeakerData::default()
        },
        SpeakerData {
            name: "Bo".into(),
            biography: Some(Arc::clone(&short)),
            ..SpeakerData::default()
        },
    ];
    let mut schedule = ImportedSchedule::new(ScheduleScope::Catalogue);
    for title in ["One", "Two"] {
        schedule.talks.push(TalkData {
            title: title.into(),
            speakers: speakers.clone(),
            ..TalkData::default()
        });
    }

    enforce(&mut schedule, None).unwrap();

    for talk in &schedule.talks {
        let ann = talk.speakers[0].biography.as_deref().unwrap();
        assert_eq!(ann.chars().count(), MAX_PROSE_CHARS, "{}", talk.title);
        assert!(long.starts_with(ann));
        let bo = talk.speakers[1].biography.as_ref().unwrap();
        assert!(Arc::ptr_eq(bo, &short), "{}", talk.title);
    }
    let warning = |title: &str| {
        format!(
            "talk \"{title}\": the speaker biography is longer than {MAX_PROSE_CHARS} \
             characters; cut to {MAX_PROSE_CHARS}"
        )
    };
    assert_eq!(schedule.warnings, [warning("One"), warning("Two")]);
}

#[test]
fn an_over_long_abstract_is_cut_with_a_warning_and_the_talk_is_kept() {
    let abstract_text = "a".repeat(MAX_PROSE_CHARS + 10);
    let schedule = import(&calendar(&format!(
        "{SLOT}SUMMARY:Wordy\r\nDESCRIPTION:{abstract_text}\r\n"
    )))
    .unwrap();

    let talk = &schedule.talks[1];
    assert_eq!(talk.title, "Wordy");
    assert_eq!(
        talk.abstract_text.as_deref().map(|a| a.chars().count()),
        Some(MAX_PROSE_CHARS)
    );
    assert_eq!(
        schedule.warnings,
        vec![format!(
            "line 11: talk \"Wordy\" (id long@example): the abstract is longer than \
             {MAX_PROSE_CHARS} characters; cut to {MAX_PROSE_CHARS}"
        )]
    );
}

#[test]
fn cutting_never_splits_a_multi_byte_character() {
    let mut text = "é".repeat(5);
    assert!(cut(&mut text, 3));
    assert_eq!(text, "ééé");
    assert!(!cut(&mut text, 3));
    let mut boxed: Box<str> = "aé🎉b".into();
    assert!(cut_boxed(&mut boxed, 3));
    assert_eq!(&*boxed, "aé🎉");
    assert!(!cut_boxed(&mut boxed, 3));
    assert_eq!(&*boxed, "aé🎉");
}

#[test]
fn a_thirty_day_talk_is_refused_as_a_likely_typo() {
    let err = import(&calendar(
        "DTSTART:20260425T110000Z\r\nDTEND:20260525T113000Z\r\nSUMMARY:Month\r\n",
    ))
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("talk \"Month\" (id long@example): it lasts 30 days"),
        "{message}"
    );
    assert!(message.contains("longer than the 7 days"), "{message}");
}

#[test]
fn a_multi_day_all_day_item_is_accepted() {
    let text =
        calendar("DTSTART;VALUE=DATE:20260425\r\nDTEND;VALUE=DATE:20260428\r\nSUMMARY:Expo\r\n");
    let options = ImportOptions {
        time_zone: Some(Tz::Europe__Berlin),
        ..ImportOptions::default()
    };
    let schedule = parse(text.as_bytes(), Some(Format::Ics), &options).unwrap();
    assert!(schedule.talks[1].slot.unwrap().all_day);
}

#[test]
fn an_instant_before_1970_is_refused() {
    let err = import(&calendar(
        "DTSTART:19691231T230000Z\r\nDTEND:19700101T010000Z\r\nSUMMARY:Early\r\n",
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the start 1969-12-31 23:00 UTC is outside the accepted years 1970 to 9999"),
        "{err}"
    );
}

fn slot_talk(title: &str, start: &str, end: &str) -> TalkData {
    TalkData {
        source_id: Some(format!("{title}@example").into()),
        title: title.to_owned(),
        slot: Some(Slot {
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
            all_day: false,
        }),
        ..TalkData::default()
    }
}

fn held(talks: Vec<TalkData>) -> Result<ImportedSchedule, ImportError> {
    let mut schedule = ImportedSchedule::new(crate::domain::model::ScheduleScope::Timetable);
    schedule.talks = talks;
    enforce(&mut schedule, Some("")).map(|()| schedule)
}

#[test]
fn an_end_after_9999_is_refused() {
    let err = held(vec![slot_talk(
        "late",
        "9999-12-31T23:00:00Z",
        "+10000-01-01T00:30:00Z",
    )])
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the end +10000-01-01 00:30 UTC is outside the accepted years"),
        "{err}"
    );
}

#[test]
fn the_first_and_last_accepted_instants_survive_the_ics_and_json_export_round_trip() {
    let edges = vec![
        slot_talk("first", "1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"),
        slot_talk("last", "9999-12-31T22:59:59Z", "9999-12-31T23:59:59Z"),
    ];
    let accepted = held(edges).unwrap().talks;
    let stored: Vec<StoredTalk> = accepted
        .iter()
        .enumerate()
        .map(|(i, data)| StoredTalk {
            id: TalkId(i64::try_from(i).unwrap()),
            schedule_version: 1,
            data: data.clone(),
        })
        .collect();
    let conference = Conference {
        slug: ConferenceSlug::parse("edges").unwrap(),
        name: "Edges".to_owned(),
        time_zone: Tz::UTC,
        source_url: None,
    };

    let ics = export::ics::to_ics(&conference, &stored, chrono::DateTime::UNIX_EPOCH);
    let reimported = import(&ics).unwrap();
    let slots: Vec<Option<Slot>> = reimported.talks.iter().map(|t| t.slot).collect();
    let expected: Vec<Option<Slot>> = accepted.iter().map(|t| t.slot).collect();
    assert_eq!(slots, expected);

    let json: serde_json::Value = serde_json::from_str(&export::json::to_json(&stored)).unwrap();
    for (exported, talk) in json.as_array().unwrap().iter().zip(&accepted) {
        let slot = talk.slot.unwrap();
        for (key, instant) in [("start", slot.start), ("end", slot.end)] {
            let text = exported[key].as_str().unwrap();
            let back: DateTime<Utc> = DateTime::parse_from_rfc3339(text).unwrap().into();
            assert_eq!(back, instant, "{text}");
        }
    }
}

#[test]
fn an_all_day_item_ending_on_the_last_day_of_9999_is_refused_because_its_export_would_end_in_10000()
{
    let mut talk = slot_talk("party", "9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z");
    talk.slot.as_mut().unwrap().all_day = true;
    let err = held(vec![talk]).unwrap_err();
    assert!(
        err.to_string().contains("after the last accepted day"),
        "{err}"
    );
}
