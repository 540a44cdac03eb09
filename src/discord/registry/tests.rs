//! The registry's table, registration payloads and parsing.

use super::*;

fn string_option(name: &str, value: &str) -> CommandDataOption {
    serde_json::from_value(serde_json::json!({"name": name, "type": 3, "value": value}))
        .expect("option json")
}

#[test]
fn every_command_has_a_short_lowercase_name_and_a_description_discord_accepts() {
    for spec in commands() {
        assert!(
            spec.name.chars().all(|c| c.is_ascii_lowercase()),
            "{}",
            spec.name
        );
        assert!((1..=100).contains(&spec.description.chars().count()));
        for option in spec.options {
            assert!((1..=100).contains(&option.description.chars().count()));
            if let OptionKind::Subcommand(options) = option.kind {
                for option in options {
                    assert!((1..=100).contains(&option.description.chars().count()));
                }
            }
        }
    }
    assert_eq!(registrations().len(), 19);
}

#[test]
fn options_become_a_command_with_blank_ones_left_out() {
    let options = [
        string_option("room", " Barn "),
        string_option("track", "  "),
    ];

    let command = parse("next", &options);

    assert_eq!(
        command,
        Ok(Invocation::Lookup(Command::Next {
            room: Some("Barn".to_owned()),
            track: None
        }))
    );
}

#[test]
fn a_missing_required_option_and_an_unknown_command_are_user_errors() {
    assert_eq!(parse("talk", &[]), Err(ParseError::MissingOption("query")));
    assert_eq!(
        parse("karaoke", &[]),
        Err(ParseError::UnknownCommand("karaoke".to_owned()))
    );
}

#[test]
fn autocompleted_options_name_their_field() {
    assert_eq!(
        autocomplete_field("talk", "query"),
        Some(AutocompleteField::TalkQuery)
    );
    assert_eq!(
        autocomplete_field("schedule", "day"),
        Some(AutocompleteField::Day)
    );
    assert_eq!(autocomplete_field("help", "query"), None);
}

fn option(json: serde_json::Value) -> CommandDataOption {
    serde_json::from_value(json).expect("option json")
}

fn registered(name: &str) -> serde_json::Value {
    let index = commands()
        .iter()
        .position(|spec| spec.name == name)
        .expect("registered");
    serde_json::to_value(&registrations()[index]).expect("json")
}

#[test]
fn subscribe_takes_exactly_one_of_talk_room_and_track() {
    let one = [string_option("talk", "orchestrator")];
    let two = [
        string_option("talk", "orchestrator"),
        string_option("room", "Barn"),
    ];
    let blank = [string_option("room", "  ")];

    assert_eq!(
        parse("subscribe", &one),
        Ok(Invocation::Reminders(ReminderCommand::Subscribe(
            TargetQuery::Talk("orchestrator".to_owned())
        )))
    );
    assert_eq!(parse("subscribe", &two), Err(ParseError::ExactlyOneTarget));
    assert_eq!(parse("unsubscribe", &[]), Err(ParseError::ExactlyOneTarget));
    assert_eq!(
        parse("subscribe", &blank),
        Err(ParseError::ExactlyOneTarget)
    );
}

#[test]
fn remind_checks_the_registered_range_on_the_server_side_too() {
    let lead = |value: i64| {
        [option(
            serde_json::json!({"name": "lead", "type": 4, "value": value}),
        )]
    };

    assert_eq!(
        parse("remind", &lead(5)),
        Ok(Invocation::Reminders(ReminderCommand::Remind {
            lead: Some(LeadTime::from_minutes(5).expect("in range"))
        }))
    );
    for refused in [121, 500, -1, i64::MIN] {
        assert_eq!(
            parse("remind", &lead(refused)),
            Err(ParseError::OutOfRange {
                option: "lead",
                min: 0,
                max: 120
            }),
            "{refused}"
        );
    }
    assert_eq!(
        parse("remind", &[]),
        Ok(Invocation::Reminders(ReminderCommand::Remind {
            lead: None
        }))
    );
    let body = registered("remind");
    assert_eq!(body["options"][0]["type"], 4);
    assert_eq!(body["options"][0]["min_value"], 0);
    assert_eq!(body["options"][0]["max_value"], 120);
}

#[test]
fn channel_is_registered_for_managers_and_reads_a_channel_option() {
    let options = [
        option(serde_json::json!({"name": "channel", "type": 7, "value": "18000000000000000001"})),
        string_option("room", "Barn"),
    ];

    assert_eq!(
        parse("channel", &options),
        Ok(Invocation::Reminders(ReminderCommand::Channel {
            channel: 18_000_000_000_000_000_001,
            room: Some("Barn".to_owned())
        }))
    );
    assert_eq!(
        parse("channel", &[]),
        Err(ParseError::MissingOption("channel"))
    );
    let body = registered("channel");
    assert_eq!(body["default_member_permissions"], "32", "MANAGE_GUILD");
    assert_eq!(body["options"][0]["type"], 7);
    assert_eq!(body["options"][1]["autocomplete"], true);
    assert!(registered("subscribe")["default_member_permissions"].is_null());
    assert_eq!(
        autocomplete_field("channel", "room"),
        Some(AutocompleteField::Room)
    );
    assert_eq!(autocomplete_field("channel", "channel"), None);
    assert_eq!(autocomplete_field("remind", "lead"), None);
}

fn subcommand(name: &str, options: serde_json::Value) -> CommandDataOption {
    option(serde_json::json!({"name": name, "type": 1, "options": options}))
}

#[test]
fn setup_is_registered_as_subcommands_and_parsed_from_the_same_table() {
    use crate::domain::guild_settings::ChannelKind;

    let zone = [subcommand(
        "timezone",
        serde_json::json!([{"name": "zone", "type": 3, "value": " Europe/Berlin "}]),
    )];
    let channel = [subcommand(
        "channel",
        serde_json::json!([{"name": "kind", "type": 3, "value": "organiser-log"},
                           {"name": "channel", "type": 7, "value": "77"}]),
    )];
    let role = [subcommand(
        "role",
        serde_json::json!([{"name": "role", "type": 8, "value": "88"}]),
    )];
    let source = |refresh: i64| {
        [subcommand(
            "source",
            serde_json::json!([{"name": "url", "type": 3, "value": "https://x.org/s.ics"},
                               {"name": "refresh", "type": 4, "value": refresh}]),
        )]
    };

    assert_eq!(
        parse("setup", &zone),
        Ok(Invocation::Setup(SetupCommand::TimeZone(
            "Europe/Berlin".into()
        )))
    );
    assert_eq!(
        parse("setup", &channel),
        Ok(Invocation::Setup(SetupCommand::Channel {
            kind: ChannelKind::OrganiserLog,
            channel: 77
        }))
    );
    assert_eq!(
        parse("setup", &role),
        Ok(Invocation::Setup(SetupCommand::Role(88)))
    );
    assert_eq!(
        parse("setup", &source(15)),
        Ok(Invocation::Setup(SetupCommand::Source {
            url: "https://x.org/s.ics".into(),
            refresh_minutes: 15
        }))
    );
    assert!(matches!(
        parse("setup", &source(1)),
        Err(ParseError::OutOfRange {
            option: "refresh",
            ..
        })
    ));
    assert_eq!(
        parse("setup", &[subcommand("show", serde_json::json!([]))]),
        Ok(Invocation::Setup(SetupCommand::Show))
    );
    let retention = |days: i64| {
        [subcommand(
            "retention",
            serde_json::json!([{"name": "days", "type": 4, "value": days}]),
        )]
    };
    assert_eq!(
        parse("setup", &retention(7)),
        Ok(Invocation::Setup(SetupCommand::Retention(
            crate::domain::privacy::RetentionDays::new(7).expect("in range")
        )))
    );
    assert!(parse("setup", &retention(0)).is_err());
    assert!(parse("setup", &retention(400)).is_err());
    assert_eq!(parse("forget", &[]), Ok(Invocation::Forget));
    let speakers = |from: &str| {
        [subcommand(
            "speakers",
            serde_json::json!([{"name": "from", "type": 3, "value": from}]),
        )]
    };
    assert_eq!(
        parse("setup", &speakers("summary")),
        Ok(Invocation::Setup(SetupCommand::SummarySpeakers(true)))
    );
    assert_eq!(
        parse("setup", &speakers("auto")),
        Ok(Invocation::Setup(SetupCommand::SummarySpeakers(false)))
    );
    assert!(parse("setup", &speakers("sometimes")).is_err());
    assert_eq!(
        parse("setup", &[]),
        Err(ParseError::MissingSubcommand("setup"))
    );
    assert_eq!(
        parse("status", &[subcommand("audit", serde_json::json!([]))]),
        Ok(Invocation::Status(StatusCommand::Audit))
    );

    let body = registered("setup");
    assert_eq!(body["default_member_permissions"], "32", "MANAGE_GUILD");
    let names: Vec<&str> = body["options"]
        .as_array()
        .expect("subcommands")
        .iter()
        .map(|o| o["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "show",
            "conference",
            "timezone",
            "source",
            "channel",
            "role",
            "lead",
            "speakers",
            "retention",
            "updates",
            "board",
            "threads",
            "questions",
            "events",
            "web"
        ]
    );
    let board = |options: serde_json::Value| [subcommand("board", options)];
    use crate::domain::board::{Board, BoardLayout};
    assert_eq!(
        parse(
            "setup",
            &board(serde_json::json!([
                {"name": "channel", "type": 7, "value": "77"},
                {"name": "layout", "type": 3, "value": "single"}
            ]))
        ),
        Ok(Invocation::Setup(SetupCommand::Board(Some(Board {
            channel: 77,
            layout: BoardLayout::Single
        }))))
    );
    assert_eq!(
        parse(
            "setup",
            &board(serde_json::json!([{"name": "channel", "type": 7, "value": "77"}]))
        ),
        Ok(Invocation::Setup(SetupCommand::Board(Some(Board {
            channel: 77,
            layout: BoardLayout::Rooms
        })))),
        "a message per room unless told"
    );
    assert_eq!(
        parse("setup", &board(serde_json::json!([]))),
        Ok(Invocation::Setup(SetupCommand::Board(None)))
    );
    assert!(parse(
        "setup",
        &board(serde_json::json!([{"name": "layout", "type": 3, "value": "grid"}]))
    )
    .is_err());
    let updates = |options: serde_json::Value| [subcommand("updates", options)];
    assert_eq!(
        parse(
            "setup",
            &updates(serde_json::json!([{"name": "channel", "type": 7, "value": "77"}]))
        ),
        Ok(Invocation::Setup(SetupCommand::Updates(Some(77))))
    );
    assert_eq!(
        parse("setup", &updates(serde_json::json!([]))),
        Ok(Invocation::Setup(SetupCommand::Updates(None)))
    );
    assert_eq!(
        body["options"][9]["options"][0]["type"], 7,
        "a channel option"
    );
    assert_eq!(body["options"][9]["options"][0]["required"], false);
    let channel = &body["options"][4];
    assert_eq!(channel["type"], 1);
    assert_eq!(
        channel["options"][0]["choices"][1]["value"],
        "organiser-log"
    );
    assert_eq!(channel["options"][1]["type"], 7);
    assert_eq!(body["options"][5]["options"][0]["type"], 8, "a role option");
    assert_eq!(registered("status")["options"][0]["name"], "overview");
    assert_eq!(registered("status")["options"][1]["name"], "audit");
}

mod events;
mod questions;
mod web;
