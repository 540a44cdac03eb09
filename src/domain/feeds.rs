//! The live calendar feeds: a person's talks at `/cal/<token>.ics`, a conference's
//! programme at `/c/<slug>.ics`. What a feed holds, how its token looks and when a calendar
//! app's copy is still current are decided here; the web adapter only reads and answers.
//!
//! A feed is rendered unstamped and hashed: the hash is the ETag, and the adapter stamps
//! the text (DTSTAMP, `Last-Modified`) with when that hash was first served, so an
//! unchanged feed is byte-for-byte the same on every refresh and a changed one says when.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::domain::export::ics;
use crate::domain::model::{Conference, StoredTalk};
use crate::domain::programme::Programme;
use crate::domain::reminders::SubscriptionTarget;
use crate::domain::text::title_key;

/// How often calendar apps are asked to fetch a feed again: a moved talk reaches phones
/// within this (most apps poll less often than asked; the HTTP cache lifetime matches it).
pub const REFRESH: chrono::Duration = chrono::Duration::minutes(15);

/// A private feed's secret: 32 random bytes, base64url without padding (43 characters).
/// Whoever holds it reads that person's calendar, nothing else; the feed never names them.
#[derive(Clone, PartialEq, Eq)]
pub struct FeedToken(String);

impl std::fmt::Debug for FeedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A token in a log line would be a working link to someone's calendar.
        f.write_str("FeedToken(…)")
    }
}

impl FeedToken {
    /// Random bytes a token is made of (the adapter draws them from the OS).
    pub const BYTES: usize = 32;
    /// The token's length in characters.
    pub const LEN: usize = 43;

    pub fn from_random(bytes: [u8; Self::BYTES]) -> Self {
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as it appears in a URL; `None` unless it has exactly a token's shape, so a
    /// malformed guess costs no query.
    pub fn parse(text: &str) -> Option<Self> {
        let shaped = text.len() == Self::LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        shaped.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the store indexes the token by: its SHA-256. Looking a token up by its hash
    /// means the index comparison leaks nothing about stored tokens a guess is near.
    pub fn lookup_key(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// Whether `stored` is this token, compared in constant time.
    pub fn matches(&self, stored: &str) -> bool {
        self.0.as_bytes().ct_eq(stored.as_bytes()).into()
    }
}

/// The `https://` and `webcal://` addresses of a private feed under `public_url` (the web
/// surface's public base, e.g. `https://confbot.example.org` or `…/bot/`).
pub fn personal_urls(public_url: &str, token: &FeedToken) -> (String, String) {
    let https = format!(
        "{}/cal/{}.ics",
        public_url.trim_end_matches('/'),
        token.as_str()
    );
    let rest = https
        .strip_prefix("https://")
        .or_else(|| https.strip_prefix("http://"))
        .unwrap_or(&https);
    let webcal = format!("webcal://{rest}");
    (https, webcal)
}

/// The talks a person's feed holds, in programme order, with their full texts: every talk
/// they subscribed to, and every talk in a room or of a track they subscribed to (names
/// matched as reminders match them).
pub fn personal_talks(
    programme: &Programme,
    subscriptions: &[SubscriptionTarget],
) -> Vec<StoredTalk> {
    let mut talks = std::collections::HashSet::new();
    let mut rooms = std::collections::HashSet::new();
    let mut tracks = std::collections::HashSet::new();
    for target in subscriptions {
        match target {
            SubscriptionTarget::Talk(id) => {
                talks.insert(*id);
            }
            SubscriptionTarget::Room(room) => {
                rooms.insert(title_key(room));
            }
            SubscriptionTarget::Track(track) => {
                tracks.insert(title_key(track));
            }
        }
    }
    let rooms = spellings(programme.rooms(), &rooms);
    let tracks = spellings(programme.tracks(), &tracks);
    select(programme, |talk| {
        talks.contains(&talk.id)
            || talk
                .data
                .room
                .as_deref()
                .is_some_and(|room| rooms.contains(room))
            || talk
                .data
                .track
                .as_deref()
                .is_some_and(|track| tracks.contains(track))
    })
}

/// The names among `names` (a programme's rooms or tracks, each spelling once) whose folded
/// key is one of `keys`: matching talks then compares strings, not folds every talk's room.
pub(crate) fn spellings<'a>(
    names: &'a [String],
    keys: &std::collections::HashSet<String>,
) -> std::collections::HashSet<&'a str> {
    if keys.is_empty() {
        return std::collections::HashSet::new();
    }
    names
        .iter()
        .filter(|name| keys.contains(&title_key(name)))
        .map(String::as_str)
        .collect()
}

/// Which part of a conference's public feed is asked for: rooms and tracks (each list empty
/// for all; names matched like subscriptions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    pub rooms: Vec<String>,
    pub tracks: Vec<String>,
}

/// The talks of a conference's public feed under `filter`, in programme order.
pub fn public_talks(programme: &Programme, filter: &Filter) -> Vec<StoredTalk> {
    let keys = |names: &[String]| names.iter().map(|n| title_key(n)).collect();
    let rooms = spellings(programme.rooms(), &keys(&filter.rooms));
    let tracks = spellings(programme.tracks(), &keys(&filter.tracks));
    let wanted = |asked: &[String], names: &std::collections::HashSet<&str>, name: Option<&str>| {
        asked.is_empty() || name.is_some_and(|name| names.contains(name))
    };
    select(programme, |talk| {
        wanted(&filter.rooms, &rooms, talk.data.room.as_deref())
            && wanted(&filter.tracks, &tracks, talk.data.track.as_deref())
    })
}

fn select(programme: &Programme, wanted: impl Fn(&StoredTalk) -> bool) -> Vec<StoredTalk> {
    programme
        .talks
        .iter()
        .enumerate()
        .filter(|(_, talk)| talk.data.slot.is_some() && wanted(talk))
        .filter_map(|(index, _)| programme.full_talk(index))
        .collect()
}

/// A feed rendered before its stamp is known, and the hash that tells whether it changed.
pub struct Unstamped {
    pub text: String,
    pub digest: [u8; 32],
}

impl Unstamped {
    /// `talks` of `conference` as a live calendar, with an alarm `alarm` before each talk.
    pub fn render(
        conference: &Conference,
        talks: &[StoredTalk],
        alarm: Option<chrono::Duration>,
    ) -> Self {
        let extras = ics::Extras {
            alarm,
            refresh: Some(REFRESH),
        };
        let text = ics::calendar(conference, talks, ics::UNSTAMPED, extras);
        let digest = Sha256::digest(text.as_bytes()).into();
        Self { text, digest }
    }

    /// The feed as served: stamped with when this content was first served.
    pub fn stamped(&self, changed_at: DateTime<Utc>) -> String {
        ics::stamped(&self.text, changed_at)
    }

    /// The strong ETag of this content stamped with `changed_at` (quoted, as the header
    /// carries it): the stamp is part of the bytes, so two stamps are two tags.
    pub fn etag(&self, changed_at: DateTime<Utc>) -> String {
        let mut hash = Sha256::new();
        hash.update(self.digest);
        hash.update(changed_at.timestamp().to_be_bytes());
        let tag = hash.finalize();
        let hex: String = tag[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    }
}

/// An instant as an HTTP date (`Sat, 05 Dec 2026 15:32:10 GMT`).
pub fn http_date(instant: DateTime<Utc>) -> String {
    instant.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Whether the client's copy is current, by RFC 9110's rules: `If-None-Match` decides when
/// sent (any listed tag equal to ours, weak or not, or `*`); otherwise `If-Modified-Since`
/// at or after the last change (HTTP dates have whole seconds). An unreadable date counts as
/// absent, which answers the full feed: never a wrong 304.
pub fn not_modified(
    etag: &str,
    last_modified: DateTime<Utc>,
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
) -> bool {
    if let Some(tags) = if_none_match {
        return tags
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag);
    }
    let since = if_modified_since.and_then(|date| DateTime::parse_from_rfc2822(date).ok());
    since.is_some_and(|since| last_modified.timestamp() <= since.timestamp())
}

#[cfg(test)]
mod tests;
