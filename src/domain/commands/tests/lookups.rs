use chrono_tz::Tz;

use super::*;
use crate::domain::model::{SpeakerData, TalkId};
use crate::domain::programme::testing::{demo, programme, seed, talk, utc};

const ORCHESTRATOR: &str = "Python as Orchestrator: When to Glue, When to Compute";

fn talk_query(query: &str) -> Command {
    Command::Talk {
        query: query.to_owned(),
    }
}

fn field<'a>(embed: &'a Embed, name: &str) -> &'a str {
    embed
        .fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value.as_str())
        .unwrap_or_else(|| panic!("no field {name} in {embed:#?}"))
}

#[test]
fn talk_shows_the_matching_talk_as_a_shareable_card_with_a_reminder_button() {
    let reply = answer(
        &seed(),
        utc("2026-04-25T22:00:00Z"),
        &talk_query("glue compute"),
    );

    assert_eq!(reply.visibility, Visibility::Public);
    let message = &reply.messages[0];
    let embed = &message.embeds[0];
    assert_eq!(embed.title, ORCHESTRATOR);
    assert_eq!(
        embed.url.as_deref(),
        Some("https://pretalx.northbaypython.org/nbpy-2026/talk/ERUJ9T/")
    );
    assert!(embed.description.starts_with(
        "Python powers Netflix's recommendation engine, processes petabytes at Spotify"
    ));
    assert_eq!(field(embed, "Speaker"), "Freya Bhushan Mehta");
    assert_eq!(
        field(embed, "Starts"),
        "<t:1777157100:F> (<t:1777157100:R>)"
    );
    assert_eq!(field(embed, "Ends"), "<t:1777158600:F> (<t:1777158600:R>)");
    assert_eq!(field(embed, "Room"), "Barn");
    assert_eq!(
        message.buttons,
        [Button {
            label: "Remind me".to_owned(),
            action: ButtonAction::RemindMe(TalkId(1)),
        }]
    );
    assert_within_limits(&reply);
}

#[test]
fn several_matches_show_the_best_and_list_the_others() {
    let reply = answer(&demo(), utc("2026-04-25T16:00:00Z"), &talk_query("python"));

    let embed = &reply.messages[0].embeds[0];
    assert_eq!(embed.title, "Python 103: Memory Model & Best Practices");
    assert_eq!(
        field(embed, "Also matching"),
        format!("**{ORCHESTRATOR}** — Freya Bhushan Mehta · <t:1777157100:t>")
    );
}

#[test]
fn a_cancelled_talk_says_so_and_offers_no_reminder() {
    let reply = answer(
        &demo(),
        utc("2026-04-25T16:00:00Z"),
        &talk_query("data is large"),
    );

    let message = &reply.messages[0];
    assert_eq!(
        message.embeds[0].title,
        "What to do when your data is large, but not big"
    );
    assert!(message.embeds[0]
        .description
        .starts_with("**Cancelled:** this talk will not take place."));
    assert!(message.buttons.is_empty());
}

#[test]
fn a_typo_and_a_surname_both_find_the_talk() {
    let at = utc("2026-04-25T16:00:00Z");
    for query in ["orchestrater", "mehta", "bhushan mehta"] {
        let reply = answer(&demo(), at, &talk_query(query));
        assert_eq!(reply.messages[0].embeds[0].title, ORCHESTRATOR, "{query}");
    }
}

#[test]
fn no_match_is_a_private_hint_not_an_empty_card() {
    let reply = answer(
        &demo(),
        utc("2026-04-25T16:00:00Z"),
        &talk_query("xylophone"),
    );

    assert_eq!(reply.visibility, Visibility::Ephemeral);
    assert_eq!(
        content(&reply),
        "No talk matches “xylophone”. Try fewer words, part of the title or a speaker's name; \
         `/schedule` lists every talk of a day."
    );
}

#[test]
fn a_hostile_title_shows_literally_and_pings_nobody() {
    let hostile = talk(
        "**@everyone** <@&1>",
        "[x](https://evil)",
        "Hall",
        "2026-04-25T10:00:00Z",
        30,
    );
    let p = programme(Tz::UTC, vec![], vec![hostile]);

    let card = answer(&p, utc("2026-04-25T09:00:00Z"), &talk_query("everyone"));
    let next = answer(
        &p,
        utc("2026-04-25T09:00:00Z"),
        &Command::Next {
            room: None,
            track: None,
        },
    );

    assert_eq!(
        card.messages[0].embeds[0].title,
        "\\*\\*@\u{200b}everyone\\*\\* \\<@\u{200b}&1\\>"
    );
    assert_eq!(
        field(&card.messages[0].embeds[0], "Speaker"),
        "\\[x\\]\\(https://evil\\)"
    );
    assert!(
        content(&next).starts_with("**\\*\\*@\u{200b}everyone\\*\\* \\<@\u{200b}&1\\>** — \\[x\\]")
    );
}

#[test]
fn a_talk_found_only_through_a_speakers_biography() {
    let mut quiet = talk("Quiet Title", "Ann Lee", "Hall", "2026-04-25T10:00:00Z", 30);
    quiet.speakers[0].biography = Some("Ann restores pipe organs.".into());
    let p = programme(Tz::UTC, vec![], vec![quiet]);

    let reply = answer(&p, utc("2026-04-25T09:00:00Z"), &talk_query("pipe organs"));

    assert_eq!(reply.messages[0].embeds[0].title, "Quiet Title");
}

#[test]
fn speaker_shows_the_biography_and_talks_privately() {
    let mut first = talk("First", "Zoë Ng", "Hall", "2026-04-25T10:00:00Z", 30);
    first.speakers[0].biography = Some("Zoë builds *fast* things.".into());
    let second = talk("Second", "Zoë Ng", "Annex", "2026-04-26T10:00:00Z", 30);
    let p = programme(Tz::UTC, vec![], vec![first, second]);

    let reply = answer(
        &p,
        utc("2026-04-25T09:00:00Z"),
        &Command::Speaker {
            name: "zoe".to_owned(),
        },
    );

    assert_eq!(reply.visibility, Visibility::Ephemeral);
    let embed = &reply.messages[0].embeds[0];
    assert_eq!(embed.title, "Zoë Ng");
    assert_eq!(embed.description, "Zoë builds \\*fast\\* things.");
    assert_eq!(
        field(embed, "Talks"),
        "**First** — Zoë Ng · <t:1777111200:t> in Hall\n\
         **Second** — Zoë Ng · <t:1777197600:f> in Annex"
    );
}

#[test]
fn help_lists_every_command_privately() {
    let reply = answer(&demo(), utc("2026-04-25T16:00:00Z"), &Command::Help);

    assert_eq!(reply.visibility, Visibility::Ephemeral);
    for command in ["/talk", "/next", "/now", "/schedule", "/speaker", "/help"] {
        assert!(
            content(&reply).contains(&format!("`{command}")),
            "{command}"
        );
    }
}

#[test]
fn autocomplete_suggests_talks_by_typo_speaker_and_accentless_spelling() {
    let cafe = talk("Café Society", "Ann", "Hall", "2026-04-25T10:00:00Z", 30);
    let p = programme(Tz::UTC, vec![], vec![cafe]);

    let typo = autocomplete(&demo(), AutocompleteField::TalkQuery, "orchestrater");
    let surname = autocomplete(&demo(), AutocompleteField::TalkQuery, "mehta");
    let folded = autocomplete(&p, AutocompleteField::TalkQuery, "cafe");

    let expected = Choice {
        name: format!("{ORCHESTRATOR} — Freya Bhushan Mehta"),
        value: ORCHESTRATOR.to_owned(),
    };
    assert_eq!(typo, surname);
    assert_eq!(surname, [expected]);
    assert_eq!(folded[0].value, "Café Society");
}

#[test]
fn autocomplete_offers_rooms_speakers_and_readable_days() {
    let p = demo();

    let rooms = autocomplete(&p, AutocompleteField::Room, "lo");
    let days = autocomplete(&p, AutocompleteField::Day, "");
    let sunday = autocomplete(&p, AutocompleteField::Day, "sun");
    let speakers = autocomplete(&p, AutocompleteField::SpeakerName, "armin");

    let choice = |name: &str, value: &str| Choice {
        name: name.to_owned(),
        value: value.to_owned(),
    };
    assert_eq!(rooms, [choice("Loft", "Loft")]);
    assert_eq!(
        days,
        [
            choice("Saturday 25 April", "2026-04-25"),
            choice("Sunday 26 April", "2026-04-26")
        ]
    );
    assert_eq!(sunday, [choice("Sunday 26 April", "2026-04-26")]);
    assert_eq!(speakers, [choice("Armin Ronacher", "Armin Ronacher")]);
}

#[test]
fn long_titles_and_names_are_cut_to_a_hundred_characters_in_choices() {
    let long = "Ü".repeat(150);
    let mut t = talk(&long, &"é".repeat(120), "Hall", "2026-04-25T10:00:00Z", 30);
    t.speakers.push(SpeakerData {
        name: "Bob".to_owned(),
        ..SpeakerData::default()
    });
    let p = programme(Tz::UTC, vec![], vec![t]);

    let choices = autocomplete(&p, AutocompleteField::TalkQuery, "uuu");
    let speakers = autocomplete(&p, AutocompleteField::SpeakerName, "eee");

    assert_eq!(choices.len(), 1);
    assert_eq!(choices[0].name.chars().count(), 100);
    assert_eq!(choices[0].value, format!("{}…", "Ü".repeat(99)));
    assert_eq!(speakers[0].value.chars().count(), 100);
    // The cut value still finds its talk.
    let reply = answer(
        &p,
        utc("2026-04-25T09:00:00Z"),
        &talk_query(&choices[0].value),
    );
    assert_eq!(reply.messages[0].embeds[0].title.chars().count(), 150);
}
