use chrono_tz::Tz;

use super::*;
use crate::domain::commands::{
    answer, Button, ButtonAction, Embed, EmbedField, Message, Visibility,
};
use crate::domain::model::TalkId;
use crate::domain::programme::testing::{seed, utc};

fn parsed(line: &str) -> Command {
    parse_line(line).expect("parses").expect("a command")
}

#[test]
fn options_are_read_plain_quoted_and_up_to_the_next_option() {
    assert_eq!(
        parsed("/next room:Barn"),
        Command::Next {
            room: Some("Barn".to_owned()),
            track: None
        }
    );
    assert_eq!(
        parsed(r#"/talk query:"glue \"compute\"""#),
        Command::Talk {
            query: "glue \"compute\"".to_owned()
        }
    );
    assert_eq!(
        parsed("schedule room:Main Hall day:2026-04-25"),
        Command::Schedule {
            day: Some("2026-04-25".to_owned()),
            room: Some("Main Hall".to_owned())
        }
    );
    assert_eq!(
        parsed("/talk glue compute"),
        Command::Talk {
            query: "glue compute".to_owned()
        }
    );
    assert_eq!(parsed("  /HELP "), Command::Help);
    assert_eq!(parse_line("   "), Ok(None));
    assert_eq!(parse_line("# a comment"), Ok(None));
}

#[test]
fn unknown_commands_options_and_missing_values_are_one_line_errors() {
    let message = |line: &str| parse_line(line).expect_err("refused").to_string();

    assert_eq!(
        message("/dance"),
        "unknown command \"/dance\": try /talk, /next, /now, /schedule, /speaker or /help"
    );
    assert_eq!(
        message("/now track:Web"),
        "/now has no option \"track\"; its options: room"
    );
    assert_eq!(
        message("/talk"),
        "/talk needs query:VALUE, e.g. /talk query:\"...\""
    );
    assert_eq!(message("/next Barn"), "expected name:value, found \"Barn\"");
    assert_eq!(
        message("/talk query:\"open"),
        "a quoted value is missing its closing \""
    );
}

#[test]
fn text_loses_its_escapes_and_timestamps_show_in_the_conference_zone() {
    let la = Tz::America__Los_Angeles;
    let now = utc("2026-04-25T22:00:00Z");

    let shown = render_text(
        "**\\*\\*@\u{200b}everyone\\*\\*** starts <t:1777157100:R> in Barn (<t:1777157100:t>), \
         on <t:1777157100:F>, <t:1777157100:f>; ended <t:1777058600:R>",
        la,
        now,
    );

    assert_eq!(
        shown,
        "**@everyone** starts in 45 minutes in Barn (15:45), on Saturday 25 April 2026 15:45 \
         PDT, Sat 25 Apr 2026 15:45 PDT; ended 1 day 2 hours ago"
    );
}

#[test]
fn a_subtext_line_is_shown_as_plain_text_but_only_at_a_line_start() {
    let shown = render_text(
        "❓ a -# b\n-# asked by someone",
        Tz::UTC,
        utc("2026-04-25T22:00:00Z"),
    );
    assert_eq!(shown, "❓ a -# b\nasked by someone");
}

#[test]
fn relative_times_read_naturally() {
    let now = utc("2026-04-25T22:00:00Z");
    let at = |s: &str| relative(utc(s), now);

    assert_eq!(at("2026-04-25T22:00:00Z"), "now");
    assert_eq!(at("2026-04-25T22:00:30Z"), "in 30 seconds");
    assert_eq!(at("2026-04-25T22:01:00Z"), "in 1 minute");
    assert_eq!(at("2026-04-25T23:10:00Z"), "in 1 hour 10 minutes");
    assert_eq!(at("2026-04-25T20:00:00Z"), "2 hours ago");
    assert_eq!(at("2026-04-28T01:00:00Z"), "in 2 days 3 hours");
}

#[test]
fn embeds_are_indented_blocks_and_buttons_are_bracketed() {
    let reply = Reply {
        visibility: Visibility::Public,
        messages: vec![Message {
            content: String::new(),
            embeds: vec![Embed {
                title: "A \\- B".to_owned(),
                url: Some("https://x.example/a".to_owned()),
                description: "One.\n\nTwo.".to_owned(),
                fields: vec![
                    EmbedField {
                        name: "Room".to_owned(),
                        value: "Barn".to_owned(),
                        inline: true,
                    },
                    EmbedField {
                        name: "Talks".to_owned(),
                        value: "**A**\n**B**".to_owned(),
                        inline: false,
                    },
                ],
                footer: Some("Conf".to_owned()),
            }],
            buttons: vec![Button {
                label: "Remind me".to_owned(),
                action: ButtonAction::RemindMe(TalkId(1)),
            }],
            ..Message::default()
        }],
    };

    let text = render(&reply, Tz::UTC, utc("2026-04-25T22:00:00Z"));

    assert_eq!(
        text,
        "    A - B\n    https://x.example/a\n    One.\n\n    Two.\n    Room: Barn\n    Talks:\n      \
         A\n      B\n    — Conf\n[Remind me]\n"
    );
}

#[test]
fn the_seed_answers_next_as_an_organiser_would_read_it() {
    let p = seed();
    let now = utc("2026-04-25T22:00:00Z");

    let reply = answer(&p, now, &parsed("/next"));

    assert_eq!(
        render(&reply, p.conference.time_zone, now),
        "Python as Orchestrator: When to Glue, When to Compute — Freya Bhushan Mehta: starts \
         in 45 minutes in Barn (15:45)\n"
    );
}

#[test]
fn no_line_makes_the_parser_panic() {
    for line in [
        "/",
        "/talk query:",
        "/talk :x",
        "/next room:\"",
        "/talk query:\"\\",
        "/schedule day:é room:\"ü\"x",
    ] {
        let _ = parse_line(line);
    }
    assert_eq!(
        parsed("/schedule day:é room:\"ü\""),
        Command::Schedule {
            day: Some("é".to_owned()),
            room: Some("ü".to_owned())
        }
    );
}

proptest::proptest! {
    #![proptest_config(crate::test_support::proptest_config(256))]

    #[test]
    fn any_line_parses_or_is_refused_without_panicking(line in "/?[a-z]{0,8}( [a-z]{0,6}:?\"?[\\PC\\\\\"]{0,12}){0,4}") {
        let _ = parse_line(&line);
    }

    #[test]
    fn any_text_renders_without_panicking(text in "(<t:-?[0-9]{0,20}(:[tTdDfFRx])?>?|\\\\|\\*\\*|\\PC){0,20}") {
        let _ = render_text(&text, Tz::Australia__Sydney, utc("2026-04-25T22:00:00Z"));
    }
}

#[test]
fn relative_times_round_to_the_nearest_minute_like_discord() {
    let now = utc("2026-04-25T09:20:01Z");

    assert_eq!(relative(utc("2026-04-25T09:30:00Z"), now), "in 10 minutes");
    assert_eq!(relative(utc("2026-04-25T09:21:30Z"), now), "in 1 minute");
    assert_eq!(relative(utc("2026-04-25T10:19:45Z"), now), "in 1 hour");
    assert_eq!(relative(utc("2026-04-25T09:20:31Z"), now), "in 30 seconds");
    assert_eq!(relative(utc("2026-04-25T09:10:02Z"), now), "10 minutes ago");
}

#[test]
fn ask_and_questions_lines_are_read_apart_from_the_lookups() {
    use crate::domain::questions::QuestionsCommand;
    assert_eq!(
        parse_questions_line(r#"/ask question:"Will the slides be online?" talk:Opening"#),
        Some(Ok(QuestionsCommand::Ask {
            question: "Will the slides be online?".to_owned(),
            talk: Some("Opening".to_owned()),
        }))
    );
    assert_eq!(
        parse_questions_line("/ask why glue?"),
        Some(Ok(QuestionsCommand::Ask {
            question: "why glue?".to_owned(),
            talk: None,
        }))
    );
    assert_eq!(
        parse_questions_line("/questions"),
        Some(Ok(QuestionsCommand::List { talk: None }))
    );
    assert_eq!(
        parse_questions_line("/ask talk:Opening"),
        Some(Err(ParseError::Missing {
            command: "ask",
            option: "question",
        }))
    );
    assert!(matches!(
        parse_questions_line("/questions question:x"),
        Some(Err(ParseError::UnknownOption { .. }))
    ));
    assert_eq!(parse_questions_line("/next room:Barn"), None);
}
