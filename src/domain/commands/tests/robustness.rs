use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::domain::model::TalkStatus;
use crate::domain::programme::testing::{programme, talk};
use crate::domain::programme::Programme;
use crate::test_support::proptest_config;

/// Titles, names and rooms full of markdown, mentions, long runs and odd characters.
fn hostile_programme(texts: &[String]) -> Programme {
    let talks = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let start = Utc.with_ymd_and_hms(2026, 4, 25, 8, 0, 0).unwrap()
                + Duration::minutes(17 * i as i64);
            let mut t = talk(text, text, text, &start.to_rfc3339(), 30);
            t.abstract_text = Some(text.repeat(40).into());
            t.track = Some(text.as_str().into());
            t.level = Some(text.as_str().into());
            t.url = Some(format!("https://x.example/{text}").into());
            if i % 3 == 0 {
                t.status = TalkStatus::Cancelled;
            }
            t
        })
        .collect();
    programme(Tz::Pacific__Kiritimati, vec![], talks)
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[*_~`|>#@<&\\[\\]()\\\\ -]{0,30}",
        Just("**@everyone** <@&1> ".repeat(30)),
        Just("é".repeat(300)),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let opt = || proptest::option::of(text());
    prop_oneof![
        text().prop_map(|query| Command::Talk { query }),
        (opt(), opt()).prop_map(|(room, track)| Command::Next { room, track }),
        opt().prop_map(|room| Command::Now { room }),
        (opt(), opt()).prop_map(|(day, room)| Command::Schedule { day, room }),
        text().prop_map(|name| Command::Speaker { name }),
        Just(Command::Help),
    ]
}

proptest! {
    #![proptest_config(proptest_config(48))]

    #[test]
    fn any_command_on_a_hostile_programme_answers_within_limits(
        texts in proptest::collection::vec(text(), 0..12),
        commands in proptest::collection::vec(command(), 1..6),
        minutes in -10_000i64..10_000,
    ) {
        let p = hostile_programme(&texts);
        let now = Utc.with_ymd_and_hms(2026, 4, 25, 8, 0, 0).unwrap() + Duration::minutes(minutes);
        for command in &commands {
            let reply = answer(&p, now, command);
            assert_within_limits(&reply);
            for message in &reply.messages {
                prop_assert!(!message.content.contains("@everyone"));
                for embed in &message.embeds {
                    prop_assert!(!embed.title.contains("@everyone"));
                    prop_assert!(!embed.description.contains("@everyone"));
                }
            }
        }
    }

    #[test]
    fn any_typed_text_autocompletes_within_limits(
        texts in proptest::collection::vec(text(), 0..12),
        typed in text(),
    ) {
        let p = hostile_programme(&texts);
        for field in [
            AutocompleteField::TalkQuery,
            AutocompleteField::SpeakerName,
            AutocompleteField::Room,
            AutocompleteField::Track,
            AutocompleteField::Day,
        ] {
            let choices = autocomplete(&p, field, &typed);
            prop_assert!(choices.len() <= limits::AUTOCOMPLETE_CHOICES);
            for choice in choices {
                prop_assert!((1..=limits::CHOICE_NAME).contains(&choice.name.chars().count()));
                prop_assert!((1..=limits::CHOICE_VALUE).contains(&choice.value.chars().count()));
            }
        }
    }
}

#[test]
fn a_huge_abstract_is_trimmed_to_the_embed_limits() {
    let mut t = talk("Big", "Ann", "Hall", "2026-04-25T10:00:00Z", 30);
    t.abstract_text = Some("word ".repeat(5000).into());
    t.speakers[0].name = "N".repeat(3000);
    let p = programme(Tz::UTC, vec![], vec![t]);

    let reply = answer(
        &p,
        Utc.with_ymd_and_hms(2026, 4, 25, 9, 0, 0).unwrap(),
        &Command::Talk {
            query: "big".to_owned(),
        },
    );

    assert_within_limits(&reply);
    assert_eq!(
        reply.messages[0].embeds[0].description.chars().count(),
        limits::EMBED_DESCRIPTION
    );
    assert!(reply.messages[0].embeds[0].description.ends_with('…'));
}

#[test]
fn a_right_to_left_override_in_a_title_cannot_reverse_the_rest_of_the_line() {
    let spoof = talk(
        "\u{202e}Evil",
        "Ann\u{2067}",
        "Hall",
        "2026-04-25T10:00:00Z",
        30,
    );
    let p = programme(Tz::UTC, vec![], vec![spoof]);

    let reply = answer(
        &p,
        Utc.with_ymd_and_hms(2026, 4, 25, 9, 0, 0).unwrap(),
        &Command::Next {
            room: None,
            track: None,
        },
    );

    assert_eq!(
        content(&reply),
        "**Evil** — Ann: starts <t:1777111200:R> in Hall (<t:1777111200:t>)"
    );
}
