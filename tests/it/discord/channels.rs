//! The organisers' `/channel` through the stand-in: the server-side permission check, the
//! plan it starts from and what it stores.

use serde_json::{json, Value};

use super::payloads;
use super::subscriptions::{
    ask, assert_every_message_pings_nobody, conference_id, plan_changed, private_text,
};
use super::{Bot, CONFERENCE, ORCHESTRATOR};
use confbot::store::subscriptions;

/// A channel id above `i64::MAX`: bit-cast in the store, intact in the reply.
const BARN_CHANNEL: u64 = 18_000_000_000_000_000_001;
const MANAGE_GUILD: u64 = 1 << 5;
const ADMINISTRATOR: u64 = 1 << 3;
/// Send Messages and Manage Channels: a moderator, not an organiser.
const MODERATOR: u64 = (1 << 11) | (1 << 4);

/// `/channel channel:<id> [room:..]` from a member with `permissions`.
fn channel(channel: u64, room: Option<&str>, permissions: u64) -> impl FnOnce(u64, &str) -> Value {
    let room = room.map(str::to_owned);
    move |id, token| {
        let mut options = vec![payloads::option("channel", 7, json!(channel.to_string()))];
        if let Some(room) = room {
            options.push(payloads::option("room", 3, json!(room)));
        }
        let command = payloads::slash_with(id, token, "channel", options);
        payloads::resolved_channel(
            payloads::as_member(command, permissions),
            channel,
            "barn-talks",
        )
    }
}

#[tokio::test]
async fn channel_is_refused_to_non_organisers_and_in_dms_and_stored_for_organisers() {
    let bot = Bot::start().await;
    bot.standin.guilds().add_text(&[BARN_CHANNEL, 900, 901]);
    let conference = conference_id(&bot).await;
    let stored = || subscriptions::channel_plan(&bot.db.pool, conference);

    let moderator = ask(&bot, channel(BARN_CHANNEL, Some("Barn"), MODERATOR)).await;
    let in_dm = ask(&bot, |id, token| {
        payloads::in_dm(channel(BARN_CHANNEL, None, ADMINISTRATOR)(id, token))
    })
    .await;
    let nothing_stored = stored().await.expect("plan");
    let organiser = ask(&bot, channel(BARN_CHANNEL, Some("barn"), MANAGE_GUILD)).await;
    plan_changed(&bot).await;
    let admin = ask(&bot, channel(900, None, ADMINISTRATOR)).await;
    let typo = ask(&bot, channel(901, Some("Attic"), MANAGE_GUILD)).await;

    assert_eq!(
        private_text(&moderator),
        "Only this server's organisers (Manage Server, or the organiser role) can use `/channel`."
    );
    assert_eq!(
        private_text(&in_dm),
        "`/channel` works in a server only, for its organisers."
    );
    assert_eq!(nothing_stored, None);
    assert_eq!(
        private_text(&organiser),
        format!(
            "**Reminder channels for Live Conf** (posted 10 minutes before each talk):\n\
             Barn → <#{BARN_CHANNEL}>\n\
             Every other room → no channel reminders"
        )
    );
    assert!(private_text(&admin).ends_with(&format!(
        "Barn → <#{BARN_CHANNEL}>\nEvery other room → <#900>"
    )));
    assert!(
        private_text(&typo).contains("Rooms: Barn, Loft, Stage A, Stage B, Stage C."),
        "{}",
        typo.body
    );
    let plan = stored().await.expect("plan").expect("a stored plan");
    assert_eq!(plan.by_room.get("Barn"), Some(&BARN_CHANNEL));
    assert_eq!(plan.by_room.len(), 1, "the typo stored nothing");
    assert_eq!(plan.default, Some(900));
    assert_eq!(plan.lead.minutes(), 10, "reminders.channel_lead");
    assert_eq!(
        plan.names.get(&BARN_CHANNEL).map(String::as_str),
        Some("barn-talks")
    );
    assert_every_message_pings_nobody(&bot);
}

#[tokio::test]
async fn the_first_channel_change_starts_from_the_configured_map() {
    let configured = format!(
        "[{{conference=\"{CONFERENCE}\", default_channel=6, rooms={{Loft={{id=5, name=\"loft\"}}}}}}]"
    );
    let env = [
        ("CONFBOT__REMINDERS__CONFERENCES", configured.as_str()),
        ("CONFBOT__REMINDERS__CHANNEL_LEAD_MINUTES", "3"),
    ];
    let bot = Bot::start_with_title(ORCHESTRATOR, &env).await;
    bot.standin.guilds().add_text(&[BARN_CHANNEL, 900]);
    let conference = conference_id(&bot).await;

    let answer = ask(&bot, channel(BARN_CHANNEL, Some("Barn"), MANAGE_GUILD)).await;

    assert_eq!(
        private_text(&answer),
        format!(
            "**Reminder channels for Live Conf** (posted 3 minutes before each talk):\n\
             Barn → <#{BARN_CHANNEL}>\n\
             Loft → <#5>\n\
             Every other room → <#6>"
        )
    );
    let plan = subscriptions::channel_plan(&bot.db.pool, conference)
        .await
        .expect("plan")
        .expect("stored");
    assert_eq!(plan.by_room.len(), 2);
    assert_eq!(plan.default, Some(6));
    assert_eq!(plan.lead.minutes(), 3);
    assert_eq!(plan.names.get(&5).map(String::as_str), Some("loft"));
}
