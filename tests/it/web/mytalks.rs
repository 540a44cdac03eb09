//! `/mytalks` through the stand-in gives a private calendar link under `web.public_url`,
//! the link serves the person's talks from the web surface, and `reset-link` revokes it.

use confbot::domain::import::{self, ImportOptions};
use serde_json::json;

use super::Web;
use crate::discord::commands::text;
use crate::discord::payloads;
use crate::discord::standin::Recorded;
use crate::discord::{data, is_ephemeral, Bot, ORCHESTRATOR};

const PUBLIC: &str = "https://confbot.example.org/bot";

async fn mytalks(bot: &Bot, reset: bool) -> Recorded {
    let (id, token) = bot.next_interaction();
    let options = if reset {
        vec![payloads::option("reset-link", 5, json!(true))]
    } else {
        vec![]
    };
    bot.standin
        .send_interaction(payloads::slash_with(id, &token, "mytalks", options))
        .await;
    bot.callback(&token).await
}

/// The feed path in the reply's link, after checking the link's two forms.
fn feed_path(reply: &Recorded) -> String {
    assert!(
        is_ephemeral(data(reply)),
        "a link is private: {}",
        reply.body
    );
    let text = text(data(reply));
    let https = text
        .split('<')
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .unwrap_or_else(|| panic!("no link in {text}"));
    let path = https
        .strip_prefix(PUBLIC)
        .unwrap_or_else(|| panic!("{https} is not under {PUBLIC}"));
    let webcal = format!("`webcal://confbot.example.org/bot{path}`");
    assert!(text.contains(&webcal), "{webcal} in {text}");
    path.to_owned()
}

#[tokio::test]
async fn mytalks_links_a_live_calendar_of_the_person_s_talks_and_reset_link_revokes_it() {
    let bot = Bot::start_with_title(ORCHESTRATOR, &[("CONFBOT__WEB__PUBLIC_URL", PUBLIC)]).await;
    let none = mytalks(&bot, false).await;
    assert!(
        !text(data(&none)).contains(PUBLIC),
        "no subscriptions yet: no link"
    );
    let (token, _) = bot.slash("subscribe", &[("talk", "glue compute")]).await;
    bot.callback(&token).await;

    let first = feed_path(&mytalks(&bot, false).await);
    let again = feed_path(&mytalks(&bot, false).await);
    assert_eq!(first, again, "the same link every time");
    let web = Web::start(bot.db.pool.clone()).await;
    let served = web.get(&first, &[]).await;
    assert_eq!(served.status(), 200);
    let body = served.bytes().await.expect("body");
    let calendar = import::parse(&body, None, &ImportOptions::default()).expect("imports");
    let titles: Vec<&str> = calendar.talks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, [ORCHESTRATOR]);

    let reset = mytalks(&bot, true).await;
    assert!(
        text(data(&reset)).contains("Your old calendar link no longer works"),
        "{}",
        reset.body
    );
    let renewed = feed_path(&reset);
    assert_ne!(renewed, first);
    assert_eq!(web.get(&first, &[]).await.status(), 404);
    assert_eq!(web.get(&renewed, &[]).await.status(), 200);
    web.stop().await;
}
