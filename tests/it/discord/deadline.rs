//! Discord's 3-second deadline: a slow database makes the bot defer, then edit the answer in.

use std::time::Duration;

use serde_json::json;

use super::{data, is_ephemeral, lock_imports, patches, Bot};

#[tokio::test]
async fn a_slow_database_gets_a_deferred_response_in_time_and_the_answer_afterwards() {
    let bot = Bot::start().await;
    bot.standin.wait_for_identify().await;
    // Another transaction holds the imports table: the bot's first snapshot load (it has none
    // yet) waits on the version query until the lock is released.
    let blocker = lock_imports(&bot.db).await;

    let (token, sent) = bot.slash("now", &[]).await;
    let deferred = bot.callback(&token).await;
    let edits_while_locked = patches(&bot.standin);
    blocker.rollback().await.expect("release the lock");
    let edit = bot.edit(&token).await;

    let waited = deferred.at.duration_since(sent);
    assert_eq!(deferred.body["type"], 5, "a deferred response");
    assert!(
        is_ephemeral(data(&deferred)),
        "/now is private, so is its placeholder"
    );
    // Only the lower bound: a loaded machine makes the deferral late, never early. How soon
    // after the deadline it goes out is measured by `cargo bench --bench commands`.
    assert!(
        waited >= Duration::from_millis(1_400),
        "deferred only after trying: {waited:?}"
    );
    assert_eq!(edits_while_locked, 0);
    assert!(edit.at > deferred.at);
    assert_eq!(edit.body["allowed_mentions"]["parse"], json!([]));
    let answer = edit.body["content"].as_str().unwrap_or_default();
    assert!(
        answer.contains(super::ORCHESTRATOR),
        "the edit carries the answer: {answer}"
    );
    bot.stop().await.expect("clean stop");
}

#[tokio::test]
async fn the_configured_deadline_is_the_one_the_bot_waits_for() {
    // Longer than the default 1.5 s: a deferral after at least 1.9 s can only come from the
    // configured value, however loaded the machine (and a second before the stand-in's
    // 3-second deadline, which a loaded machine must not miss).
    let bot = Bot::start_with_title(
        super::ORCHESTRATOR,
        &[("CONFBOT__DISCORD__DEFER_AFTER_MS", "2000")],
    )
    .await;
    bot.standin.wait_for_identify().await;
    let blocker = lock_imports(&bot.db).await;

    let (token, sent) = bot.slash("talk", &[("query", "orchestrator")]).await;
    let deferred = bot.callback(&token).await;
    blocker.rollback().await.expect("release the lock");
    let edit = bot.edit(&token).await;

    let waited = deferred.at.duration_since(sent);
    assert_eq!(deferred.body["type"], 5);
    assert!(!is_ephemeral(data(&deferred)), "/talk is deferred publicly");
    assert!(waited >= Duration::from_millis(1_900), "{waited:?}");
    assert_eq!(edit.body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(edit.body["embeds"][0]["title"], super::ORCHESTRATOR);
}
