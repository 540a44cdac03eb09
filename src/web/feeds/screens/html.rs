//! The screens' HTML: the whole page, and the contents its event stream replaces; and the
//! static files the page loads. Every schedule text goes through maud's escaping.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{html, Markup, DOCTYPE};

use crate::domain::screens::{ClockFormat, Entry, RoomScreen, Screen};

/// The whole page.
pub(super) fn whole(screen: &Screen, room: Option<&str>) -> Markup {
    let heading = room.map_or_else(|| "Now and next".to_owned(), |_| room_name(screen));
    let query: String = room.map_or_else(String::new, |room| {
        let encoded: String = form_urlencoded::byte_serialize(room.as_bytes()).collect();
        format!("?room={encoded}")
    });
    let clock = match screen.clock {
        ClockFormat::Twelve => "12",
        ClockFormat::TwentyFour => "24",
    };
    let now = screen.clock.time(Utc::now(), screen.zone);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (heading) " · " (screen.conference) }
                link rel="stylesheet" href="../../static/screen.css";
                link rel="icon" href="../../static/icon.svg" type="image/svg+xml";
                script src="../../static/screen.js" defer {}
                // Without JavaScript the page reloads itself instead.
                noscript { meta http-equiv="refresh" content="60"; }
            }
            body data-events={ "screen/events" (query) } data-zone=(screen.zone.name())
                data-clock=(clock) {
                header {
                    h1 id="room" { (heading) }
                    div class="clock" id="clock" { (now) }
                }
                main id="screen" { (contents(screen)) }
                footer {
                    span { (screen.conference) }
                    span id="status" {}
                }
            }
        }
    }
}

fn room_name(screen: &Screen) -> String {
    screen
        .rooms
        .first()
        .map(|room| room.room.clone())
        .unwrap_or_default()
}

/// What is pushed: the rooms' now and next.
pub(super) fn contents(screen: &Screen) -> Markup {
    let single = screen.rooms.len() == 1;
    html! {
        @if screen.rooms.is_empty() {
            p class="empty" { "Nothing more is scheduled." }
        } @else if single {
            (room_panel(screen, &screen.rooms[0], false))
        } @else {
            div class="rooms" {
                @for room in &screen.rooms { (room_panel(screen, room, true)) }
            }
        }
    }
}

fn room_panel(screen: &Screen, room: &RoomScreen, named: bool) -> Markup {
    html! {
        section class="room" data-room=(room.room) {
            @if named { h2 { (room.room) } }
            (slot(screen, "now", "Now", room.now.as_ref()))
            (slot(screen, "next", "Next", room.next.as_ref()))
        }
    }
}

fn slot(screen: &Screen, class: &str, label: &str, entry: Option<&Entry>) -> Markup {
    let time = |at| screen.clock.time(at, screen.zone);
    html! {
        div class={ "slot " (class) @if entry.is_some_and(|e| e.cancelled) { " cancelled" } } {
            div class="label" { (label) }
            @match entry {
                None => div class="empty" {
                    @if class == "now" { "Nothing on" } @else { "Nothing more scheduled" }
                },
                Some(entry) => {
                    div class="title" { (entry.title) }
                    @if !entry.speakers.is_empty() { div class="speakers" { (entry.speakers) } }
                    div class="time" {
                        @if class == "now" { "until " (time(entry.end)) }
                        @else { "at " (time(entry.start)) }
                    }
                    @if entry.cancelled { div class="status" { "Cancelled" } }
                }
            }
        }
    }
}

/// `GET /static/screen.css`, `screen.js` and `icon.svg`: compiled in, so the binary is the whole site.
pub(in crate::web) async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "screen.css" => (
            include_str!("../../static/screen.css"),
            "text/css; charset=utf-8",
        ),
        "screen.js" => (
            include_str!("../../static/screen.js"),
            "text/javascript; charset=utf-8",
        ),
        "icon.svg" => (include_str!("../../static/icon.svg"), "image/svg+xml"),
        _ => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            // Short: a new release's assets reach the screens within the hour.
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::programme::testing::utc;

    fn screen() -> Screen {
        let entry = |title: &str, cancelled| Entry {
            title: title.to_owned(),
            speakers: "<b>Ann</b> & Bob".to_owned(),
            start: utc("2026-06-01T16:00:00Z"),
            end: utc("2026-06-01T16:30:00Z"),
            cancelled,
        };
        Screen {
            conference: "Con <script>".to_owned(),
            zone: chrono_tz::Europe::Berlin,
            clock: ClockFormat::TwentyFour,
            rooms: vec![RoomScreen {
                room: "Barn \"A\"".to_owned(),
                now: Some(entry("<img src=x onerror=alert(1)>", false)),
                next: Some(entry("Later", true)),
            }],
        }
    }

    #[test]
    fn every_schedule_text_is_escaped_and_no_script_is_inline() {
        let page = whole(&screen(), Some("Barn \"A\"")).into_string();
        assert!(!page.contains("<img"), "{page}");
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
        assert!(page.contains("&lt;b&gt;Ann&lt;/b&gt; &amp; Bob"), "{page}");
        assert!(page.contains("Con &lt;script&gt;"), "{page}");
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the external script"
        );
        assert!(page.contains(r#"<script src="../../static/screen.js" defer></script>"#));
        assert!(
            page.contains(r#"data-events="screen/events?room=Barn+%22A%22""#),
            "{page}"
        );
    }

    #[test]
    fn times_use_the_conference_clock_and_a_cancelled_talk_says_so() {
        let text = contents(&screen()).into_string();
        assert!(text.contains("until 18:30"), "{text}");
        assert!(text.contains("at 18:00"), "{text}");
        assert!(text.contains(r#"class="slot next cancelled""#), "{text}");
        assert_eq!(text.matches("Cancelled").count(), 1, "{text}");
    }
}
