//! Room-door screens: `GET /c/<slug>/screen[?room=Barn]` is a full-screen page (plain HTML
//! and CSS, readable without JavaScript and refreshed by the browser every minute then);
//! with JavaScript, `…/screen/events` pushes the screen's contents again (server-sent
//! events) whenever they change: at each talk boundary, and within [`HUB_POLL`] of an
//! import or of the organisers turning the pages off.
//!
//! Every open screen of a conference shares one *hub*: a task that watches the
//! conference's version (one query per [`HUB_POLL`], whatever the number of screens) and
//! hands the current programme snapshot to the streams, which render their room from it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use maud::{html, Markup, DOCTYPE};
use tokio::sync::watch;

use super::Feeds;
use crate::domain::programme::Programme;
use crate::domain::screens::{self, ClockFormat, Entry, RoomScreen, Screen};
use crate::store;

/// How often a hub asks whether its conference changed.
pub(super) const HUB_POLL: Duration = Duration::from_secs(2);
/// Streams open at once, over all screens: each holds a task and a connection.
const MAX_STREAMS: usize = 2_000;
/// The longest a stream waits without rendering again (a boundary is usually sooner).
const MAX_WAIT: Duration = Duration::from_secs(60);
/// The longest room name a request may give.
const MAX_ROOM_CHARS: usize = 200;

/// What a hub knows of its conference.
#[derive(Clone)]
pub(super) enum Hub {
    Loading,
    /// Not public (any more), or gone.
    Gone,
    Live(Arc<Programme>),
}

pub(super) async fn page(
    State(feeds): State<Arc<Feeds>>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (room, programme) = match published(&feeds, &slug, query.as_deref()).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let screen = screens::screen(&programme, room.as_deref(), Utc::now());
    let body = whole(&screen, room.as_deref()).into_string();
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The room asked for and the programme of a published conference, or the answer saying
/// why not: 400 for a room name too long, 404 for a conference not published (or none),
/// 503 when the database fails.
async fn published(
    feeds: &Feeds,
    slug: &str,
    query: Option<&str>,
) -> Result<(Option<String>, Arc<Programme>), Response> {
    let Some(room) = room_of(query) else {
        return Err((StatusCode::BAD_REQUEST, "the room name is too long\n").into_response());
    };
    let programme = match store::feeds::public(&feeds.pool, slug).await {
        Ok(Some(public)) => {
            feeds
                .programme_at(slug, public.conference_id, public.version)
                .await
        }
        Ok(None) => Ok(None),
        Err(error) => Err(error),
    };
    match programme {
        Ok(Some(programme)) => Ok((room, programme)),
        Ok(None) => Err((StatusCode::NOT_FOUND, "not found\n").into_response()),
        Err(error) => {
            tracing::error!("a screen failed: {:#}", anyhow::Error::from(error));
            Err((StatusCode::SERVICE_UNAVAILABLE, "try again shortly\n").into_response())
        }
    }
}

pub(super) async fn events(
    State(feeds): State<Arc<Feeds>>,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let room = match published(&feeds, &slug, query.as_deref()).await {
        Ok((room, _)) => room,
        Err(refusal) => return refusal,
    };
    let Some(open) = Open::new(&feeds) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many open screens\n").into_response();
    };
    let stream = Stream {
        hub: subscribe(&feeds, &slug),
        room,
        last: None,
        ended: false,
        _open: open,
    };
    let events = futures_util::stream::unfold(stream, next_event);
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The `room` parameter; `Some(None)` when there is none, `None` when it is too long.
fn room_of(query: Option<&str>) -> Option<Option<String>> {
    let room = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "room")
        .map(|(_, value)| value.trim().to_owned())
        .filter(|room| !room.is_empty());
    match room {
        Some(room) if room.chars().count() > MAX_ROOM_CHARS => None,
        room => Some(room),
    }
}

/// One open stream, counted while it lives.
struct Open(Arc<Feeds>);

impl Open {
    fn new(feeds: &Arc<Feeds>) -> Option<Self> {
        let before = feeds.streams.fetch_add(1, Ordering::Relaxed);
        let open = Self(Arc::clone(feeds));
        (before < MAX_STREAMS).then_some(open)
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Stream {
    hub: watch::Receiver<Hub>,
    room: Option<String>,
    /// The contents last sent.
    last: Option<String>,
    ended: bool,
    _open: Open,
}

/// The next event of a stream: the screen whenever it differs from the last sent; `gone`
/// once the conference is no longer public, then the end.
async fn next_event(mut stream: Stream) -> Option<(Result<Event, Infallible>, Stream)> {
    if stream.ended {
        return None;
    }
    loop {
        let hub = stream.hub.borrow_and_update().clone();
        let mut wait = MAX_WAIT;
        match hub {
            Hub::Loading => {}
            Hub::Gone => {
                stream.ended = true;
                return Some((Ok(Event::default().event("gone").data("")), stream));
            }
            Hub::Live(programme) => {
                let now = Utc::now();
                let room = stream.room.as_deref();
                let contents = contents(&screens::screen(&programme, room, now)).into_string();
                if let Some(boundary) = screens::next_boundary(&programme, room, now) {
                    // Just past the boundary, so the talk has started (or ended) by then.
                    let until = (boundary - now).to_std().unwrap_or_default();
                    wait = wait.min(until + Duration::from_millis(50));
                }
                if stream.last.as_deref() != Some(contents.as_str()) {
                    stream.last = Some(contents.clone());
                    let event = Event::default()
                        .event("screen")
                        .retry(Duration::from_secs(3))
                        .data(contents);
                    return Some((Ok(event), stream));
                }
            }
        }
        tokio::select! {
            changed = stream.hub.changed() => if changed.is_err() { return None },
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// A receiver of the conference's hub, starting the hub if none runs.
fn subscribe(feeds: &Arc<Feeds>, slug: &str) -> watch::Receiver<Hub> {
    let mut hubs = feeds.hubs();
    if let Some(hub) = hubs.get(slug) {
        return hub.subscribe();
    }
    let (sender, receiver) = watch::channel(Hub::Loading);
    hubs.insert(slug.to_owned(), sender.clone());
    tokio::spawn(watch_conference(Arc::clone(feeds), slug.to_owned(), sender));
    receiver
}

/// A hub: hands the conference's current snapshot to its streams until none is left.
async fn watch_conference(feeds: Arc<Feeds>, slug: String, sender: watch::Sender<Hub>) {
    let mut shown: Option<i64> = None;
    loop {
        match store::feeds::public(&feeds.pool, &slug).await {
            Ok(None) => {
                shown = None;
                sender.send_if_modified(|hub| {
                    let was_gone = matches!(hub, Hub::Gone);
                    *hub = Hub::Gone;
                    !was_gone
                });
            }
            Ok(Some(public)) if shown != Some(public.version) => {
                let loaded = feeds
                    .programme_at(&slug, public.conference_id, public.version)
                    .await;
                match loaded {
                    Ok(Some(programme)) => {
                        shown = Some(public.version);
                        sender.send_replace(Hub::Live(programme));
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!("a screen's programme: {error}"),
                }
            }
            Ok(Some(_)) => {}
            // Kept as it was: the screens go on showing the last programme.
            Err(error) => tracing::warn!("a screen's conference: {error}"),
        }
        tokio::time::sleep(HUB_POLL).await;
        let mut hubs = feeds.hubs();
        // Under the lock that `subscribe` takes: nobody joins between the count and the end.
        if sender.receiver_count() == 0 {
            hubs.remove(&slug);
            return;
        }
    }
}

impl Feeds {
    fn hubs(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<Hub>>> {
        self.hubs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The whole page.
fn whole(screen: &Screen, room: Option<&str>) -> Markup {
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
fn contents(screen: &Screen) -> Markup {
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
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "screen.css" => (
            include_str!("../static/screen.css"),
            "text/css; charset=utf-8",
        ),
        "screen.js" => (
            include_str!("../static/screen.js"),
            "text/javascript; charset=utf-8",
        ),
        "icon.svg" => (include_str!("../static/icon.svg"), "image/svg+xml"),
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

    #[test]
    fn a_room_parameter_is_optional_and_bounded() {
        assert_eq!(room_of(None), Some(None));
        assert_eq!(
            room_of(Some("room=Main%20Hall&x=1")),
            Some(Some("Main Hall".into()))
        );
        let long = format!("room={}", "x".repeat(MAX_ROOM_CHARS + 1));
        assert_eq!(room_of(Some(&long)), None);
    }
}
