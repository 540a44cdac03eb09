//! `GET /c/<slug>.ics[?room=…&track=…]`: a conference's programme for people who are not
//! on Discord, only while its organisers have made it public (`/setup web public:on`).
//! Anything else under `/c/` is a 404, whether or not the conference exists.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{conditional, Feeds};
use crate::domain::export::ics;
use crate::domain::feeds::{self, Filter, Unstamped};
use crate::domain::text::title_key;
use crate::store::{self, StoreError};

/// Filter values a request may give, and the longest one: a room name is far shorter.
const MAX_FILTERS: usize = 20;
const MAX_FILTER_CHARS: usize = 200;
/// Variants kept rendered, and their bytes at most (a 10,000-talk programme is about 10 MB);
/// past either the old versions go, then everything else.
const MAX_RENDERED: usize = 64;
const MAX_RENDERED_BYTES: usize = 48 * 1024 * 1024;

/// What a public feed is rendered for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Variant {
    conference_id: i64,
    version: i64,
    filter: Filter,
}

/// A public feed as served.
pub(super) struct Rendered {
    etag: String,
    text: String,
}

pub(super) async fn calendar(
    State(feeds): State<Arc<Feeds>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(slug) = file.strip_suffix(".ics") else {
        return feeds.missed(peer, &headers);
    };
    let Some(filter) = filter(query.as_deref()) else {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "at most {MAX_FILTERS} room and track names of {MAX_FILTER_CHARS} characters\n"
            ),
        )
            .into_response();
    };
    match public_feed(&feeds, slug, filter, &headers).await {
        Ok(Some(response)) => response,
        Ok(None) => feeds.missed(peer, &headers),
        Err(error) => {
            tracing::error!("a public feed failed: {:#}", anyhow::Error::from(error));
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the calendar is unavailable right now; try again shortly\n",
            )
                .into_response()
        }
    }
}

/// `room=` and `track=` values (repeated, each a name); `None` when there are too many or
/// too long. Other parameters are ignored, as a cache-busting `?t=` should be.
fn filter(query: Option<&str>) -> Option<Filter> {
    let mut filter = Filter::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let list = match key.as_ref() {
            "room" => &mut filter.rooms,
            "track" => &mut filter.tracks,
            _ => continue,
        };
        if value.chars().count() > MAX_FILTER_CHARS {
            return None;
        }
        list.push(value.into_owned());
    }
    if filter.rooms.len() + filter.tracks.len() > MAX_FILTERS {
        return None;
    }
    // One variant per meaning: `?room=Barn&room=barn` and `?room=barn` are kept once.
    for list in [&mut filter.rooms, &mut filter.tracks] {
        let mut keys: Vec<String> = list.iter().map(|name| title_key(name)).collect();
        keys.sort_unstable();
        keys.dedup();
        *list = keys;
    }
    Some(filter)
}

async fn public_feed(
    feeds: &Feeds,
    slug: &str,
    filter: Filter,
    headers: &HeaderMap,
) -> Result<Option<Response>, StoreError> {
    let Some(public) = store::feeds::public(&feeds.pool, slug).await? else {
        return Ok(None);
    };
    let changed_at = public.imported_at.unwrap_or(ics::UNSTAMPED);
    let variant = Variant {
        conference_id: public.conference_id,
        version: public.version,
        filter,
    };
    let cached = feeds.rendered().get(&variant).cloned();
    let rendered = match cached {
        Some(rendered) => rendered,
        None => {
            let Some(programme) = feeds
                .programme_at(slug, public.conference_id, public.version)
                .await?
            else {
                return Ok(None);
            };
            let talks = feeds::public_talks(&programme, &variant.filter);
            let unstamped = Unstamped::render(&programme.conference, &talks, None);
            let rendered = Arc::new(Rendered {
                etag: unstamped.etag(changed_at),
                text: unstamped.stamped(changed_at),
            });
            keep(feeds, variant, Arc::clone(&rendered));
            rendered
        }
    };
    let cache = format!("public, max-age={}", feeds::REFRESH.num_seconds());
    Ok(Some(conditional(
        rendered.etag.clone(),
        changed_at,
        cache,
        headers,
        || rendered.text.clone(),
    )))
}

/// Keeps a rendered variant, making room by dropping other versions first.
fn keep(feeds: &Feeds, variant: Variant, rendered: Arc<Rendered>) {
    let mut kept = feeds.rendered();
    let full = |kept: &HashMap<Variant, Arc<Rendered>>| {
        let bytes: usize = kept.values().map(|r| r.text.len()).sum();
        kept.len() >= MAX_RENDERED || bytes + rendered.text.len() > MAX_RENDERED_BYTES
    };
    if full(&kept) {
        kept.retain(|old, _| {
            old.conference_id != variant.conference_id || old.version == variant.version
        });
    }
    if full(&kept) {
        kept.clear();
    }
    kept.insert(variant, rendered);
}

impl Feeds {
    fn rendered(&self) -> std::sync::MutexGuard<'_, HashMap<Variant, Arc<Rendered>>> {
        self.rendered.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_and_tracks_repeat_and_other_parameters_are_ignored() {
        let filter =
            filter(Some("room=Main%20Hall&room=barn&room=Barn&track=Web&t=1")).expect("ok");
        assert_eq!(
            filter.rooms,
            ["barn", "main hall"],
            "folded, sorted, once each"
        );
        assert_eq!(filter.tracks, ["web"]);
        assert_eq!(super::filter(None), Some(Filter::default()));
    }

    #[test]
    fn too_many_or_too_long_names_are_refused() {
        let many = vec!["room=a"; MAX_FILTERS + 1].join("&");
        assert_eq!(filter(Some(&many)), None);
        let long = format!("track={}", "x".repeat(MAX_FILTER_CHARS + 1));
        assert_eq!(filter(Some(&long)), None);
    }
}
