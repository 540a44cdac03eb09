use chrono::Duration;

use super::*;

/// The seed's two reminders: #barn-talks at 22:35 and user 42 (lead 5) at 22:40.
fn seed_posts() -> Vec<PlannedPost> {
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];
    let leads = HashMap::from([(42, lead(5))]);
    plan(&seed(), &subs, &leads, lead(10), &channels())
}

#[test]
fn after_downtime_a_reminder_states_the_true_remaining_time() {
    let posts = seed_posts();

    let message = sent(&posts[0], utc("2026-04-25T22:42:00Z"));

    assert_eq!(
        message.content.lines().next(),
        Some(
            format!(
                "⏰ **{SEED_TITLE}** — Freya Bhushan Mehta — starting in 3 minutes in Barn \
                 (<t:{SEED_START}:R>)"
            )
            .as_str()
        )
    );
}

#[test]
fn once_the_talk_has_started_a_late_reminder_is_dropped_with_its_reason() {
    let posts = seed_posts();

    let decision = decide(&posts[0], utc("2026-04-25T22:46:00Z"));

    let Decision::Drop(reason) = decision else {
        panic!("sent after the start: {decision:?}");
    };
    assert_eq!(
        reason.to_string(),
        "reminder for talk 1 dropped at 2026-04-25T22:46:00Z: the talk started at \
         2026-04-25T22:45:00Z"
    );
}

#[test]
fn remaining_time_is_rounded_to_the_nearest_minute_and_under_half_a_minute_is_now() {
    let start = utc("2026-04-25T22:45:00Z");
    let at = |seconds_before: i64| starting_in(start, start - Duration::seconds(seconds_before));

    assert_eq!(at(0), "starting now");
    assert_eq!(at(29), "starting now");
    assert_eq!(at(30), "starting in 1 minute");
    assert_eq!(at(89), "starting in 1 minute");
    assert_eq!(at(90), "starting in 2 minutes");
    assert_eq!(at(600), "starting in 10 minutes");
    assert_eq!(at(-60), "starting now");
}

#[test]
fn a_reminder_at_the_start_instant_is_still_sent_as_starting_now() {
    let posts = seed_posts();

    let message = sent(&posts[1], utc("2026-04-25T22:45:00Z"));

    assert!(message.content.contains(" — starting now in Barn "));
}

#[test]
fn due_now_returns_the_posts_due_within_the_grace_with_their_decisions() {
    let posts = seed_posts();

    let at_channel_time = due_now(&posts, utc("2026-04-25T22:35:00Z"), Duration::zero());
    let just_before_dm = due_now(&posts, utc("2026-04-25T22:39:59.9Z"), Duration::seconds(1));
    let late = due_now(&posts, utc("2026-04-25T22:50:00Z"), Duration::zero());

    let targets = |due: &[(&PlannedPost, Decision)]| -> Vec<Target> {
        due.iter().map(|(p, _)| p.key.target).collect()
    };
    assert_eq!(targets(&at_channel_time), [Target::Channel(BARN)]);
    assert_eq!(
        targets(&just_before_dm),
        [Target::Channel(BARN), Target::Dm(42)]
    );
    assert!(late
        .iter()
        .all(|(_, d)| matches!(d, Decision::Drop(DropReason::TooLate { .. }))));
    assert_eq!(late.len(), 2);
}

#[test]
fn simulate_prints_each_post_of_the_window_on_one_line_in_order() {
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];
    let leads = HashMap::from([(42, lead(5))]);

    let lines = simulate(
        &seed(),
        &subs,
        &leads,
        lead(10),
        &channels(),
        &[],
        utc("2026-04-25T00:00:00Z")..utc("2026-04-26T00:00:00Z"),
    );
    let narrow = simulate(
        &seed(),
        &subs,
        &leads,
        lead(10),
        &channels(),
        &[],
        utc("2026-04-25T22:36:00Z")..utc("2026-04-25T22:40:00Z"),
    );

    let text = |minutes: u32| {
        format!(
            "⏰ **{SEED_TITLE}** — Freya Bhushan Mehta — starting in {minutes} minutes in Barn \
             (<t:{SEED_START}:R>) <https://pretalx.northbaypython.org/nbpy-2026/talk/ERUJ9T/>"
        )
    };
    assert_eq!(
        lines,
        [
            format!("2026-04-25T22:35:00Z\tchannel:barn-talks\t{}", text(10)),
            format!("2026-04-25T22:40:00Z\tdm:42\t{}", text(5)),
        ]
    );
    assert_eq!(narrow, Vec::<String>::new(), "the window's end is excluded");
}

#[test]
fn simulate_lists_queued_schedule_updates_among_the_reminders() {
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];
    let leads = HashMap::from([(42, lead(5))]);
    let update = |due: &str, version| PlannedPost {
        key: PostKey {
            target: Target::Channel(LOBBY),
            subject: Subject::Import(3),
            kind: PostKind::ScheduleUpdate,
            schedule_version: version,
        },
        due: utc(due),
        expires: None,
        body: PostBody::Notice {
            content: "📅 **Schedule update**\nCancelled: **Gone**".into(),
        },
    };
    let queued = [
        update("2026-04-25T22:37:00Z", 0),
        update("2026-04-27T00:00:00Z", 1),
    ];

    let lines = simulate(
        &seed(),
        &subs,
        &leads,
        lead(10),
        &channels(),
        &queued,
        utc("2026-04-25T00:00:00Z")..utc("2026-04-26T00:00:00Z"),
    );

    let kinds: Vec<&str> = lines
        .iter()
        .map(|line| line.split('\t').nth(1).unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["channel:barn-talks", "channel:900", "dm:42"]);
    assert_eq!(
        lines[1],
        "2026-04-25T22:37:00Z\tchannel:900\t📅 **Schedule update** Cancelled: **Gone**"
    );
}

#[test]
fn a_channel_without_a_known_name_is_shown_by_its_id() {
    assert_eq!(
        target_label(Target::Channel(LOBBY), &channels()),
        "channel:900"
    );
    assert_eq!(target_label(Target::Dm(42), &channels()), "dm:42");
}

#[test]
fn a_planned_body_and_lead_time_survive_a_round_trip_through_json_for_the_outbox() {
    let posts = seed_posts();

    let json = serde_json::to_string(&posts[0].body).expect("serialises");
    let back: PostBody = serde_json::from_str(&json).expect("deserialises");
    let lead_back: Result<LeadTime, _> = serde_json::from_str("121");

    assert_eq!(back, posts[0].body);
    assert!(json.starts_with(r#"{"body":"reminder","title":"Python as Orchestrator"#));
    assert_eq!(serde_json::to_string(&lead(5)).expect("serialises"), "5");
    assert!(lead_back.is_err(), "an out-of-range lead time is refused");
}

#[test]
fn simulate_with_nothing_to_post_names_each_reason_that_holds() {
    let window = || utc("2026-04-25T00:00:00Z")..utc("2026-04-26T00:00:00Z");
    let empty_window = || utc("2030-01-01T00:00:00Z")..utc("2030-01-02T00:00:00Z");
    let subs = [subscribe(42, SubscriptionTarget::Talk(TalkId(1)))];

    let unmapped = ChannelPlan {
        by_room: std::collections::BTreeMap::new(),
        default: None,
        ..channels()
    };
    let bare = why_nothing(&seed(), &[], &unmapped, empty_window());
    let outside = why_nothing(&seed(), &subs, &channels(), window());

    assert_eq!(
        bare,
        "Nothing would be posted between 2030-01-01T00:00:00Z and 2030-01-02T00:00:00Z: \
         this conference has no channel map (`/channel` sets one); nobody has subscribed to \
         anything; no talk starts in the window."
    );
    assert!(
        outside.ends_with(": every reminder falls before or after the window."),
        "{outside}"
    );
}
