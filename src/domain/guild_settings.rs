//! A server's own settings (`/setup`), pure: the values, the typed changes an organiser can
//! make, their validation, and the before/after of a change as the audit log keeps it.
//!
//! `None` in a field means "not set": the conference's zone, no announcement channel,
//! `defaults.lead_minutes`, and so on. The first values of a server come from the
//! configuration ([`GuildSettings::seeded`] is built by the adapter from `[[guilds]]` /
//! `defaults.conference`); once an organiser changes anything, the stored row wins.

use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use crate::domain::board::Board;
use crate::domain::events::EventSelection;
use crate::domain::model::ConferenceSlug;
use crate::domain::privacy::RetentionDays;
use crate::domain::questions::QuestionSettings;
use crate::domain::reminders::LeadTime;
use crate::domain::threads::ThreadSettings;
use crate::domain::time::zone_by_name;

/// The refresh interval range of a schedule source, in minutes: often enough for a
/// programme changing on the day, rarely enough not to hammer the source.
pub const REFRESH_MINUTES: std::ops::RangeInclusive<u32> = REFRESH_MIN..=REFRESH_MAX;
pub const REFRESH_MIN: u32 = 5;
pub const REFRESH_MAX: u32 = 1440;
/// The longest schedule source URL accepted.
const MAX_URL_CHARS: usize = 500;

/// Everything `/setup` can set for one server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuildSettings {
    /// The conference whose programme the server's commands answer from.
    pub conference: Option<ConferenceSlug>,
    /// The server's zone; `None`: the conference's.
    pub time_zone: Option<Tz>,
    /// Where the schedule is re-imported from, and how often.
    pub source_url: Option<String>,
    pub refresh_minutes: Option<u32>,
    pub announcement_channel: Option<u64>,
    /// Where sync results and delivery failures are posted for organisers.
    pub organiser_log_channel: Option<u64>,
    /// Members with this role are organisers (besides Manage Server).
    pub organiser_role: Option<u64>,
    /// The reminder lead of attendees who never chose one; `None`: `defaults.lead_minutes`.
    pub default_lead: Option<LeadTime>,
    /// Days after the last talk until personal data is deleted; `None`: the default.
    pub retention: Option<RetentionDays>,
    /// The schedule source's iCalendar SUMMARY reads `Title - Speaker` (see
    /// `ImportOptions::summary_speakers`).
    pub summary_speakers: bool,
    /// Where each import's changes are posted for everyone (`domain::updates`); `None`:
    /// nowhere.
    pub updates_channel: Option<u64>,
    /// The live now / next board (`domain::board`); `None`: none.
    pub board: Option<Board>,
    /// A Q&A thread for every talk (`domain::threads`); `None`: none.
    pub threads: Option<ThreadSettings>,
    /// Who chairs and whether questions may be anonymous (`domain::questions`).
    pub questions: QuestionSettings,
    /// A Discord Event for each selected talk (`domain::events`); `None`: none.
    pub events: Option<EventSelection>,
    /// The conference's calendar feed and room screens are public on the web surface.
    pub web_public: bool,
}

impl GuildSettings {
    /// A server's first values, from the configuration.
    pub fn seeded(conference: Option<ConferenceSlug>, organiser_role: Option<u64>) -> Self {
        Self {
            conference,
            organiser_role,
            ..Self::default()
        }
    }
}

/// One audit log entry: who did what when, and the touched fields before and after
/// (`Null` for a refused attempt).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub user: u64,
    pub action: String,
    pub before: Value,
    pub after: Value,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A server channel `/setup channel` can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Announcements,
    OrganiserLog,
}

impl ChannelKind {
    /// Every kind, as the `kind` option offers them.
    pub const ALL: [ChannelKind; 2] = [ChannelKind::Announcements, ChannelKind::OrganiserLog];

    /// The option value (and audit field) of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Announcements => "announcements",
            ChannelKind::OrganiserLog => "organiser-log",
        }
    }

    /// The settings field (and audit key) the kind sets.
    pub fn field(self) -> &'static str {
        match self {
            ChannelKind::Announcements => "announcement_channel",
            ChannelKind::OrganiserLog => "organiser_log_channel",
        }
    }

    /// The kind an option value names.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

/// One validated `/setup` change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupChange {
    Conference(ConferenceSlug),
    TimeZone(Tz),
    Source {
        url: String,
        refresh_minutes: u32,
    },
    Channel {
        kind: ChannelKind,
        channel: u64,
    },
    Role(u64),
    Lead(LeadTime),
    Retention(RetentionDays),
    SummarySpeakers(bool),
    /// The schedule updates channel; `None` turns the updates off.
    Updates(Option<u64>),
    /// The live board; `None` turns it off.
    Board(Option<Board>),
    /// Talk threads; `None` turns them off.
    Threads(Option<ThreadSettings>),
    Questions(QuestionSettings),
    /// Discord Events, and for which talks; `None` turns them off.
    Events(Option<EventSelection>),
    /// Public web pages on or off.
    Web(bool),
}

/// Whether a server may publish its conference's calendar feed and room screens: any
/// stored conference may be followed, so only the server that brings the programme in (its
/// `/setup source`) or the one the bot's operator assigned the conference to (`configured`,
/// its `[[guilds]]` entry) speaks for the conference's organisers.
pub fn may_publish(settings: &GuildSettings, configured: Option<&ConferenceSlug>) -> bool {
    settings
        .conference
        .as_ref()
        .is_some_and(|slug| settings.source_url.is_some() || configured == Some(slug))
}

/// Why a `/setup` value was refused; the Display is shown to the organiser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("`{0}` is not a time zone I know: use an IANA name such as `Europe/Berlin` or `America/Los_Angeles`.")]
    UnknownZone(String),
    #[error("The schedule source must be an http:// or https:// address, not `{0}`.")]
    NotHttp(String),
    #[error("The refresh interval is {min} to {max} minutes.", min = REFRESH_MINUTES.start(), max = REFRESH_MINUTES.end())]
    Refresh,
    #[error("{0}")]
    Slug(String),
}

/// A zone typed by an organiser: an IANA name (or a Windows name, which
/// [`zone_by_name`] maps to one).
pub fn parse_zone(typed: &str) -> Result<Tz, SetupError> {
    zone_by_name(typed).ok_or_else(|| SetupError::UnknownZone(shorten(typed)))
}

/// A schedule source: an absolute http(s) URL with a host.
pub fn parse_source(typed: &str, refresh_minutes: u32) -> Result<SetupChange, SetupError> {
    let typed = typed.trim();
    // The `url` crate (through reqwest's re-export) parses only; nothing is fetched here.
    let parsed = reqwest::Url::parse(typed).ok().filter(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|host| !host.is_empty())
    });
    if parsed.is_none() || typed.chars().count() > MAX_URL_CHARS {
        return Err(SetupError::NotHttp(shorten(typed)));
    }
    if !REFRESH_MINUTES.contains(&refresh_minutes) {
        return Err(SetupError::Refresh);
    }
    Ok(SetupChange::Source {
        url: typed.to_owned(),
        refresh_minutes,
    })
}

/// A conference slug typed by an organiser (whether it is stored is the adapter's check).
pub fn parse_conference(typed: &str) -> Result<ConferenceSlug, SetupError> {
    ConferenceSlug::parse(typed.trim()).map_err(|error| SetupError::Slug(error.to_string()))
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

impl SetupChange {
    /// The audit action name: the subcommand that made the change.
    pub fn action(&self) -> &'static str {
        match self {
            SetupChange::Conference(_) => "setup conference",
            SetupChange::TimeZone(_) => "setup timezone",
            SetupChange::Source { .. } => "setup source",
            SetupChange::Channel { .. } => "setup channel",
            SetupChange::Role(_) => "setup role",
            SetupChange::Lead(_) => "setup lead",
            SetupChange::Retention(_) => "setup retention",
            SetupChange::SummarySpeakers(_) => "setup speakers",
            SetupChange::Updates(_) => "setup updates",
            SetupChange::Board(_) => "setup board",
            SetupChange::Threads(_) => "setup threads",
            SetupChange::Questions(_) => "setup questions",
            SetupChange::Events(_) => "setup events",
            SetupChange::Web(_) => "setup web",
        }
    }

    /// The settings with this change made.
    pub fn apply(&self, settings: &GuildSettings) -> GuildSettings {
        let mut after = settings.clone();
        match self {
            SetupChange::Conference(slug) => {
                // Publishing was decided for the conference followed until now.
                if after.conference.as_ref() != Some(slug) {
                    after.web_public = false;
                }
                after.conference = Some(slug.clone());
            }
            SetupChange::TimeZone(zone) => after.time_zone = Some(*zone),
            SetupChange::Source {
                url,
                refresh_minutes,
            } => {
                after.source_url = Some(url.clone());
                after.refresh_minutes = Some(*refresh_minutes);
            }
            SetupChange::Channel { kind, channel } => match kind {
                ChannelKind::Announcements => after.announcement_channel = Some(*channel),
                ChannelKind::OrganiserLog => after.organiser_log_channel = Some(*channel),
            },
            SetupChange::Role(role) => after.organiser_role = Some(*role),
            SetupChange::Lead(lead) => after.default_lead = Some(*lead),
            SetupChange::Retention(days) => after.retention = Some(*days),
            SetupChange::SummarySpeakers(on) => after.summary_speakers = *on,
            SetupChange::Updates(channel) => after.updates_channel = *channel,
            SetupChange::Board(board) => after.board = *board,
            SetupChange::Threads(threads) => after.threads = threads.clone(),
            SetupChange::Questions(questions) => after.questions = *questions,
            SetupChange::Events(events) => after.events = events.clone(),
            SetupChange::Web(public) => after.web_public = *public,
        }
        after
    }

    /// The fields this change touches, read from `settings`, as a JSON object: the audit
    /// log's `before` (read before the change) and `after` (read after it). Ids are strings,
    /// as Discord writes them (JSON numbers lose precision above 2^53 in many readers).
    pub fn audit_fields(&self, settings: &GuildSettings) -> Value {
        let id = |id: Option<u64>| id.map_or(Value::Null, |id| json!(id.to_string()));
        let mut fields = Map::new();
        match self {
            SetupChange::Conference(_) => {
                let slug = settings.conference.as_ref().map(ConferenceSlug::as_str);
                fields.insert("conference".into(), json!(slug));
            }
            SetupChange::TimeZone(_) => {
                let zone = settings.time_zone.map(|zone| zone.name().to_owned());
                fields.insert("time_zone".into(), json!(zone));
            }
            SetupChange::Source { .. } => {
                // The audit record is shown to organisers: no credentials in it.
                let url = settings
                    .source_url
                    .as_deref()
                    .map(crate::domain::source_url::shown);
                fields.insert("source_url".into(), json!(url));
                fields.insert("refresh_minutes".into(), json!(settings.refresh_minutes));
            }
            SetupChange::Channel { kind, .. } => {
                let channel = match kind {
                    ChannelKind::Announcements => settings.announcement_channel,
                    ChannelKind::OrganiserLog => settings.organiser_log_channel,
                };
                fields.insert(kind.field().into(), id(channel));
            }
            SetupChange::Role(_) => {
                fields.insert("organiser_role".into(), id(settings.organiser_role));
            }
            SetupChange::Lead(_) => {
                let minutes = settings.default_lead.map(LeadTime::minutes);
                fields.insert("default_lead_minutes".into(), json!(minutes));
            }
            SetupChange::Retention(_) => {
                let days = settings.retention.map(RetentionDays::days);
                fields.insert("retention_days".into(), json!(days));
            }
            SetupChange::SummarySpeakers(_) => {
                fields.insert("summary_speakers".into(), json!(settings.summary_speakers));
            }
            SetupChange::Updates(_) => {
                fields.insert("updates_channel".into(), id(settings.updates_channel));
            }
            SetupChange::Threads(_) => {
                let threads = settings.threads.as_ref();
                fields.insert("threads".into(), json!(threads.is_some()));
                fields.insert("thread_rooms".into(), json!(threads.map(|t| &t.rooms)));
                fields.insert("thread_tracks".into(), json!(threads.map(|t| &t.tracks)));
                fields.insert(
                    "thread_grace_minutes".into(),
                    json!(threads.map(|t| t.grace_minutes)),
                );
                fields.insert("thread_lock".into(), json!(threads.map(|t| t.lock)));
            }
            SetupChange::Questions(_) => {
                let questions = settings.questions;
                fields.insert("questions_anonymous".into(), json!(questions.anonymous));
                fields.insert("questions_chair_role".into(), id(questions.chair_role));
            }
            SetupChange::Web(_) => {
                fields.insert("web_public".into(), json!(settings.web_public));
            }
            SetupChange::Events(_) => {
                let events = settings.events.as_ref();
                fields.insert("events".into(), json!(events.is_some()));
                fields.insert("event_rooms".into(), json!(events.map(|e| &e.rooms)));
                fields.insert("event_tracks".into(), json!(events.map(|e| &e.tracks)));
                fields.insert("event_types".into(), json!(events.map(|e| &e.types)));
            }
            SetupChange::Board(_) => {
                let board = settings.board;
                fields.insert("board_channel".into(), id(board.map(|b| b.channel)));
                fields.insert(
                    "board_layout".into(),
                    json!(board.map(|b| b.layout.as_str())),
                );
            }
        }
        Value::Object(fields)
    }
}

#[cfg(test)]
mod tests;
