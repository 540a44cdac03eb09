//! Servers kept apart: `/setup conference` changes what one server's commands answer from
//! (and only that server's), `/status audit` shows a server's own organiser actions, and a
//! server can neither read nor change another's settings, audit or reminder channels.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use super::guilds::Channel;
use super::payloads::{self, GUILD_ID, OTHER_GUILD_ID, USER_ID};
use super::subscriptions::{ask, conference_id, private_text};
use super::Bot;
use confbot::store::guilds;

const MANAGE_GUILD: u64 = 1 << 5;
const OTHER_USER: u64 = 4_000_000_000_000_099;
const OTHER_CONFERENCE: &str = "othercon";
const KEYNOTE: &str = "Othercon Keynote";

/// `/{command} [subcommand options]` from a member with Manage Server of `guild`.
fn organiser(
    guild: u64,
    user: u64,
    command: &'static str,
    subcommand: Option<(&'static str, Vec<Value>)>,
) -> impl FnOnce(u64, &str) -> Value {
    move |id, token| {
        let options = match subcommand {
            Some((name, options)) => vec![json!({"name": name, "type": 1, "options": options})],
            None => Vec::new(),
        };
        let interaction = payloads::slash_with(id, token, command, options);
        payloads::as_member_of(interaction, guild, user, MANAGE_GUILD, &[])
    }
}

fn slug(value: &str) -> Vec<Value> {
    vec![payloads::option("slug", 3, json!(value))]
}

fn zone(value: &str) -> Vec<Value> {
    vec![payloads::option("zone", 3, json!(value))]
}

/// `/setup timezone zone:<value>` from an organiser `user` of `guild`.
fn set_zone(guild: u64, user: u64, value: &str) -> impl FnOnce(u64, &str) -> Value {
    organiser(guild, user, "setup", Some(("timezone", zone(value))))
}

/// A one-talk conference: its keynote starts 20 minutes from `now` in Hall.
fn other_schedule(now: DateTime<Utc>) -> String {
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:Other Conf\r\nX-WR-TIMEZONE:UTC\r\n\
         PRODID:-//test//othercon\r\nBEGIN:VEVENT\r\nUID:othercon-1@example.org\r\n\
         DTSTART:{}\r\nDTEND:{}\r\nDTSTAMP:20260101T000000Z\r\nLOCATION:Hall\r\n\
         SUMMARY:{KEYNOTE}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        stamp(now + TimeDelta::minutes(20)),
        stamp(now + TimeDelta::minutes(60)),
    )
}

#[tokio::test]
async fn setup_conference_changes_what_next_answers_in_that_server_only() {
    let bot = Bot::start().await;
    crate::fixtures::import_text(&bot.db.pool, OTHER_CONFERENCE, &other_schedule(bot.now)).await;
    let next_in = |guild: u64, user: u64| {
        move |id: u64, token: &str| {
            payloads::as_member_of(payloads::slash(id, token, "next", &[]), guild, user, 0, &[])
        }
    };

    let unknown = ask(
        &bot,
        organiser(
            GUILD_ID,
            USER_ID,
            "setup",
            Some(("conference", slug("nocon"))),
        ),
    )
    .await;
    let before = private_text(&ask(&bot, next_in(GUILD_ID, USER_ID)).await);
    let changed = ask(
        &bot,
        organiser(
            GUILD_ID,
            USER_ID,
            "setup",
            Some(("conference", slug(OTHER_CONFERENCE))),
        ),
    )
    .await;
    let here = private_text(&ask(&bot, next_in(GUILD_ID, USER_ID)).await);
    let there = private_text(&ask(&bot, next_in(OTHER_GUILD_ID, OTHER_USER)).await);

    assert_eq!(
        private_text(&unknown),
        "There is no conference “nocon” in confbot. Conferences: `livecon`, `othercon`."
    );
    assert!(before.contains("Flask for Fun and Profit"), "{before}");
    assert_eq!(
        private_text(&changed),
        "Saved.\n**Conference**: `livecon` → `othercon`"
    );
    assert!(here.contains(KEYNOTE) && !here.contains("Flask"), "{here}");
    assert!(
        there.contains("Flask for Fun and Profit") && !there.contains(KEYNOTE),
        "{there}"
    );
}

#[tokio::test]
async fn status_audit_shows_who_changed_what_with_before_and_after() {
    let bot = Bot::start().await;

    ask(&bot, set_zone(GUILD_ID, USER_ID, "Europe/Berlin")).await;
    ask(&bot, set_zone(GUILD_ID, OTHER_USER, "Asia/Tokyo")).await;
    let audit = ask(
        &bot,
        organiser(GUILD_ID, USER_ID, "status", Some(("audit", vec![]))),
    )
    .await;

    let audit = private_text(&audit);
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines[0], "**Organiser actions in this server** (latest 2):");
    assert!(
        lines[1].contains(&format!(
            "<@{OTHER_USER}> setup timezone: time_zone `Europe/Berlin` → `Asia/Tokyo`"
        )),
        "{audit}"
    );
    assert!(
        lines[2].contains(&format!(
            "<@{USER_ID}> setup timezone: time_zone none → `Europe/Berlin`"
        )),
        "{audit}"
    );
    assert!(
        lines[1].starts_with("<t:") && lines[1].contains(":R>"),
        "{audit}"
    );
}

#[tokio::test]
async fn one_server_cannot_read_or_change_another_servers_settings_audit_or_channels() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[900]);
    let other_guilds_channel = Channel::Text {
        guild: OTHER_GUILD_ID,
        muted: false,
    };
    bot.standin.guilds().set(950, other_guilds_channel);
    let conference = conference_id(&bot).await;
    let channel = |channel: u64| {
        move |id: u64, token: &str| {
            let options = vec![payloads::option("channel", 7, json!(channel.to_string()))];
            let interaction = payloads::slash_with(id, token, "channel", options);
            let interaction =
                payloads::as_member_of(interaction, OTHER_GUILD_ID, OTHER_USER, MANAGE_GUILD, &[]);
            payloads::resolved_channel(interaction, channel, "b-reminders")
        }
    };
    bot.standin.guilds().set(
        950,
        super::guilds::Channel::Text {
            guild: OTHER_GUILD_ID,
            muted: false,
        },
    );

    // A: an organiser sets the zone and the reminder channel map.
    ask(&bot, set_zone(GUILD_ID, USER_ID, "Europe/Berlin")).await;
    let a_channel = ask(&bot, |id, token| {
        let options = vec![payloads::option("channel", 7, json!("900"))];
        let interaction = payloads::slash_with(id, token, "channel", options);
        let interaction = payloads::as_member_of(interaction, GUILD_ID, USER_ID, MANAGE_GUILD, &[]);
        payloads::resolved_channel(interaction, 900, "a-reminders")
    })
    .await;
    // B follows the same conference (defaults.conference) and has organisers of its own.
    let b_show = ask(
        &bot,
        organiser(OTHER_GUILD_ID, OTHER_USER, "setup", Some(("show", vec![]))),
    )
    .await;
    let b_audit = ask(
        &bot,
        organiser(
            OTHER_GUILD_ID,
            OTHER_USER,
            "status",
            Some(("audit", vec![])),
        ),
    )
    .await;
    let b_zone = ask(&bot, set_zone(OTHER_GUILD_ID, OTHER_USER, "Asia/Tokyo")).await;
    let b_channel = ask(&bot, channel(950)).await;
    let a_show = ask(
        &bot,
        organiser(GUILD_ID, USER_ID, "setup", Some(("show", vec![]))),
    )
    .await;
    let a_audit = ask(
        &bot,
        organiser(GUILD_ID, USER_ID, "status", Some(("audit", vec![]))),
    )
    .await;

    assert!(private_text(&a_channel).contains("Every other room → <#900>"));
    let b_show = private_text(&b_show);
    assert!(b_show.contains("Time zone: the conference's"), "{b_show}");
    assert!(b_show.contains("configuration's first values"), "{b_show}");
    assert_eq!(
        private_text(&b_audit),
        "No organiser actions recorded in this server yet."
    );
    assert!(private_text(&b_zone).contains("the conference's → `Asia/Tokyo`"));
    assert_eq!(
        private_text(&b_channel),
        "Another server following this conference manages its reminder channels, so they \
         cannot be changed from here."
    );
    let a_show = private_text(&a_show);
    assert!(a_show.contains("Time zone: `Europe/Berlin`"), "{a_show}");
    let a_audit = private_text(&a_audit);
    assert!(!a_audit.contains(&OTHER_USER.to_string()), "{a_audit}");
    assert!(a_audit.contains("(latest 2)"), "{a_audit}");
    let plan = confbot::store::subscriptions::channel_plan(&bot.db.pool, conference)
        .await
        .expect("plan")
        .expect("stored");
    assert_eq!(plan.default, Some(900), "B did not redirect A's reminders");
    let a = guilds::get(&bot.db.pool, GUILD_ID)
        .await
        .expect("get")
        .expect("row");
    let b = guilds::get(&bot.db.pool, OTHER_GUILD_ID)
        .await
        .expect("get")
        .expect("row");
    assert_eq!(a.time_zone, Some(chrono_tz::Europe::Berlin));
    assert_eq!(b.time_zone, Some(chrono_tz::Asia::Tokyo));
}

#[tokio::test]
async fn subscriptions_made_in_one_server_are_not_shown_or_removed_from_a_server_following_another_conference(
) {
    let bot = Bot::start().await;
    crate::fixtures::import_text(&bot.db.pool, OTHER_CONFERENCE, &other_schedule(bot.now)).await;
    let member_of =
        |guild: u64, command: &'static str, options: &'static [(&'static str, &'static str)]| {
            move |id: u64, token: &str| {
                payloads::as_member_of(
                    payloads::slash(id, token, command, options),
                    guild,
                    USER_ID,
                    0,
                    &[],
                )
            }
        };
    ask(
        &bot,
        organiser(
            OTHER_GUILD_ID,
            OTHER_USER,
            "setup",
            Some(("conference", slug(OTHER_CONFERENCE))),
        ),
    )
    .await;

    // The same attendee is a member of both servers.
    let subscribed = ask(&bot, member_of(GUILD_ID, "subscribe", &[("room", "Barn")])).await;
    let in_b = ask(&bot, member_of(OTHER_GUILD_ID, "mytalks", &[])).await;
    let removed_in_b = ask(
        &bot,
        member_of(OTHER_GUILD_ID, "unsubscribe", &[("room", "Barn")]),
    )
    .await;
    let in_a = ask(&bot, member_of(GUILD_ID, "mytalks", &[])).await;

    assert!(private_text(&subscribed).contains("Barn"));
    assert!(
        private_text(&in_b).starts_with("You have no subscriptions yet"),
        "{}",
        in_b.body
    );
    assert!(
        !private_text(&removed_in_b).contains("unsubscribed"),
        "{}",
        removed_in_b.body
    );
    assert!(private_text(&in_a).contains("Barn"), "{}", in_a.body);
}
