use super::*;

#[test]
fn a_real_iana_zone_is_accepted_and_a_made_up_one_refused() {
    assert_eq!(parse_zone(" Europe/Berlin "), Ok(chrono_tz::Europe::Berlin));
    assert_eq!(
        parse_zone("Mars/Olympus_Mons"),
        Err(SetupError::UnknownZone("Mars/Olympus_Mons".into()))
    );
    assert!(parse_zone("").is_err());
}

#[test]
fn a_source_must_be_http_or_https_with_a_host_and_a_sane_interval() {
    assert_eq!(
        parse_source("https://pretalx.example.org/x/schedule.ics", 15),
        Ok(SetupChange::Source {
            url: "https://pretalx.example.org/x/schedule.ics".into(),
            refresh_minutes: 15
        })
    );
    for bad in [
        "ftp://example.org/s.ics",
        "file:///etc/passwd",
        "example.org",
        "http://",
    ] {
        assert!(
            matches!(parse_source(bad, 15), Err(SetupError::NotHttp(_))),
            "{bad}"
        );
    }
    assert_eq!(
        parse_source("http://example.org", 1),
        Err(SetupError::Refresh)
    );
    assert_eq!(
        parse_source("http://example.org", 2000),
        Err(SetupError::Refresh)
    );
}

#[test]
fn a_change_touches_only_its_fields_and_the_audit_shows_them_before_and_after() {
    let before = GuildSettings::seeded(ConferenceSlug::parse("livecon").ok(), None);
    let change = SetupChange::Channel {
        kind: ChannelKind::OrganiserLog,
        channel: 18_000_000_000_000_000_001,
    };

    let after = change.apply(&before);

    assert_eq!(
        after.organiser_log_channel,
        Some(18_000_000_000_000_000_001)
    );
    assert_eq!(after.conference, before.conference);
    assert_eq!(after.announcement_channel, None);
    assert_eq!(
        change.audit_fields(&before),
        json!({"organiser_log_channel": null})
    );
    assert_eq!(
        change.audit_fields(&after),
        json!({"organiser_log_channel": "18000000000000000001"})
    );
}

#[test]
fn every_channel_kind_round_trips_through_its_option_value() {
    for kind in ChannelKind::ALL {
        assert_eq!(ChannelKind::parse(kind.as_str()), Some(kind));
    }
    assert_eq!(ChannelKind::parse("general"), None);
}

#[test]
fn only_the_server_bringing_the_programme_or_assigned_it_may_publish() {
    let slug = ConferenceSlug::parse("nbpy").expect("slug");
    let follower = GuildSettings::seeded(Some(slug.clone()), None);
    assert!(!may_publish(&follower, None), "following is not enough");
    assert!(
        may_publish(&follower, Some(&slug)),
        "the operator assigned it"
    );
    let other = ConferenceSlug::parse("other").expect("slug");
    assert!(!may_publish(&follower, Some(&other)));
    let importer = GuildSettings {
        source_url: Some("https://pretalx.example.org/nbpy/schedule.ics".into()),
        ..follower.clone()
    };
    assert!(
        may_publish(&importer, None),
        "its /setup source brings the programme"
    );
    assert!(
        !may_publish(&GuildSettings::default(), Some(&slug)),
        "no conference"
    );

    let published = SetupChange::Web(true).apply(&importer);
    let moved = SetupChange::Conference(other.clone()).apply(&published);
    assert!(published.web_public);
    assert!(
        !moved.web_public,
        "publishing was decided for the other conference"
    );
    let same = SetupChange::Conference(slug).apply(&published);
    assert!(same.web_public);
}
