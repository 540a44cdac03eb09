//! `/ask`, `/questions`, their buttons and `/setup questions` through the stand-in, with the
//! running talk's thread open: the talk found from the thread, a question stored with its
//! card queued for the thread, the cooldown, refusals (no talk, no thread, too long, not a
//! chair), votes, a chair role, the chair's list updated in place, and the suggestions.

use serde_json::{json, Value};

use super::payloads::{self, GUILD_ID, USER_ID};
use super::setup::{sub, ORGANISER};
use super::subscriptions::{ask, private_text};
use super::{data, Bot, ORCHESTRATOR};

/// The running talk's open thread (its id is its reminder message's).
const THREAD: u64 = 1_900_000_000_000_000_001;
const CHAIR_ROLE: u64 = 1_900_000_000_000_000_077;
const OTHER_USER: u64 = 1_900_000_000_000_000_555;

/// `/{command}` with string options, typed in `channel` by `user` (with these
/// permissions and roles).
fn typed(
    command: &'static str,
    options: Vec<(&'static str, String)>,
    channel: u64,
    (user, permissions, roles): (u64, u64, &'static [u64]),
) -> impl FnOnce(u64, &str) -> Value {
    move |id, token| {
        let options = options
            .into_iter()
            .map(|(name, value)| payloads::option(name, 3, json!(value)))
            .collect();
        let mut payload = payloads::slash_with(id, token, command, options);
        payload["channel_id"] = json!(channel.to_string());
        payloads::as_member_of(payload, GUILD_ID, user, permissions, roles)
    }
}

fn click(custom_id: String, who: (u64, u64, &'static [u64])) -> impl FnOnce(u64, &str) -> Value {
    move |id, token| {
        let mut payload = payloads::button(id, token, &custom_id);
        payload["channel_id"] = json!(THREAD.to_string());
        payloads::as_member_of(payload, GUILD_ID, who.0, who.1, who.2)
    }
}

const ATTENDEE: (u64, u64, &[u64]) = (USER_ID, 0, &[]);
const ORGANISER_MEMBER: (u64, u64, &[u64]) = (OTHER_USER, 32, &[]);
const CHAIR: (u64, u64, &[u64]) = (OTHER_USER, 0, &[CHAIR_ROLE]);

async fn open_thread(bot: &Bot) {
    let talk: i64 = sqlx::query_scalar("SELECT id FROM talks WHERE title LIKE $1")
        .bind(format!("{}%", &ORCHESTRATOR[..20]))
        .fetch_one(&bot.db.pool)
        .await
        .expect("talk");
    sqlx::query(
        "INSERT INTO outbox (conference_id, target_kind, target_id, talk_id, kind,
                             schedule_version, due_at, body, status, sent_at, message_id)
         SELECT conference_id, 'channel', 77, id, 'thread', schedule_version, now(), $2, 'sent',
                now(), $3
         FROM talks WHERE id = $1",
    )
    .bind(talk)
    .bind(json!({"body": "thread_open", "guild": GUILD_ID, "name": "Q&A", "card": "🎤"}))
    .bind(THREAD as i64)
    .execute(&bot.db.pool)
    .await
    .expect("thread");
}

async fn questions_of(bot: &Bot) -> Vec<(i64, String, bool, i64)> {
    sqlx::query_as("SELECT id, text, anonymous, asker_id FROM questions ORDER BY id")
        .fetch_all(&bot.db.pool)
        .await
        .expect("questions")
}

#[tokio::test]
async fn a_question_typed_in_a_talks_thread_goes_to_it_and_chairs_list_mark_and_hide() {
    let bot = Bot::start().await;
    open_thread(&bot).await;
    let question = |text: &str| vec![("question", text.to_owned())];

    let asked = private_text(
        &ask(
            &bot,
            typed("ask", question(" Why glue? "), THREAD, ATTENDEE),
        )
        .await,
    );
    let soon = private_text(&ask(&bot, typed("ask", question("And?"), THREAD, ATTENDEE)).await);
    let flask = vec![
        ("question", "Sync?".to_owned()),
        ("talk", "Flask for Fun and Profit".to_owned()),
    ];
    let no_thread = private_text(&ask(&bot, typed("ask", flask, THREAD, ATTENDEE)).await);
    let nowhere = private_text(&ask(&bot, typed("ask", question("Where?"), 4, ATTENDEE)).await);
    let long = private_text(
        &ask(
            &bot,
            typed("ask", question(&"x".repeat(501)), THREAD, ATTENDEE),
        )
        .await,
    );

    assert!(
        asked.starts_with(&format!("Your question to **Python as Orchestrator: When to Glue, When to Compute** is posted in https://discord.com/channels/{GUILD_ID}/{THREAD} ")),
        "{asked}"
    );
    assert!(
        soon.starts_with("One question per talk every 30 seconds, please"),
        "{soon}"
    );
    assert!(
        no_thread.starts_with("**Flask for Fun and Profit** has no open Q&A thread"),
        "{no_thread}"
    );
    assert!(nowhere.starts_with("Which talk is it for?"), "{nowhere}");
    assert!(long.contains("501 characters"), "{long}");
    let stored = questions_of(&bot).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (id, text, anonymous, asker) = stored[0].clone();
    assert_eq!(
        (text.as_str(), anonymous, asker as u64),
        ("Why glue?", false, USER_ID)
    );
    let card: (i64, String, i64) = sqlx::query_as(
        "SELECT target_id, status, talk_id IS NULL AND question_id = $1 FROM outbox
         WHERE kind = 'question'",
    )
    .bind(id)
    .fetch_one(&bot.db.pool)
    .await
    .map(|(target, status, only): (i64, String, bool)| (target, status, i64::from(only)))
    .expect("the card's post");
    assert_eq!(card, (THREAD as i64, "pending".to_owned(), 1));

    // Votes from the card; an attendee may not chair.
    let up = private_text(&ask(&bot, click(format!("q-up:{id}"), ATTENDEE)).await);
    assert_eq!(
        up,
        "Upvoted: the question has 1 vote now. Click again to take your vote back."
    );
    let refused = private_text(&ask(&bot, typed("questions", vec![], THREAD, ATTENDEE)).await);
    assert_eq!(
        refused,
        "Only this server's organisers and session chairs can use `/questions`."
    );
    let sneaky = private_text(&ask(&bot, click(format!("q-hide:{id}"), ATTENDEE)).await);
    assert_eq!(
        sneaky,
        "Only this server's organisers and session chairs can use `/questions Hide`."
    );

    // A chair role, and anonymous questions from now on.
    let options = vec![
        payloads::option("anonymous", 5, json!(true)),
        payloads::option("chair_role", 8, json!(CHAIR_ROLE.to_string())),
    ];
    let saved = private_text(&ask(&bot, sub("setup", "questions", options, ORGANISER)).await);
    assert_eq!(
        saved,
        format!("Saved.\n**Questions (/ask)**: cards name the asker; chaired by organisers → anonymous cards; chaired by organisers and <@&{CHAIR_ROLE}>")
    );
    let second = private_text(
        &ask(
            &bot,
            typed("ask", question("Is it fast?"), THREAD, ORGANISER_MEMBER),
        )
        .await,
    );
    assert!(second.contains("shown without your name"), "{second}");
    assert!(questions_of(&bot).await[1].2, "stored as anonymous");

    let listed = ask(&bot, typed("questions", vec![], THREAD, CHAIR)).await;
    let list = private_text(&listed);
    assert!(
        list.starts_with("**Questions to Python as Orchestrator"),
        "{list}"
    );
    let first_line = list.lines().nth(1).unwrap_or_default();
    assert!(
        first_line.starts_with("**1.** ▲ 1 · Why glue? — <@"),
        "{list}"
    );
    assert!(
        list.lines()
            .nth(2)
            .unwrap_or_default()
            .contains("Is it fast? — anonymous"),
        "{list}"
    );
    let rows = data(&listed)["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rows.len(), 2, "a row of Answered, a row of Hide: {rows:?}");
    assert_eq!(
        rows[0]["components"][0]["custom_id"],
        format!("q-answered:{id}")
    );

    // Answered from the list: the list is updated in place.
    let answered = ask(&bot, click(format!("q-answered:{id}"), CHAIR)).await;
    assert_eq!(
        answered.body["type"], 7,
        "the list replaced: {}",
        answered.body
    );
    let updated = data(&answered)["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(updated.contains("Why glue? — <@"), "{updated}");
    assert!(
        updated
            .lines()
            .any(|l| l.contains("Why glue?") && l.ends_with('✅')),
        "{updated}"
    );
    let closed = private_text(&ask(&bot, click(format!("q-up:{id}"), ATTENDEE)).await);
    assert_eq!(closed, "This question was answered: no more votes.");
    let audit: Vec<(String, i64)> = sqlx::query_as(
        "SELECT action, user_id FROM audit_log WHERE action IN ('ask', 'question answered') ORDER BY id",
    )
    .fetch_all(&bot.db.pool)
    .await
    .expect("audit");
    assert_eq!(
        audit,
        [
            ("ask".to_owned(), USER_ID as i64),
            ("ask".to_owned(), OTHER_USER as i64),
            ("question answered".to_owned(), OTHER_USER as i64)
        ]
    );
}

#[tokio::test]
async fn ask_suggests_the_talks_running_or_starting_within_half_an_hour() {
    let bot = Bot::start().await;
    let (id, token) = bot.next_interaction();
    bot.standin
        .send_interaction(payloads::autocomplete(
            id,
            &token,
            "ask",
            &[("question", "q"), ("talk", "")],
            "talk",
        ))
        .await;
    let callback = bot.callback(&token).await;
    let names: Vec<String> = callback.body["data"]["choices"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| c["value"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        names,
        [ORCHESTRATOR, "Flask for Fun and Profit"],
        "not the talk 40 minutes away"
    );
}
