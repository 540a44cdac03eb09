use super::*;
use crate::domain::commands::{Button, ButtonAction};
use crate::domain::model::{Slot, TalkKind, TalkStatus};

const SEED_LINK: &str = "<https://pretalx.northbaypython.org/nbpy-2026/talk/ERUJ9T/>";

/// A confirmed talk in `room` at `start` lasting 30 minutes.
fn talk_at(title: &str, room: &str, start: DateTime<Utc>) -> TalkData {
    TalkData {
        title: title.to_owned(),
        room: Some(room.into()),
        slot: Some(Slot {
            start,
            end: start + chrono::Duration::minutes(30),
            all_day: false,
        }),
        ..TalkData::default()
    }
}

#[test]
fn the_seed_talk_is_reminded_in_the_barn_channel_and_to_a_subscriber_at_their_lead() {
    let programme = seed();
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];
    let leads = HashMap::from([(42, lead(5))]);

    let posts = plan(&programme, &subs, &leads, lead(10), &channels());

    let summary: Vec<(DateTime<Utc>, Target)> =
        posts.iter().map(|p| (p.due, p.key.target)).collect();
    assert_eq!(
        summary,
        [
            (utc("2026-04-25T22:35:00Z"), Target::Channel(BARN)),
            (utc("2026-04-25T22:40:00Z"), Target::Dm(42)),
        ]
    );
    assert_eq!(
        posts[0].key,
        PostKey {
            target: Target::Channel(BARN),
            subject: Subject::Talk(TalkId(1)),
            kind: PostKind::Reminder,
            schedule_version: 1,
        }
    );
    let channel = sent(&posts[0], posts[0].due);
    assert_eq!(
        channel.content,
        format!(
            "⏰ **{SEED_TITLE}** — Freya Bhushan Mehta — starting in 10 minutes in Barn \
             (<t:{SEED_START}:R>)\n{SEED_LINK}"
        )
    );
    assert_eq!(
        channel.buttons,
        [Button {
            label: "Remind me".to_owned(),
            action: ButtonAction::RemindMe(TalkId(1)),
        }]
    );
    let dm = sent(&posts[1], posts[1].due);
    assert!(dm.content.contains("— starting in 5 minutes in Barn"));
    assert!(dm.buttons.is_empty(), "a DM needs no Remind me button");
}

#[test]
fn a_user_subscribed_to_the_talk_its_room_and_its_track_gets_one_dm() {
    let import = seed_import();
    let mut talks = import.talks;
    talks[0].track = Some("Performance".into());
    let programme = programme_of(Tz::America__Los_Angeles, stored(talks, 1));
    let subs = [
        subscribe(7, SubscriptionTarget::Talk(TalkId(1))),
        subscribe(7, SubscriptionTarget::Talk(TalkId(1))),
        subscribe(7, SubscriptionTarget::Room("barn".to_owned())),
        subscribe(7, SubscriptionTarget::Track("PERFORMANCE".to_owned())),
        subscribe(8, SubscriptionTarget::Track("Performance".to_owned())),
    ];

    let posts = plan(&programme, &subs, &no_leads(), lead(15), &channels());

    let summary: Vec<(Target, DateTime<Utc>)> =
        posts.iter().map(|p| (p.key.target, p.due)).collect();
    assert_eq!(
        summary,
        [
            (Target::Dm(7), utc("2026-04-25T22:30:00Z")),
            (Target::Dm(8), utc("2026-04-25T22:30:00Z")),
            (Target::Channel(BARN), utc("2026-04-25T22:35:00Z")),
        ]
    );
}

#[test]
fn a_room_without_its_own_channel_uses_the_default_and_without_a_default_gets_none() {
    let start = utc("2026-06-01T10:00:00Z");
    let talks = stored(vec![talk_at("Loft talk", "Loft", start)], 1);
    let programme = programme_of(Tz::UTC, talks);
    let mut no_default = channels();
    no_default.default = None;

    let with_default = plan(&programme, &[], &no_leads(), lead(10), &channels());
    let without = plan(&programme, &[], &no_leads(), lead(10), &no_default);

    assert_eq!(with_default.len(), 1);
    assert_eq!(with_default[0].key.target, Target::Channel(LOBBY));
    assert_eq!(with_default[0].due, utc("2026-06-01T09:50:00Z"));
    assert!(without.is_empty());
}

#[test]
fn cancelled_talks_breaks_all_day_entries_and_unscheduled_talks_are_never_reminded() {
    let start = utc("2026-06-01T10:00:00Z");
    let mut cancelled = talk_at("Cancelled", "Barn", start);
    cancelled.status = TalkStatus::Cancelled;
    let mut lunch = talk_at("Lunch", "Barn", start);
    lunch.kind = TalkKind::Other;
    let mut all_day = talk_at("Hackathon", "Barn", start);
    all_day.slot = all_day.slot.map(|s| Slot { all_day: true, ..s });
    let mut unscheduled = talk_at("Maybe", "Barn", start);
    unscheduled.slot = None;
    let programme = programme_of(
        Tz::UTC,
        stored(vec![cancelled, lunch, all_day, unscheduled], 1),
    );
    let subs: Vec<Subscription> = (1..=4)
        .map(|id| subscribe(9, SubscriptionTarget::Talk(TalkId(id))))
        .chain([subscribe(10, SubscriptionTarget::Room("Barn".to_owned()))])
        .collect();

    let posts = plan(&programme, &subs, &no_leads(), lead(10), &channels());

    assert_eq!(posts, []);
}

#[test]
fn posts_are_ordered_by_due_instant_then_channels_before_dms() {
    let talks = stored(
        vec![
            talk_at("Later", "Barn", utc("2026-06-01T11:00:00Z")),
            talk_at("Earlier", "Loft", utc("2026-06-01T10:00:00Z")),
        ],
        1,
    );
    let programme = programme_of(Tz::UTC, talks);
    let subs = [
        subscribe(3, SubscriptionTarget::Talk(TalkId(2))),
        subscribe(2, SubscriptionTarget::Talk(TalkId(2))),
        subscribe(2, SubscriptionTarget::Talk(TalkId(1))),
    ];

    let posts = plan(&programme, &subs, &no_leads(), lead(10), &channels());

    let order: Vec<(String, Target, TalkId)> = posts
        .iter()
        .filter_map(|p| {
            Some((
                p.due.format("%H:%M").to_string(),
                p.key.target,
                p.key.subject.talk()?,
            ))
        })
        .collect();
    let expected = [
        ("09:50", Target::Channel(LOBBY), TalkId(2)),
        ("09:50", Target::Dm(2), TalkId(2)),
        ("09:50", Target::Dm(3), TalkId(2)),
        ("10:50", Target::Channel(BARN), TalkId(1)),
        ("10:50", Target::Dm(2), TalkId(1)),
    ]
    .map(|(t, target, talk)| (t.to_owned(), target, talk));
    assert_eq!(order, expected);
}

#[test]
fn the_next_deadline_is_the_earliest_due_instant_not_yet_past() {
    let programme = seed();
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];
    let leads = HashMap::from([(42, lead(5))]);
    let posts = plan(&programme, &subs, &leads, lead(10), &channels());

    assert_eq!(
        next_deadline(&posts, utc("2026-04-25T20:00:00Z")),
        Some(utc("2026-04-25T22:35:00Z"))
    );
    assert_eq!(
        next_deadline(&posts, utc("2026-04-25T22:35:00Z")),
        Some(utc("2026-04-25T22:35:00Z"))
    );
    assert_eq!(
        next_deadline(&posts, utc("2026-04-25T22:35:01Z")),
        Some(utc("2026-04-25T22:40:00Z"))
    );
    assert_eq!(next_deadline(&posts, utc("2026-04-25T22:40:01Z")), None);
}

/// A 09:00 local talk on the day the clocks change, reminded 120 minutes ahead: the due
/// instant is two real hours before the start, whatever the wall clock did in between.
fn two_hours_ahead_of_nine(zone: Tz, y: i32, m: u32, d: u32) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = local(zone, y, m, d, 9);
    let programme = programme_of(zone, stored(vec![talk_at("Morning", "Barn", start)], 1));
    let subs = [subscribe(5, SubscriptionTarget::Talk(TalkId(1)))];
    let posts = plan(&programme, &subs, &no_leads(), lead(120), &channels());
    let dm = posts
        .iter()
        .find(|p| p.key.target == Target::Dm(5))
        .expect("a DM is planned");
    (start, dm.due)
}

#[test]
fn a_talk_on_the_berlin_spring_forward_sunday_is_reminded_two_real_hours_ahead() {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST; 09:00 CEST is 07:00 UTC.
    let (start, due) = two_hours_ahead_of_nine(Tz::Europe__Berlin, 2026, 3, 29);
    assert_eq!(start, utc("2026-03-29T07:00:00Z"));
    assert_eq!(due, utc("2026-03-29T05:00:00Z"));
}

#[test]
fn a_talk_on_the_los_angeles_fall_back_sunday_is_reminded_two_real_hours_ahead() {
    // 2026-11-01: 02:00 PDT becomes 01:00 PST; 09:00 PST is 17:00 UTC.
    let (start, due) = two_hours_ahead_of_nine(Tz::America__Los_Angeles, 2026, 11, 1);
    assert_eq!(start, utc("2026-11-01T17:00:00Z"));
    assert_eq!(due, utc("2026-11-01T15:00:00Z"));
}

#[test]
fn a_talk_on_the_sydney_april_fall_back_sunday_is_reminded_two_real_hours_ahead() {
    // 2026-04-05: 03:00 AEDT becomes 02:00 AEST; 09:00 AEST is 23:00 UTC the day before.
    let (start, due) = two_hours_ahead_of_nine(Tz::Australia__Sydney, 2026, 4, 5);
    assert_eq!(start, utc("2026-04-04T23:00:00Z"));
    assert_eq!(due, utc("2026-04-04T21:00:00Z"));
}

#[test]
fn lead_times_from_0_to_120_minutes_parse_and_others_are_refused_with_a_safe_message() {
    assert_eq!("10".parse::<LeadTime>().map(LeadTime::minutes), Ok(10));
    assert_eq!(" 0 ".parse::<LeadTime>().map(LeadTime::minutes), Ok(0));
    assert_eq!(
        "120 min".parse::<LeadTime>().map(LeadTime::minutes),
        Ok(120)
    );
    assert_eq!(
        "121".parse::<LeadTime>().map_err(|e| e.to_string()),
        Err("a reminder lead time is 0 to 120 minutes, not 121".to_owned())
    );
    assert_eq!(
        LeadTime::from_minutes(-5),
        Err(LeadTimeError::OutOfRange(-5))
    );
    assert_eq!(
        "soon".parse::<LeadTime>().map_err(|e| e.to_string()),
        Err(
            "a reminder lead time is a whole number of minutes from 0 to 120, not \"soon\""
                .to_owned()
        )
    );
}
