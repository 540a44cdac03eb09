use super::*;
use crate::domain::model::ConferenceSlug;

fn text(reply: &Reply) -> &str {
    &reply.messages[0].content
}

#[test]
fn a_change_is_echoed_with_its_value_before_and_after() {
    let before = GuildSettings::seeded(ConferenceSlug::parse("livecon").ok(), None);
    let change = SetupChange::TimeZone(chrono_tz::Europe::Berlin);
    let after = change.apply(&before);

    let reply = changed(&change, &before, &after);

    assert_eq!(
        text(&reply),
        "Saved.\n**Time zone**: the conference's → `Europe/Berlin`"
    );
    assert_eq!(reply.visibility, super::super::Visibility::Ephemeral);
}

#[test]
fn show_lists_every_setting_and_says_when_they_come_from_the_configuration() {
    let settings = GuildSettings {
        organiser_role: Some(77),
        default_lead: LeadTime::from_minutes(5).ok(),
        ..GuildSettings::seeded(ConferenceSlug::parse("livecon").ok(), None)
    };

    let shown = show(&settings, false);

    let shown_text = text(&shown);
    assert!(shown_text.contains("Conference: `livecon`"), "{shown_text}");
    assert!(
        shown_text.contains("Organiser role: <@&77>"),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("Default reminder lead: 5 minutes"),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("Personal data kept after the last talk: 30 days (the default)"),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("Announcement channel: none"),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("configuration's first values"),
        "{shown_text}"
    );
    assert!(!show(&settings, true).messages[0]
        .content
        .contains("first values"));
}

#[test]
fn the_updates_channel_is_set_echoed_and_turned_off() {
    let before = GuildSettings::default();
    let on = SetupChange::Updates(Some(77));
    let after = on.apply(&before);
    assert_eq!(after.updates_channel, Some(77));
    assert_eq!(
        text(&changed(&on, &before, &after)),
        "Saved.\n**Schedule updates channel**: none → <#77>"
    );

    let off = SetupChange::Updates(None);
    let cleared = off.apply(&after);
    assert_eq!(cleared.updates_channel, None);
    assert_eq!(
        text(&changed(&off, &after, &cleared)),
        "Saved.\n**Schedule updates channel**: <#77> → none"
    );
    assert!(text(&show(&after, true)).contains("Schedule updates channel: <#77>"));
}

#[test]
fn a_retention_change_is_echoed_in_days() {
    let before = GuildSettings::default();
    let change = SetupChange::Retention(RetentionDays::new(7).expect("in range"));
    let after = change.apply(&before);

    let reply = changed(&change, &before, &after);

    assert_eq!(
        text(&reply),
        "Saved.\n**Personal data kept after the last talk**: 30 days (the default) → 7 days"
    );
}

#[test]
fn the_refusal_names_the_command_and_says_who_may() {
    assert_eq!(
        text(&not_an_organiser(Access::NotAnOrganiser, "/setup timezone")),
        "Only this server's organisers (Manage Server, or the organiser role) can use `/setup timezone`."
    );
    assert_eq!(
        text(&not_an_organiser(Access::NotInAServer, "/channel")),
        "`/channel` works in a server only, for its organisers."
    );
}
