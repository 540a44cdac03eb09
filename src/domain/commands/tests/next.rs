use chrono_tz::Tz;

use super::*;
use crate::domain::programme::testing::{demo, programme, seed, talk, utc};

fn next(room: Option<&str>, track: Option<&str>) -> Command {
    Command::Next {
        room: room.map(str::to_owned),
        track: track.map(str::to_owned),
    }
}

#[test]
fn next_on_the_seed_says_the_orchestrator_talk_starts_soon_in_barn() {
    let reply = answer(&seed(), utc("2026-04-25T22:00:00Z"), &next(None, None));

    assert_eq!(reply.visibility, Visibility::Ephemeral);
    assert_eq!(
        content(&reply),
        "**Python as Orchestrator: When to Glue, When to Compute** — Freya Bhushan Mehta: \
         starts <t:1777157100:R> in Barn (<t:1777157100:t>)"
    );
}

#[test]
fn now_during_the_seed_talk_says_how_long_it_has_left() {
    let reply = answer(
        &seed(),
        utc("2026-04-25T23:00:00Z"),
        &Command::Now { room: None },
    );

    assert_eq!(
        content(&reply),
        "**Python as Orchestrator: When to Glue, When to Compute** — Freya Bhushan Mehta: \
         in Barn now, ends <t:1777158600:R> (<t:1777158600:t>)"
    );
}

#[test]
fn after_the_last_talk_next_says_the_conference_is_over_and_when_it_ended() {
    let reply = answer(&seed(), utc("2026-04-26T12:00:00Z"), &next(None, None));

    assert_eq!(
        content(&reply),
        "The conference is over: the last talk, **Python as Orchestrator: When to Glue, When \
         to Compute** — Freya Bhushan Mehta in Barn, ended <t:1777158600:R> \
         (<t:1777158600:t>)."
    );
}

#[test]
fn next_lists_the_next_talk_of_each_room_skipping_cancelled_ones() {
    // 16:20 PDT: Barn is done for the day; Loft's 16:30 talk is cancelled.
    let reply = answer(&demo(), utc("2026-04-25T23:20:00Z"), &next(None, None));

    assert_eq!(
        content(&reply),
        "**Lightning Talks** — Many Speakers: starts <t:1777222800:R> in Barn \
         (<t:1777222800:t>)"
    );
}

#[test]
fn before_the_conference_next_gives_the_first_talks_with_their_dates() {
    let reply = answer(&demo(), utc("2026-04-20T00:00:00Z"), &next(None, None));

    assert_eq!(
        content(&reply),
        "**Opening: Welcome to Demo Conf** — Organising Team: starts <t:1777134600:R> in Barn \
         (<t:1777134600:f>)\n\
         **Flask for Fun and Profit** — Armin Ronacher: starts <t:1777137300:R> in Loft \
         (<t:1777137300:f>)"
    );
}

#[test]
fn next_in_a_room_or_track_only_looks_there() {
    let mut web = talk("Web Things", "Ann", "Hall", "2026-04-25T10:00:00Z", 30);
    web.track = Some("Web".into());
    let mut data = talk("Data Things", "Bob", "Hall", "2026-04-25T09:00:00Z", 30);
    data.track = Some("Data".into());
    let other = talk("Elsewhere", "Cy", "Annex", "2026-04-25T09:00:00Z", 30);
    let p = programme(Tz::UTC, vec![], vec![web, data, other]);
    let at = utc("2026-04-25T08:00:00Z");

    let by_track = answer(&p, at, &next(None, Some("web")));
    let by_room = answer(&p, at, &next(Some("hall"), None));

    assert_eq!(
        content(&by_track),
        "**Web Things** — Ann: starts <t:1777111200:R> in Hall (<t:1777111200:t>)"
    );
    assert_eq!(
        content(&by_room),
        "**Data Things** — Bob: starts <t:1777107600:R> in Hall (<t:1777107600:t>)"
    );
}

#[test]
fn an_unknown_room_or_track_is_refused_with_the_valid_ones() {
    let at = utc("2026-04-25T17:00:00Z");

    let room = answer(&demo(), at, &next(Some("Cellar"), None));
    let track = answer(&demo(), at, &next(None, Some("Web")));

    assert_eq!(room.visibility, Visibility::Ephemeral);
    assert_eq!(
        content(&room),
        "There is no room “Cellar” in this programme. Rooms: Barn, Loft."
    );
    assert_eq!(
        content(&track),
        "There is no track “Web” in this programme. Tracks: none yet."
    );
}

#[test]
fn now_between_talks_points_at_the_next_one() {
    // 11:30 PDT: morning talks are over, the next starts at 13:15 in Loft.
    let reply = answer(
        &demo(),
        utc("2026-04-25T18:30:00Z"),
        &Command::Now { room: None },
    );

    assert_eq!(
        content(&reply),
        "Nothing is on right now. Next: **\"Good Enough\" IS Good Enough!** — Alex Martelli \
         starts <t:1777148100:R> in Loft (<t:1777148100:t>)."
    );
}
