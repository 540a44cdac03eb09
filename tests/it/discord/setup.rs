//! The organisers' `/setup` and `/status audit` through the stand-in: who is an organiser,
//! validation and echo of each change, the guild's conference taking effect at once, the
//! audit log, and two guilds kept apart.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::guilds::Channel;
use super::payloads::{self, GUILD_ID, OTHER_GUILD_ID, USER_ID};
use super::subscriptions::{ask, assert_every_message_pings_nobody, conference_id, private_text};
use super::{Bot, CONFERENCE, ORCHESTRATOR};
use crate::harness::TestDb;
use confbot::store::guilds;

const MANAGE_GUILD: u64 = 1 << 5;
/// Send Messages and Manage Channels: a moderator, not an organiser.
const MODERATOR: u64 = (1 << 11) | (1 << 4);
/// The configured organiser role (above `i64::MAX`: bit-cast in the store).
const ORGANISER_ROLE: u64 = 18_000_000_000_000_000_077;

/// Who sends an interaction.
#[derive(Clone, Copy)]
pub(super) struct As {
    guild: u64,
    user: u64,
    permissions: u64,
    roles: &'static [u64],
}

pub(super) const ORGANISER: As = As {
    guild: GUILD_ID,
    user: USER_ID,
    permissions: MANAGE_GUILD,
    roles: &[],
};
pub(super) const ATTENDEE: As = As {
    permissions: MODERATOR,
    ..ORGANISER
};

/// `/{command} {subcommand} options...` sent by `who`; a channel option is resolved.
pub(super) fn sub(
    command: &'static str,
    subcommand: &'static str,
    options: Vec<Value>,
    who: As,
) -> impl FnOnce(u64, &str) -> Value {
    move |id, token| {
        let channel = options
            .iter()
            .find(|o| o["type"] == 7)
            .and_then(|o| o["value"].as_str().and_then(|v| v.parse::<u64>().ok()));
        let nested = json!({"name": subcommand, "type": 1, "options": options});
        let interaction = payloads::slash_with(id, token, command, vec![nested]);
        let interaction =
            payloads::as_member_of(interaction, who.guild, who.user, who.permissions, who.roles);
        match channel {
            Some(channel) => payloads::resolved_channel(interaction, channel, "a-channel"),
            None => interaction,
        }
    }
}

fn text(name: &str, value: &str) -> Value {
    payloads::option(name, 3, json!(value))
}

async fn setup_row(db: &TestDb, guild: u64) -> Option<(Option<String>, Option<String>)> {
    sqlx::query_as("SELECT conference_slug, time_zone FROM guild_settings WHERE guild_id = $1")
        .bind(i64::from_ne_bytes(guild.to_ne_bytes()))
        .fetch_optional(&db.pool)
        .await
        .expect("query")
}

/// Log lines written while the returned guard lives (the bot runs on the test's thread:
/// `#[tokio::test]` is single-threaded, so a thread-local subscriber sees its events).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// The log capturing this thread's events, if any.
    static CAPTURE: std::cell::RefCell<Option<Log>> = const { std::cell::RefCell::new(None) };
}

/// Writes an event to the capturing log of the thread it happens on (a `#[tokio::test]`
/// runs the bot's tasks on its own thread), or nowhere.
struct Routed;

impl Write for Routed {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(log) = &*capture.borrow() {
                log.0.lock().unwrap().extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|capture| *capture.borrow_mut() = None);
    }
}

static ROUTED: std::sync::Once = std::sync::Once::new();

impl Log {
    /// Captures this thread's warnings. One global subscriber routes by thread: scoped
    /// (`set_default`) subscribers on several test threads at once race in tracing's
    /// callsite-interest cache and may miss events.
    fn capture(&self) -> Capturing {
        ROUTED.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(|| Routed)
                .with_ansi(false)
                .with_max_level(tracing::Level::WARN)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the test process");
        });
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(self.clone()));
        Capturing
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn a_non_organiser_is_refused_nothing_is_stored_and_the_attempt_is_audited_and_logged() {
    let log = Log::default();
    let _capturing = log.capture();
    let bot = Bot::start().await;

    let timezone = || {
        sub(
            "setup",
            "timezone",
            vec![text("zone", "Europe/Berlin")],
            ATTENDEE,
        )
    };
    let refused = ask(&bot, timezone()).await;
    // Repeated at once: refused again, but audited once (anyone can trigger refusals).
    let again = ask(&bot, timezone()).await;
    let audit_refused = ask(&bot, sub("status", "audit", vec![], ATTENDEE)).await;

    assert_eq!(
        private_text(&refused),
        "Only this server's organisers (Manage Server, or the organiser role) can use `/setup timezone`."
    );
    assert_eq!(private_text(&again), private_text(&refused));
    assert!(private_text(&audit_refused).contains("`/status audit`"));
    assert_eq!(setup_row(&bot.db, GUILD_ID).await, None, "nothing stored");
    let audit = guilds::recent_audit(&bot.db.pool, GUILD_ID, 20)
        .await
        .expect("audit");
    let actions: Vec<(&str, u64)> = audit.iter().map(|e| (e.action.as_str(), e.user)).collect();
    assert_eq!(
        actions,
        [
            ("refused /status audit", USER_ID),
            ("refused /setup timezone", USER_ID)
        ]
    );
    let log = log.text();
    assert_eq!(
        log.matches("refused an organiser command").count(),
        3,
        "every refusal is logged: {log}"
    );
    assert!(
        log.contains("refused an organiser command")
            && log.contains(&format!("user={USER_ID}"))
            && log.contains(&format!("guild={GUILD_ID}")),
        "{log}"
    );
}

#[tokio::test]
async fn a_member_with_the_configured_role_is_an_organiser_without_manage_server() {
    let guilds = format!(
        "[{{guild_id={GUILD_ID}, conference=\"{CONFERENCE}\", organiser_role={ORGANISER_ROLE}}}]"
    );
    let bot = Bot::start_with_title(ORCHESTRATOR, &[("CONFBOT__GUILDS", guilds.as_str())]).await;
    let with_role = As {
        roles: &[ORGANISER_ROLE],
        ..ATTENDEE
    };

    let shown = ask(&bot, sub("setup", "show", vec![], with_role)).await;
    let lead = ask(
        &bot,
        sub(
            "setup",
            "lead",
            vec![payloads::option("minutes", 4, json!(5))],
            with_role,
        ),
    )
    .await;
    let without_role = ask(&bot, sub("setup", "show", vec![], ATTENDEE)).await;

    let shown = private_text(&shown);
    assert!(
        shown.contains(&format!("Organiser role: <@&{ORGANISER_ROLE}>")),
        "{shown}"
    );
    assert!(shown.contains("configuration's first values"), "{shown}");
    assert_eq!(
        private_text(&lead),
        "Saved.\n**Default reminder lead**: confbot's default → 5 minutes"
    );
    assert!(private_text(&without_role).starts_with("Only this server's organisers"));
    let stored = guilds::get(&bot.db.pool, GUILD_ID)
        .await
        .expect("get")
        .expect("a row");
    assert_eq!(
        stored.organiser_role,
        Some(ORGANISER_ROLE),
        "seeded from config"
    );
    assert_eq!(stored.default_lead.map(|l| l.minutes()), Some(5));
}

#[tokio::test]
async fn a_role_chosen_with_setup_role_makes_its_members_organisers_at_once() {
    let bot = Bot::start().await;
    let with_role = As {
        roles: &[ORGANISER_ROLE],
        ..ATTENDEE
    };
    let role = |value: u64| payloads::option("role", 8, json!(value.to_string()));

    let before = ask(&bot, sub("setup", "show", vec![], with_role)).await;
    let everyone = ask(&bot, sub("setup", "role", vec![role(GUILD_ID)], ORGANISER)).await;
    let set = ask(
        &bot,
        sub("setup", "role", vec![role(ORGANISER_ROLE)], ORGANISER),
    )
    .await;
    let after = ask(&bot, sub("setup", "show", vec![], with_role)).await;

    assert!(private_text(&before).starts_with("Only this server's organisers"));
    assert!(private_text(&everyone).starts_with("@everyone cannot be the organiser role"));
    assert_eq!(
        private_text(&set),
        format!("Saved.\n**Organiser role**: none (Manage Server only) → <@&{ORGANISER_ROLE}>")
    );
    assert!(private_text(&after).contains("This server's confbot settings"));
    assert_every_message_pings_nobody(&bot);
}

#[tokio::test]
async fn setup_timezone_refuses_a_made_up_zone_and_stores_and_echoes_a_real_one() {
    let bot = Bot::start().await;
    let zone = |z: &str| sub("setup", "timezone", vec![text("zone", z)], ORGANISER);

    let bad = ask(&bot, zone("Mars/Olympus_Mons")).await;
    let nothing = setup_row(&bot.db, GUILD_ID).await;
    let good = ask(&bot, zone("europe/berlin")).await;

    assert_eq!(
        private_text(&bad),
        "`Mars/Olympus_Mons` is not a time zone I know: use an IANA name such as \
         `Europe/Berlin` or `America/Los_Angeles`."
    );
    assert_eq!(nothing, None);
    assert_eq!(
        private_text(&good),
        "Saved.\n**Time zone**: the conference's → `Europe/Berlin`"
    );
    assert_eq!(
        setup_row(&bot.db, GUILD_ID).await,
        Some((
            Some(CONFERENCE.to_owned()),
            Some("Europe/Berlin".to_owned())
        )),
        "the configured conference seeded the row"
    );
}

#[tokio::test]
async fn setup_channel_refuses_channels_the_bot_cannot_post_in_and_stores_one_it_can() {
    let bot = Bot::start().await;
    let conference = conference_id(&bot).await;
    let (muted, foreign, voice, gone, good) = (801, 802, 803, 804, 18_000_000_000_000_000_805);
    let guilds_side = bot.standin.guilds();
    guilds_side.add_text(&[good]);
    guilds_side.add_muted(muted);
    guilds_side.set(
        foreign,
        Channel::Text {
            guild: OTHER_GUILD_ID,
            muted: false,
        },
    );
    guilds_side.set(voice, Channel::Voice);
    guilds_side.set(gone, Channel::Missing);
    let log_channel = |channel: u64| {
        sub(
            "setup",
            "channel",
            vec![
                text("kind", "organiser-log"),
                payloads::option("channel", 7, json!(channel.to_string())),
            ],
            ORGANISER,
        )
    };

    let mut refusals = Vec::new();
    for channel in [muted, foreign, voice, gone] {
        refusals.push(private_text(&ask(&bot, log_channel(channel)).await));
    }
    let nothing = guilds::organiser_log_channel(&bot.db.pool, conference).await;
    let stored = ask(&bot, log_channel(good)).await;

    assert_eq!(
        refusals,
        [
            format!("I can't use <#{muted}>: I don't have the Send Messages permission there. Give it to me, then try again."),
            format!("I can't use <#{foreign}>: it belongs to another server."),
            format!("I can't use <#{voice}>: it is not a text or announcement channel."),
            format!("I can't use <#{gone}>: it does not exist, or I cannot see it."),
        ]
    );
    assert_eq!(nothing.expect("query"), None);
    assert_eq!(
        private_text(&stored),
        format!("Saved.\n**Organiser log channel**: none → <#{good}>")
    );
    assert_eq!(
        guilds::organiser_log_channel(&bot.db.pool, conference)
            .await
            .expect("query"),
        Some(good)
    );
}

#[tokio::test]
async fn setup_source_takes_http_urls_only() {
    let bot = Bot::start().await;
    let source = |url: &str| {
        sub(
            "setup",
            "source",
            vec![text("url", url), payloads::option("refresh", 4, json!(15))],
            ORGANISER,
        )
    };

    let refused = ask(&bot, source("file:///etc/passwd")).await;
    for internal in [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8080/schedule.ics",
        "http://[::ffff:10.0.0.1]/s.ics",
        // A name is resolved when it is set (`localhost` by the hosts file, not DNS).
        "http://localhost:8080/schedule.ics",
    ] {
        let text = private_text(&ask(&bot, source(internal)).await);
        assert!(
            text.starts_with("The schedule source must be a public internet address"),
            "{internal}: {text}"
        );
    }
    let stored = ask(
        &bot,
        source("https://pretalx.example.org/livecon/schedule.ics"),
    )
    .await;

    assert!(private_text(&refused).starts_with("The schedule source must be an http://"));
    assert_eq!(
        private_text(&stored),
        "Saved.\n**Schedule source**: none → <https://pretalx.example.org/livecon/schedule.ics>\n\
         **Refreshed every**: never → 15 minutes"
    );
}
