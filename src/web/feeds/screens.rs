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

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tokio::sync::watch;

use super::Feeds;
use crate::domain::programme::Programme;
use crate::domain::screens;
use crate::store;

mod html;
pub(super) use html::asset;
use html::{contents, whole};

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

pub(super) async fn page(State(feeds): State<Arc<Feeds>>, asked: Asked) -> Response {
    let (room, programme) = match published(&feeds, &asked).await {
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

/// What a screen request asks for (the slug, the query), and who asks.
pub(super) struct Asked {
    slug: String,
    query: Option<String>,
    peer: SocketAddr,
    headers: HeaderMap,
}

impl<S: Send + Sync> FromRequestParts<S> for Asked {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(slug) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            slug,
            query: parts.uri.query().map(str::to_owned),
            peer,
            headers: parts.headers.clone(),
        })
    }
}

/// The room asked for and the programme of a published conference, or the answer saying
/// why not: 400 for a room name too long, 404 for a conference not published (or none;
/// 429 once the address missed too often), 503 when the database fails.
async fn published(
    feeds: &Feeds,
    asked: &Asked,
) -> Result<(Option<String>, Arc<Programme>), Response> {
    let slug = asked.slug.as_str();
    let Some(room) = room_of(asked.query.as_deref()) else {
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
        Ok(None) => Err(feeds.missed(asked.peer, &asked.headers)),
        Err(error) => {
            tracing::error!("a screen failed: {:#}", anyhow::Error::from(error));
            Err((StatusCode::SERVICE_UNAVAILABLE, "try again shortly\n").into_response())
        }
    }
}

pub(super) async fn events(State(feeds): State<Arc<Feeds>>, asked: Asked) -> Response {
    let room = match published(&feeds, &asked).await {
        Ok((room, _)) => room,
        Err(refusal) => return refusal,
    };
    let slug = asked.slug;
    let Some(open) = Open::new(&feeds) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many open screens\n").into_response();
    };
    let stream = Stream {
        hub: subscribe(&feeds, &slug),
        room,
        last: None,
        ended: false,
        closing: feeds.closing.subscribe(),
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
    /// True once the server stops.
    closing: watch::Receiver<bool>,
    _open: Open,
}

/// The next event of a stream: the screen whenever it differs from the last sent; `gone`
/// once the conference is no longer public, then the end.
async fn next_event(mut stream: Stream) -> Option<(Result<Event, Infallible>, Stream)> {
    if stream.ended {
        return None;
    }
    loop {
        // The server is stopping: end the stream, so the browser reconnects to whichever
        // server answers next.
        if *stream.closing.borrow() {
            return None;
        }
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
            _ = stream.closing.changed() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// A receiver of the conference's hub, starting the hub if none runs.
fn subscribe(feeds: &Arc<Feeds>, slug: &str) -> watch::Receiver<Hub> {
    let mut hubs = feeds.hubs();
    if let Some(hub) = hubs.get(slug) {
        // Unpublished and published again before the hub noticed: it says so within a poll.
        hub.send_if_modified(|state| {
            let gone = matches!(state, Hub::Gone);
            if gone {
                *state = Hub::Loading;
            }
            gone
        });
        return hub.subscribe();
    }
    let (sender, receiver) = watch::channel(Hub::Loading);
    hubs.insert(slug.to_owned(), sender.clone());
    tokio::spawn(watch_conference(Arc::clone(feeds), slug.to_owned(), sender));
    receiver
}

/// A hub: hands the conference's current snapshot to its streams until none is left.
async fn watch_conference(feeds: Arc<Feeds>, slug: String, sender: watch::Sender<Hub>) {
    // Leaves the map however the task ends (a panic included), so a new screen starts a
    // new hub instead of waiting on a dead one.
    let _leave = Leave {
        feeds: Arc::clone(&feeds),
        slug: slug.clone(),
        sender: sender.clone(),
    };
    let mut closing = feeds.closing.subscribe();
    let mut shown: Option<i64> = None;
    loop {
        if *closing.borrow_and_update() {
            return;
        }
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
        tokio::select! {
            () = tokio::time::sleep(HUB_POLL) => {}
            _ = closing.changed() => return,
        }
        let mut hubs = feeds.hubs();
        // Under the lock that `subscribe` takes: nobody joins between the count and the end.
        if sender.receiver_count() == 0 {
            hubs.remove(&slug);
            return;
        }
    }
}

/// Removes a hub's entry when its task ends.
struct Leave {
    feeds: Arc<Feeds>,
    slug: String,
    sender: watch::Sender<Hub>,
}

impl Drop for Leave {
    fn drop(&mut self) {
        let mut hubs = self.feeds.hubs();
        if hubs
            .get(&self.slug)
            .is_some_and(|hub| hub.same_channel(&self.sender))
        {
            hubs.remove(&self.slug);
        }
    }
}

impl Feeds {
    fn hubs(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<Hub>>> {
        self.hubs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
