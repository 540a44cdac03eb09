use chrono::Duration;
use proptest::prelude::*;

use super::*;
use crate::domain::model::{Slot, SpeakerData, TalkKind, TalkStatus};
use crate::test_support::proptest_config;

/// A talk whose every imported text is `text`, at `start`.
fn hostile_talk(text: &str, start: DateTime<Utc>) -> TalkData {
    TalkData {
        title: text.to_owned(),
        speakers: vec![
            SpeakerData {
                name: text.to_owned(),
                ..SpeakerData::default()
            };
            3
        ],
        room: Some(text.into()),
        track: Some(text.into()),
        url: Some(format!("https://x.example/{text}").into()),
        slot: Some(Slot {
            start,
            end: start + Duration::minutes(30),
            all_day: false,
        }),
        ..TalkData::default()
    }
}

#[test]
fn a_hostile_title_is_escaped_and_the_reminder_stays_within_limits() {
    let start = utc("2026-06-01T10:00:00Z");
    let mut evil = hostile_talk("**@everyone** <@&1> [x](https://evil)", start);
    evil.title.push_str(&"_".repeat(3000));
    let programme = programme_of(Tz::UTC, stored(vec![evil], 1));

    let posts = plan(&programme, &[], &no_leads(), lead(10), &channels());
    let message = sent(&posts[0], posts[0].due);

    assert_within_limits(&message);
    assert!(message.content.starts_with(
        "⏰ **\\*\\*@\u{200b}everyone\\*\\* \\<@\u{200b}&1\\> \\[x\\]\\(https://evil\\)\\_"
    ));
    assert!(!message.content.contains("@everyone"));
    // The title is cut (with "…") long before Discord's 2000 characters.
    assert!(message.content.chars().count() < 1000);
    assert!(message.content.contains("…**"));
}

#[test]
fn a_link_that_is_not_a_plain_web_address_is_left_out() {
    let start = utc("2026-06-01T10:00:00Z");
    let mut talk = hostile_talk("Plain", start);
    talk.url = Some("javascript:alert(1)".into());
    let programme = programme_of(Tz::UTC, stored(vec![talk], 1));

    let posts = plan(&programme, &[], &no_leads(), lead(10), &channels());

    assert_eq!(
        sent(&posts[0], posts[0].due).content,
        "⏰ **Plain** — Plain, Plain, Plain — starting in 10 minutes in Plain \
         (<t:1780308000:R>)"
    );
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[*_~`|>#@<&\\[\\]()\\\\ \n\t-]{0,30}",
        Just("**@everyone** <@&1> ".repeat(120)),
        Just("é".repeat(3000)),
    ]
}

/// Any talk: text, start anywhere from year 1 to 9000, any status, kind and slot shape.
fn any_talk() -> impl Strategy<Value = TalkData> {
    (
        text(),
        -62_000_000_000_i64..250_000_000_000,
        any::<bool>(),
        any::<bool>(),
        0_u8..4,
    )
        .prop_map(|(text, seconds, cancelled, other, slot_shape)| {
            let start = DateTime::from_timestamp(seconds, 0).unwrap_or_default();
            let mut talk = hostile_talk(&text, start);
            talk.status = if cancelled {
                TalkStatus::Cancelled
            } else {
                TalkStatus::Confirmed
            };
            talk.kind = if other {
                TalkKind::Other
            } else {
                TalkKind::Talk
            };
            match slot_shape {
                0 => talk.slot = None,
                1 => talk.slot = talk.slot.map(|s| Slot { all_day: true, ..s }),
                2 => talk.room = None,
                _ => {}
            }
            talk
        })
}

fn any_subscription() -> impl Strategy<Value = Subscription> {
    (0_u64..4, 0_i64..8, text()).prop_map(|(user, talk, name)| {
        let target = match talk % 3 {
            0 => SubscriptionTarget::Room(name),
            1 => SubscriptionTarget::Track(name),
            _ => SubscriptionTarget::Talk(TalkId(talk)),
        };
        subscribe(user, target)
    })
}

proptest! {
    #![proptest_config(proptest_config(48))]

    #[test]
    fn planning_any_programme_never_panics_and_every_message_is_within_limits(
        talks in proptest::collection::vec(any_talk(), 0..8),
        subs in proptest::collection::vec(any_subscription(), 0..8),
        minutes in 0_i64..=120,
        late_by in -7_200_i64..7_200,
    ) {
        let programme = programme_of(Tz::Australia__Sydney, stored(talks, 1));
        let leads = HashMap::from([(1, lead(minutes)), (2, lead(0))]);

        let posts = plan(&programme, &subs, &leads, lead(10), &channels());

        prop_assert!(posts.windows(2).all(|w| (w[0].due, w[0].key) <= (w[1].due, w[1].key)));
        for post in &posts {
            prop_assert!(post.expires.is_some_and(|start| post.due <= start));
            let now = post.due.checked_add_signed(Duration::seconds(late_by)).unwrap_or(post.due);
            if let Decision::Send(message) = decide(post, now) {
                assert_within_limits(&message);
                prop_assert!(!message.content.contains("@everyone"));
            }
        }
    }
}
