use chrono_tz::Tz;

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 in test")
}

const BERLIN: Tz = Tz::Europe__Berlin;

fn daily(first: &str, repeat: &str) -> Announcement {
    Announcement {
        id: AnnouncementId(7),
        channel: 55,
        text: "Doors open".to_owned(),
        ping: Ping::None,
        first: at(first),
        repeat: Some(repeat.parse().expect("repeat")),
        zone: BERLIN,
    }
}

#[test]
fn times_are_read_in_the_conference_zone() {
    let now = at("2026-06-01T10:00:00Z"); // 12:00 in Berlin (CEST)

    let later_today = parse_when("14:30", BERLIN, now);
    let passed_today = parse_when("09:00", BERLIN, now);
    let tomorrow = parse_when("tomorrow 09:00", BERLIN, now);
    let dated = parse_when("2026-06-03 18:05", BERLIN, now);
    let instant = parse_when("2026-06-03T16:05:00Z", BERLIN, now);
    let immediately = parse_when("now", BERLIN, now);

    assert_eq!(later_today, Ok(at("2026-06-01T12:30:00Z")));
    assert_eq!(
        passed_today,
        Ok(at("2026-06-02T07:00:00Z")),
        "09:00 has passed: tomorrow's"
    );
    assert_eq!(tomorrow, Ok(at("2026-06-02T07:00:00Z")));
    assert_eq!(dated, Ok(at("2026-06-03T16:05:00Z")));
    assert_eq!(instant, Ok(at("2026-06-03T16:05:00Z")));
    assert_eq!(immediately, Ok(now));
}

#[test]
fn a_time_in_the_past_or_one_that_does_not_parse_is_refused_with_a_readable_reason() {
    let now = at("2026-06-01T10:00:00Z");

    let past = parse_when("2026-05-31 09:00", BERLIN, now)
        .unwrap_err()
        .to_string();
    let garbled = parse_when("half past nine", BERLIN, now)
        .unwrap_err()
        .to_string();
    let bad_clock = parse_when("25:61", BERLIN, now).unwrap_err().to_string();

    assert_eq!(
        past,
        "Sun 31 May 2026 09:00 CEST (2026-05-31 09:00) is in the past"
    );
    assert!(
        garbled.starts_with("\"half past nine\" is not a time"),
        "{garbled}"
    );
    assert!(
        bad_clock.starts_with("\"25:61\" is not a time"),
        "{bad_clock}"
    );
}

#[test]
fn a_local_time_in_the_spring_forward_gap_is_read_with_the_offset_from_before_the_gap() {
    // 02:30 does not exist in Berlin on 29 March 2026: read with +01:00, i.e. 01:30 UTC.
    let now = at("2026-03-28T12:00:00Z");

    assert_eq!(
        parse_when("2026-03-29 02:30", BERLIN, now),
        Ok(at("2026-03-29T01:30:00Z"))
    );
}

#[test]
fn daily_at_nine_stays_at_nine_local_across_the_dst_change() {
    let announcement = daily("2026-03-27T08:00:00Z", "daily 09:00");

    let times = announcement.occurrences(at("2026-03-27T00:00:00Z"), at("2026-03-31T00:00:00Z"));

    assert_eq!(
        times,
        [
            (0, at("2026-03-27T08:00:00Z")),
            (1, at("2026-03-28T08:00:00Z")),
            (2, at("2026-03-29T07:00:00Z")), // CEST from 29 March: 09:00 is 07:00 UTC
            (3, at("2026-03-30T07:00:00Z")),
        ]
    );
}

#[test]
fn cron_expressions_are_evaluated_in_the_zone_and_occurrence_indexes_stay_stable() {
    // Weekdays at 08:30 Berlin time.
    let announcement = daily("2026-10-23T00:00:00Z", "30 8 * * 1-5");

    let all = announcement.occurrences(at("2026-10-23T00:00:00Z"), at("2026-10-28T00:00:00Z"));
    let later = announcement.occurrences(at("2026-10-27T00:00:00Z"), at("2026-10-28T00:00:00Z"));

    assert_eq!(
        all,
        [
            (0, at("2026-10-23T06:30:00Z")), // Friday, CEST
            (1, at("2026-10-26T07:30:00Z")), // Monday, CET after 25 October
            (2, at("2026-10-27T07:30:00Z")),
        ]
    );
    assert_eq!(
        later,
        [(2, at("2026-10-27T07:30:00Z"))],
        "the same index from any window"
    );
}

#[test]
fn a_one_off_has_one_occurrence_and_posts_expire_an_hour_after_they_are_due() {
    let once = Announcement {
        repeat: None,
        ..daily("2026-06-01T12:00:00Z", "daily 09:00")
    };

    let before = once.posts(at("2026-06-01T11:00:00Z"));
    let long_after = once.posts(at("2026-06-01T13:30:00Z"));

    assert_eq!(before.len(), 1);
    let post = &before[0];
    assert_eq!(post.key.target, Target::Channel(55));
    assert_eq!(post.key.subject, Subject::Announcement(AnnouncementId(7)));
    assert_eq!(
        (post.key.kind, post.key.schedule_version),
        (PostKind::Announcement, 0)
    );
    assert_eq!(post.due, at("2026-06-01T12:00:00Z"));
    assert_eq!(post.expires, Some(at("2026-06-01T13:00:00Z")));
    assert!(long_after.is_empty(), "stale: not planned any more");
}

#[test]
fn a_repeating_announcement_plans_two_days_ahead_at_most_twenty_posts() {
    let every_minute = daily("2026-06-01T00:00:00Z", "* * * * *");
    let nightly = daily("2026-06-01T00:00:00Z", "daily 23:00");

    let minutes = every_minute.posts(at("2026-06-01T12:00:00Z"));
    let nights = nightly.posts(at("2026-06-01T12:00:00Z"));

    assert_eq!(minutes.len(), MAX_PLANNED);
    assert_eq!(
        minutes[0].due,
        at("2026-06-01T11:00:00Z"),
        "from an hour back"
    );
    assert_eq!(
        nights.iter().map(|p| p.due).collect::<Vec<_>>(),
        [at("2026-06-01T21:00:00Z"), at("2026-06-02T21:00:00Z")]
    );
}

#[test]
fn repeats_that_are_not_daily_times_or_cron_are_refused() {
    let errors: Vec<String> = ["daily nine", "every day", "61 * * * *", "* * *"]
        .iter()
        .map(|text| text.parse::<Repeat>().unwrap_err().to_string())
        .collect();

    assert!(errors[0].contains("is not a daily time"), "{errors:?}");
    assert!(
        errors[1].contains("neither \"daily HH:MM\" nor a cron expression"),
        "{errors:?}"
    );
    assert!(
        errors[2].contains("is not a valid cron expression"),
        "{errors:?}"
    );
    assert!(errors[3].contains("neither"), "{errors:?}");
    assert_eq!(
        "daily at 9:05"
            .parse::<Repeat>()
            .map(|r| r.expression().to_owned()),
        Ok("5 9 * * *".to_owned())
    );
}

#[test]
fn the_ping_comes_first_and_only_when_chosen() {
    assert_eq!(content("Lunch!", Ping::None), "Lunch!");
    assert_eq!(content("Lunch!", Ping::Role(12)), "<@&12> Lunch!");
    assert_eq!(content("Lunch!", Ping::Everyone), "@everyone Lunch!");
    let long = "x".repeat(3000);
    assert_eq!(
        content(&long, Ping::Everyone).chars().count(),
        limits::CONTENT
    );
}
