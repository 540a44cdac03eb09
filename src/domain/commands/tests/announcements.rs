//! The announcement replies: options checked, text limits, preview, list, hostile text.

use chrono_tz::Tz;

use super::*;
use crate::domain::announcements::Ping;
use crate::domain::commands::render::MAX_MESSAGES;
use crate::domain::commands::{limits, Button, ButtonAction, Visibility};

const BERLIN: Tz = Tz::Europe__Berlin;
const GUILD: u64 = 900;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 in test")
}

fn options(when: Option<&str>, repeat: Option<&str>) -> AnnounceOptions {
    AnnounceOptions {
        channel: Some(55),
        when: when.map(str::to_owned),
        repeat: repeat.map(str::to_owned),
        ..AnnounceOptions::default()
    }
}

fn text_of(reply: &Reply) -> &str {
    &reply.messages[0].content
}

#[test]
fn options_become_a_plan_in_the_conference_zone() {
    let now = at("2026-06-01T10:00:00Z");

    let later = plan(&options(Some("14:30"), None), GUILD, None, BERLIN, now).expect("plan");
    let default_channel =
        plan(&AnnounceOptions::default(), GUILD, Some(77), BERLIN, now).expect("plan");

    assert_eq!(later.first, at("2026-06-01T12:30:00Z"));
    assert_eq!(
        (later.channel, later.ping, later.repeat),
        (55, Ping::None, None)
    );
    assert_eq!(
        default_channel.channel, 77,
        "the server's announcement channel"
    );
    assert_eq!(default_channel.first, now, "no when: now");
}

#[test]
fn bad_when_repeat_ping_or_channel_are_refused_with_the_reason() {
    let now = at("2026-06-01T10:00:00Z");
    let refused = |options: AnnounceOptions, default: Option<u64>| {
        text_of(&plan(&options, GUILD, default, BERLIN, now).unwrap_err()).to_owned()
    };

    let unreadable = refused(options(Some("half past nine"), None), None);
    let past = refused(options(Some("2026-05-31 09:00"), None), None);
    let cron = refused(options(None, Some("61 * * * *")), None);
    let never = refused(options(None, Some("0 9 30 2 *")), None);
    let no_role = refused(
        AnnounceOptions {
            ping: PingChoice::Role,
            ..options(None, None)
        },
        None,
    );
    let stray_role = refused(
        AnnounceOptions {
            role: Some(5),
            ..options(None, None)
        },
        None,
    );
    let everyone_role = refused(
        AnnounceOptions {
            ping: PingChoice::Role,
            role: Some(GUILD),
            ..options(None, None)
        },
        None,
    );
    let no_channel = refused(AnnounceOptions::default(), None);

    assert!(
        unreadable.starts_with("`when`: \"half past nine\" is not a time"),
        "{unreadable}"
    );
    assert!(unreadable.ends_with("Nothing was saved."), "{unreadable}");
    assert!(past.contains("is in the past"), "{past}");
    assert!(cron.starts_with("`repeat`: "), "{cron}");
    assert!(cron.contains("is not a valid cron expression"), "{cron}");
    assert!(never.contains("never matches"), "{never}");
    assert!(
        no_role.contains("`ping:role` needs the `role` option"),
        "{no_role}"
    );
    assert!(
        stray_role.contains("only used with `ping:role`"),
        "{stray_role}"
    );
    assert!(everyone_role.contains("ping:everyone"), "{everyone_role}");
    assert!(
        no_channel.contains("/setup channel kind:announcements"),
        "{no_channel}"
    );
}

#[test]
fn the_text_must_not_be_blank_or_longer_than_discord_allows() {
    let longest = "é".repeat(MAX_TEXT);

    let blank = check_text(" \n\n ").unwrap_err();
    let too_long = check_text(&format!("{longest}x")).unwrap_err();

    assert!(text_of(&blank).contains("empty"));
    assert!(
        text_of(&too_long).contains(&format!("{} characters long", MAX_TEXT + 1)),
        "{}",
        text_of(&too_long)
    );
    assert_eq!(
        check_text(&longest),
        Ok(longest.clone()),
        "characters, not bytes"
    );
    assert_eq!(
        check_text("\n  Doors open\n**at 9**  \n"),
        Ok("Doors open\n**at 9**".to_owned())
    );
}

fn announcement(text: &str, ping: Ping, repeat: Option<&str>) -> Announcement {
    Announcement {
        id: AnnouncementId(12),
        channel: 55,
        text: text.to_owned(),
        ping,
        first: at("2026-06-01T12:30:00Z"),
        repeat: repeat.map(|r| r.parse().expect("repeat")),
        zone: BERLIN,
    }
}

#[test]
fn the_preview_shows_the_post_exactly_with_its_time_ping_and_buttons() {
    let now = at("2026-06-01T10:00:00Z");
    let once = announcement("Doors open **now**", Ping::Role(77), None);
    let daily = announcement("Coffee", Ping::Everyone, Some("daily 09:00"));

    let preview_once = preview(&once, now);
    let preview_daily = preview(&daily, now);

    let message = &preview_once.messages[0];
    assert_eq!(preview_once.visibility, Visibility::Ephemeral);
    assert_eq!(message.content, "<@&77> Doors open **now**");
    assert_eq!(message.ping, Ping::None, "a preview pings nobody");
    let fields = &message.embeds[0].fields;
    let value = |name: &str| {
        fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.clone())
            .unwrap_or_default()
    };
    assert_eq!(value("Channel"), "<#55>");
    assert_eq!(value("Pings"), "<@&77>");
    let unix = at("2026-06-01T12:30:00Z").timestamp();
    assert_eq!(value("First post"), format!("<t:{unix}:F> (<t:{unix}:R>)"));
    assert_eq!(value("Repeats"), "once");
    assert_eq!(
        message.buttons,
        [
            Button {
                label: "Confirm".to_owned(),
                action: ButtonAction::ConfirmAnnouncement(AnnouncementId(12))
            },
            Button {
                label: "Cancel".to_owned(),
                action: ButtonAction::CancelAnnouncement(AnnouncementId(12))
            },
        ]
    );
    let daily_message = &preview_daily.messages[0];
    assert_eq!(daily_message.content, "@everyone Coffee");
    let next_posts = &daily_message.embeds[0].fields[4];
    assert_eq!(next_posts.name, "Next posts");
    // 09:00 Berlin (07:00 UTC) from the day after the first (12:30 UTC is past 09:00).
    assert_eq!(
        next_posts.value,
        format!(
            "<t:{}:F>\n<t:{}:F>\n<t:{}:F>",
            at("2026-06-02T07:00:00Z").timestamp(),
            at("2026-06-03T07:00:00Z").timestamp(),
            at("2026-06-04T07:00:00Z").timestamp()
        )
    );
}

#[test]
fn a_preview_of_the_longest_text_stays_within_discords_limits() {
    let now = at("2026-06-01T10:00:00Z");
    let long = announcement(
        &"x".repeat(MAX_TEXT),
        Ping::Role(u64::MAX),
        Some("* * * * *"),
    );

    let reply = preview(&long, now);

    let message = &reply.messages[0];
    assert!(message.content.chars().count() <= limits::CONTENT);
    assert!(message.content.ends_with('x'), "nothing cut");
    assert_eq!(
        message.content.chars().count(),
        MAX_TEXT + "<@&18446744073709551615> ".len()
    );
}

#[test]
fn the_list_shows_what_is_coming_soonest_first_with_hostile_text_escaped() {
    let now = at("2026-06-01T10:00:00Z");
    let hostile = Announcement {
        id: AnnouncementId(3),
        ..announcement("\n@everyone **bold** <@&1>\nsecond line", Ping::None, None)
    };
    let daily = Announcement {
        id: AnnouncementId(4),
        first: at("2026-06-01T00:00:00Z"),
        ..announcement("Coffee", Ping::Everyone, Some("daily 14:00"))
    };
    let posted = Announcement {
        id: AnnouncementId(5),
        first: at("2026-05-01T00:00:00Z"),
        ..announcement("Long gone", Ping::None, None)
    };

    let reply = list(&[hostile, daily, posted], now);

    let text = text_of(&reply);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "**Scheduled announcements** (2)");
    let daily_next = at("2026-06-01T12:00:00Z").timestamp();
    assert_eq!(
        lines[1],
        format!(
            "**#4** in <#55> · next <t:{daily_next}:F> (<t:{daily_next}:R>) · repeats `0 14 * * *` · pings @everyone"
        )
    );
    assert_eq!(lines[2], "> Coffee");
    assert!(
        lines[3].starts_with("**#3** in <#55> · next"),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].ends_with("repeats never · pings nobody"),
        "{}",
        lines[3]
    );
    assert_eq!(
        lines[4],
        "> @\u{200b}everyone \\*\\*bold\\*\\* \\<@\u{200b}&1\\>"
    );
    assert!(
        !text.contains("Long gone"),
        "posted one-offs are not listed"
    );
    assert!(!text.contains("second line"));
}

#[test]
fn a_long_list_is_paged_within_discords_limits() {
    let now = at("2026-06-01T10:00:00Z");
    let many: Vec<Announcement> = (0..500)
        .map(|i| Announcement {
            id: AnnouncementId(i),
            ..announcement(&"y".repeat(MAX_TEXT), Ping::None, Some("daily 09:00"))
        })
        .collect();

    let reply = list(&many, now);

    assert!(reply.messages.len() > 1 && reply.messages.len() <= MAX_MESSAGES);
    for message in &reply.messages {
        assert!(message.content.chars().count() <= limits::CONTENT);
    }
    let last = &reply.messages.last().expect("a message").content;
    assert!(last.ends_with("more."), "{last}");
}

#[test]
fn an_empty_list_says_how_to_make_one() {
    let reply = list(&[], at("2026-06-01T10:00:00Z"));

    assert_eq!(
        text_of(&reply),
        "No announcements are scheduled in this server. Make one with `/announce`."
    );
}

#[test]
fn a_one_off_is_confirmable_until_an_hour_after_its_time() {
    let once = announcement("x", Ping::None, None); // 12:30 UTC

    assert!(has_future(&once, at("2026-06-01T12:00:00Z")));
    assert!(
        has_future(&once, at("2026-06-01T13:00:00Z")),
        "sent at once"
    );
    assert!(!has_future(&once, at("2026-06-01T13:31:00Z")));
    assert!(text_of(&scheduled(&once, at("2026-06-01T12:00:00Z")))
        .starts_with("Scheduled: announcement #12 in <#55>, first post <t:"));
}

#[test]
fn cron_with_seconds_first_is_read_as_six_fields() {
    let now = at("2026-06-01T10:00:00Z");
    let planned = plan(
        &options(None, Some("0 30 8 * * 1-5")),
        GUILD,
        None,
        BERLIN,
        now,
    )
    .expect("plan");
    let daily = announcement("x", Ping::None, Some("0 30 8 * * 1-5"));

    assert!(planned.repeat.is_some());
    // Tuesday 2 June 2026, 08:30 Berlin = 06:30 UTC.
    assert_eq!(daily.next_after(now), Some(at("2026-06-02T06:30:00Z")));
}
