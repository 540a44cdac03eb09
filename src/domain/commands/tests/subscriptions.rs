//! The pure half of the reminder commands: resolving targets, overlaps, replies and the
//! channel map.

use std::collections::BTreeMap;

use chrono_tz::Tz;

use super::*;
use crate::domain::commands::channels::{channel_plan, with_channel};
use crate::domain::commands::subscriptions::{
    lead_set, lead_shown, my_talks, over, overlaps, resolve, subscribed, unsubscribed, Resolved,
    TargetQuery, MYTALKS_FILENAME,
};
use crate::domain::import::{self, ImportOptions};
use crate::domain::model::{TalkId, TalkStatus};
use crate::domain::programme::testing::{programme, talk, utc};
use crate::domain::programme::Programme;
use crate::domain::reminders::{ChannelPlan, LeadTime, SubscriptionTarget};

/// When a `/mytalks` file is made in these tests.
fn made() -> chrono::DateTime<chrono::Utc> {
    utc("2026-04-20T08:00:00Z")
}

fn lead(minutes: i64) -> LeadTime {
    LeadTime::from_minutes(minutes).expect("in range")
}

/// Talks 1-5: Alpha 10:00-10:30 Barn, Beta 10:15-10:45 Room B, Gamma 10:30-11:00 Loft (only
/// touches Alpha), Delta 10:00-11:00 Barn cancelled, Epsilon 12:00 Loft in track Data.
fn conf() -> Programme {
    let mut delta = talk("Delta", "Dee", "Barn", "2026-04-25T10:00:00Z", 60);
    delta.status = TalkStatus::Cancelled;
    let mut epsilon = talk("Epsilon", "Eve", "Loft", "2026-04-25T12:00:00Z", 30);
    epsilon.track = Some("Data".into());
    programme(
        Tz::UTC,
        vec![],
        vec![
            talk("Alpha", "Ann", "Barn", "2026-04-25T10:00:00Z", 30),
            talk("Beta", "Bob", "Room B", "2026-04-25T10:15:00Z", 30),
            talk("Gamma", "Gil", "Loft", "2026-04-25T10:30:00Z", 30),
            delta,
            epsilon,
        ],
    )
}

fn by_title<'a>(programme: &'a Programme, title: &str) -> &'a crate::domain::model::StoredTalk {
    programme
        .talks
        .iter()
        .find(|t| t.data.title == title)
        .expect("talk in programme")
}

fn titles(talks: &[&crate::domain::model::StoredTalk]) -> Vec<String> {
    talks.iter().map(|t| t.data.title.clone()).collect()
}

#[test]
fn a_talk_resolves_like_talk_and_rooms_and_tracks_by_their_programme_spelling() {
    let p = conf();

    let alpha = resolve(&p, &TargetQuery::Talk("alph".to_owned()), &[]);
    let room = resolve(&p, &TargetQuery::Room("room b".to_owned()), &[]);
    let track = resolve(&p, &TargetQuery::Track("DATA".to_owned()), &[]);

    assert!(matches!(alpha, Ok(Resolved::Talk(t)) if t.data.title == "Alpha"));
    assert_eq!(room, Ok(Resolved::Room("Room B")));
    assert_eq!(track, Ok(Resolved::Track("Data")));
}

#[test]
fn nothing_matching_is_a_clear_private_error_listing_what_exists() {
    let p = conf();

    let talk = resolve(&p, &TargetQuery::Talk("karaoke night".to_owned()), &[]);
    let room = resolve(&p, &TargetQuery::Room("Attic".to_owned()), &[]);

    let talk = talk.expect_err("no such talk");
    assert_eq!(talk.visibility, Visibility::Ephemeral);
    assert!(
        content(&talk).starts_with("No talk matches “karaoke night”"),
        "{talk:?}"
    );
    let room = room.expect_err("no such room");
    assert_eq!(
        content(&room),
        "There is no room “Attic” in this programme. Rooms: Barn, Loft, Room B."
    );
}

#[test]
fn unsubscribing_prefers_a_matching_talk_the_user_is_subscribed_to() {
    let p = programme(
        Tz::UTC,
        vec![],
        vec![
            talk(
                "Rust in production",
                "Ann",
                "Barn",
                "2026-04-25T10:00:00Z",
                30,
            ),
            talk("Rust in space", "Bob", "Loft", "2026-04-25T11:00:00Z", 30),
        ],
    );
    let space = by_title(&p, "Rust in space").id;

    let unsubscribing = resolve(&p, &TargetQuery::Talk("rust".to_owned()), &[space]);

    assert!(matches!(unsubscribing, Ok(Resolved::Talk(t)) if t.id == space));
}

#[test]
fn overlaps_are_talks_sharing_time_not_touching_ones_nor_cancelled_ones() {
    let p = conf();
    let alpha = by_title(&p, "Alpha");
    let all: Vec<TalkId> = p.talks.iter().map(|t| t.id).collect();

    let found = overlaps(&p, alpha, &all);
    let cancelled = overlaps(&p, by_title(&p, "Delta"), &all);
    let unsubscribed_beta = overlaps(&p, alpha, &[by_title(&p, "Gamma").id]);

    assert_eq!(titles(&found), ["Beta"]);
    assert!(cancelled.is_empty());
    assert!(unsubscribed_beta.is_empty());
}

#[test]
fn the_subscription_reply_says_when_where_and_what_overlaps() {
    let p = conf();
    let alpha = by_title(&p, "Alpha");
    let beta = by_title(&p, "Beta");
    let start = utc("2026-04-25T10:00:00Z").timestamp();

    let before = utc("2026-04-25T09:00:00Z");
    let added = subscribed(&Resolved::Talk(alpha), lead(10), true, &[beta], before);
    let again = subscribed(&Resolved::Talk(alpha), lead(1), false, &[], before);
    let room = subscribed(&Resolved::Room("Barn"), lead(0), true, &[], before);

    assert_eq!(added.visibility, Visibility::Ephemeral);
    assert_eq!(
        content(&added),
        format!(
            "You will be reminded 10 minutes before **Alpha** (<t:{start}:F>, Barn).\n\
             It overlaps with **Beta** in Room B.\n\
             `/mytalks` lists your subscriptions, `/remind` sets how early."
        )
    );
    assert_eq!(
        content(&again),
        format!(
            "You are already subscribed. You will be reminded 1 minute before **Alpha** \
             (<t:{start}:F>, Barn)."
        )
    );
    assert!(
        content(&room).starts_with("You will be reminded at the start of every talk in **Barn**.")
    );
}

#[test]
fn unsubscribing_says_whether_there_was_a_subscription() {
    let p = conf();
    let alpha = Resolved::Talk(by_title(&p, "Alpha"));

    assert_eq!(
        content(&unsubscribed(&alpha, true)),
        "You will no longer be reminded about **Alpha**."
    );
    assert_eq!(
        content(&unsubscribed(&Resolved::Track("Data"), false)),
        "You were not subscribed to the track **Data**: nothing changed."
    );
}

#[test]
fn my_talks_lists_talks_rooms_and_tracks_and_attaches_a_calendar_that_imports_back() {
    let p = conf();
    let subscriptions = [
        SubscriptionTarget::Talk(by_title(&p, "Beta").id),
        SubscriptionTarget::Talk(by_title(&p, "Alpha").id),
        SubscriptionTarget::Room("Loft".to_owned()),
        SubscriptionTarget::Track("Data".to_owned()),
        SubscriptionTarget::Talk(TalkId(999)),
    ];

    let reply = my_talks(&p, &subscriptions, lead(10), made(), None);

    assert_within_limits(&reply);
    assert_eq!(reply.visibility, Visibility::Ephemeral);
    let text = content(&reply);
    let alpha = text.find("**Alpha**").expect("Alpha listed");
    let beta = text.find("• **Beta**").expect("Beta listed");
    assert!(alpha < beta, "programme order: {text}");
    assert!(
        text.contains(
            "• **Alpha** — Ann · <t:1777111200:F>, Barn · overlaps with **Beta** in Room B"
        ),
        "{text}"
    );
    assert!(text.contains("**Every talk in:** Loft"), "{text}");
    assert!(
        text.contains("**Every talk of the tracks:** Data"),
        "{text}"
    );
    assert!(
        text.contains("1 of your talks are no longer in the programme."),
        "{text}"
    );
    let files = &reply.messages[0].attachments;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].filename, MYTALKS_FILENAME);
    let file = String::from_utf8_lossy(&files[0].bytes);
    assert!(
        file.contains("DTSTAMP:20260420T080000Z"),
        "made then, not in 1970: {file}"
    );
    let calendar = import::parse(&files[0].bytes, None, &ImportOptions::default())
        .expect("the attachment imports");
    let mut imported: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = calendar
        .talks
        .iter()
        .map(|t| (t.title.clone(), t.slot.map(|s| s.start)))
        .collect();
    imported.sort();
    assert_eq!(
        imported,
        [
            ("Alpha".to_owned(), Some(utc("2026-04-25T10:00:00Z"))),
            ("Beta".to_owned(), Some(utc("2026-04-25T10:15:00Z"))),
        ]
    );
}

#[test]
fn no_subscriptions_get_a_hint_and_no_file() {
    let reply = my_talks(&conf(), &[], lead(10), made(), None);

    assert!(content(&reply).starts_with("You have no subscriptions yet"));
    assert!(reply.messages[0].attachments.is_empty());
}

#[test]
fn many_subscriptions_with_hostile_titles_are_paged_within_limits_and_defused() {
    let hostile = "**@everyone** <@&1> `x` ".repeat(20);
    let talks: Vec<_> = (0..400)
        .map(|i| {
            let start = utc("2026-04-25T08:00:00Z") + chrono::Duration::minutes(i);
            talk(
                &format!("{hostile}{i}"),
                &hostile,
                &hostile,
                &start.to_rfc3339(),
                30,
            )
        })
        .collect();
    let p = programme(Tz::UTC, vec![], talks);
    let subscriptions: Vec<SubscriptionTarget> = p
        .talks
        .iter()
        .map(|t| SubscriptionTarget::Talk(t.id))
        .collect();

    let reply = my_talks(&p, &subscriptions, lead(10), made(), None);

    assert_within_limits(&reply);
    assert!(reply.messages.len() > 1, "paged");
    let all: String = reply.messages.iter().map(|m| m.content.as_str()).collect();
    assert!(!all.contains("@everyone"), "mentions defused");
    assert!(!all.contains("<@&1>"), "role mentions defused");
    assert!(all.contains("… and more"), "the cut is said");
    assert_eq!(reply.messages[0].attachments.len(), 1);
    assert!(reply.messages[1..].iter().all(|m| m.attachments.is_empty()));
}

#[test]
fn lead_time_replies_say_whose_choice_it_is() {
    assert!(content(&lead_shown(lead(10), false)).starts_with(
        "You are reminded 10 minutes before each talk you subscribed to (the default)."
    ));
    assert!(content(&lead_shown(lead(5), true)).contains("(your choice)"));
    assert_eq!(
        content(&lead_set(lead(5))),
        "Done: from now on you are reminded 5 minutes before each talk you subscribed to."
    );
}

#[test]
fn a_room_channel_replaces_another_spelling_and_the_map_is_echoed_with_mentions() {
    let p = conf();
    let base = ChannelPlan {
        by_room: BTreeMap::from([("barn".to_owned(), 1), ("Loft".to_owned(), 2)]),
        default: None,
        lead: lead(5),
        names: BTreeMap::new(),
    };

    let plan = with_channel(
        &p,
        base.clone(),
        Some("BARN"),
        18_000_000_000_000_000_001,
        Some("barn-talks"),
    )
    .expect("Barn is a room");
    let with_default = with_channel(&p, plan.clone(), None, 900, None).expect("default");
    let unknown = with_channel(&p, base, Some("Attic"), 3, None).expect_err("no Attic");

    assert_eq!(
        plan.by_room,
        BTreeMap::from([
            ("Barn".to_owned(), 18_000_000_000_000_000_001),
            ("Loft".to_owned(), 2)
        ])
    );
    assert_eq!(
        plan.names
            .get(&18_000_000_000_000_000_001)
            .map(String::as_str),
        Some("barn-talks")
    );
    assert_eq!(with_default.default, Some(900));
    assert!(
        content(&unknown).contains("Rooms: Barn, Loft, Room B."),
        "{unknown:?}"
    );
    assert_eq!(
        content(&channel_plan(&p, &with_default)),
        "**Reminder channels for Test Conf** (posted 5 minutes before each talk):\n\
         Barn → <#18000000000000000001>\n\
         Loft → <#2>\n\
         Every other room → <#900>"
    );
    assert!(content(&channel_plan(&p, &plan)).ends_with("Every other room → no channel reminders"));
}

#[test]
fn the_my_talks_calendar_keeps_the_sources_uid_and_description_the_snapshot_holds_apart() {
    let p = crate::domain::programme::testing::seed();
    let talk = p.talks[0].id;

    let reply = my_talks(
        &p,
        &[SubscriptionTarget::Talk(talk)],
        lead(10),
        made(),
        None,
    );

    let ics = String::from_utf8(reply.messages[0].attachments[0].bytes.clone()).expect("utf-8");
    assert!(
        ics.contains("UID:pretalx-nbpy-2026-ERUJ9T@pretalx.northbaypython.org"),
        "{ics}"
    );
}

#[test]
fn subscribing_to_a_talk_under_way_or_over_says_so_instead_of_promising_a_reminder() {
    let p = conf();
    let alpha = Resolved::Talk(by_title(&p, "Alpha"));
    let during = utc("2026-04-25T10:05:00Z");

    let refused_before = over(&alpha, utc("2026-04-25T10:29:00Z"));
    let refused_after = over(&alpha, utc("2026-04-25T10:30:00Z"));
    let room = over(&Resolved::Room("Barn"), utc("2026-04-25T11:00:00Z"));
    let under_way = subscribed(&alpha, lead(10), true, &[], during);
    let ahead = subscribed(&alpha, lead(10), true, &[], utc("2026-04-25T09:00:00Z"));

    assert!(
        refused_before.is_none(),
        "under way: it can still go in /mytalks"
    );
    assert!(room.is_none(), "a room has talks to come");
    assert_eq!(
        content(&refused_after.expect("refused")),
        "**Alpha** is over (it ended <t:1777113000:R>): there is nothing left to remind you of."
    );
    assert!(
        content(&under_way).starts_with(
            "**Alpha** started <t:1777111200:R>, so no reminder will come; it runs until \
             <t:1777113000:t> in Barn and is in your `/mytalks`."
        ),
        "{}",
        content(&under_way)
    );
    assert!(content(&ahead).starts_with("You will be reminded 10 minutes before **Alpha**"));
}
