//! The stand-in refuses what Discord refuses (so a bot test that passes would pass against
//! Discord), and the bot keeps to the rules when an interaction's time runs out.

use std::time::Duration;

use serde_json::{json, Value};

use super::payloads::{self, APP_ID};
use super::standin::{StandIn, TOKEN};
use super::Bot;

async fn call(
    standin: &StandIn,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .request(method, format!("{}/api/v10{path}", standin.url()))
        .header("authorization", format!("Bot {TOKEN}"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("the stand-in answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        headers,
    )
}

fn message(content: &str) -> Value {
    json!({"content": content, "allowed_mentions": {"parse": []}})
}

#[tokio::test]
async fn callbacks_follow_ups_and_message_sizes_are_held_to_discords_rules() {
    use reqwest::Method;
    let standin = StandIn::start().await;
    standin.guilds().add_text(&[5]);
    let over_http = payloads::slash(1, "answered", "now", &[]);
    standin.interactions().answered_over_http(&over_http);
    let pong = json!({"type": 4, "data": message("hi")});

    let never_sent = call(
        &standin,
        Method::POST,
        "/interactions/2/unknown/callback",
        &pong,
    )
    .await;
    let early = call(
        &standin,
        Method::POST,
        &format!("/webhooks/{APP_ID}/unknown"),
        &message("x"),
    )
    .await;
    let second = call(
        &standin,
        Method::POST,
        "/interactions/1/answered/callback",
        &pong,
    )
    .await;
    let follow_up = call(
        &standin,
        Method::POST,
        &format!("/webhooks/{APP_ID}/answered"),
        &message("x"),
    )
    .await;
    let long = message(&"x".repeat(2001));
    let too_long = call(
        &standin,
        Method::POST,
        &format!("/webhooks/{APP_ID}/answered"),
        &long,
    )
    .await;
    let long_post = call(&standin, Method::POST, "/channels/5/messages", &long).await;
    standin.interactions().set_token_lifetime(Duration::ZERO);
    let expired = call(
        &standin,
        Method::PATCH,
        &format!("/webhooks/{APP_ID}/answered/messages/@original"),
        &message("y"),
    )
    .await;

    assert_eq!((never_sent.0, &never_sent.1["code"]), (404, &json!(10062)));
    assert_eq!((early.0, &early.1["code"]), (404, &json!(10015)));
    assert_eq!((second.0, &second.1["code"]), (400, &json!(40060)));
    assert_eq!(follow_up.0, 200, "{follow_up:?}");
    assert_eq!((too_long.0, &too_long.1["code"]), (400, &json!(50035)));
    assert_eq!((long_post.0, &long_post.1["code"]), (400, &json!(50035)));
    assert!(too_long.1["message"]
        .as_str()
        .unwrap_or_default()
        .contains("content"));
    assert_eq!((expired.0, &expired.1["code"]), (401, &json!(50027)));
    let codes: Vec<u64> = standin
        .interactions()
        .take_refusals()
        .iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(codes, [10062, 10015, 40060, 50035, 50035, 50027]);
    assert_eq!(
        standin.messages().counts().created,
        0,
        "nothing over the limit was made"
    );
}

#[tokio::test]
async fn responses_that_do_not_suit_the_interaction_or_break_limits_are_refused() {
    use reqwest::Method;
    let standin = StandIn::start().await;
    let autocomplete = payloads::autocomplete(1, "complete", "talk", &[("query", "orc")], "query");
    let modal_submit = payloads::modal_submit(2, "submitted", "m", &[("text", "hello")]);
    let button = payloads::button(3, "clicked", "b");
    for interaction in [&autocomplete, &modal_submit, &button] {
        // Tracked as sent, not yet acknowledged: only callbacks are tried below.
        standin.interactions().sent(interaction);
    }
    let choices: Vec<Value> = (0..26)
        .map(|i| json!({"name": format!("talk {i}"), "value": i.to_string()}))
        .collect();
    let modal = json!({"type": 9, "data": {"custom_id": "again", "title": "Again",
        "components": [{"type": 1, "components": [{"type": 4, "custom_id": "t", "label": "T", "style": 1}]}]}});

    let message_for_autocomplete = call(
        &standin,
        Method::POST,
        "/interactions/1/complete/callback",
        &json!({"type": 4, "data": message("no")}),
    )
    .await;
    let too_many_choices = call(
        &standin,
        Method::POST,
        "/interactions/1/complete/callback",
        &json!({"type": 8, "data": {"choices": choices}}),
    )
    .await;
    let modal_for_modal = call(
        &standin,
        Method::POST,
        "/interactions/2/submitted/callback",
        &modal,
    )
    .await;
    let long_custom_id = json!({"type": 7, "data": {"content": "x", "components": [{"type": 1,
        "components": [{"type": 2, "style": 1, "label": "ok", "custom_id": "c".repeat(101)}]}]}});
    let long_id = call(
        &standin,
        Method::POST,
        "/interactions/3/clicked/callback",
        &long_custom_id,
    )
    .await;
    let fine = call(
        &standin,
        Method::POST,
        "/interactions/3/clicked/callback",
        &json!({"type": 6}),
    )
    .await;

    for refused in [
        &message_for_autocomplete,
        &too_many_choices,
        &modal_for_modal,
        &long_id,
    ] {
        assert_eq!(
            (refused.0, &refused.1["code"]),
            (400, &json!(50035)),
            "{refused:?}"
        );
    }
    assert_eq!(
        fine.0, 204,
        "a refused callback acknowledged nothing: {fine:?}"
    );
    assert_eq!(standin.interactions().take_refusals().len(), 4);
}

#[tokio::test]
async fn an_interaction_whose_time_ran_out_gets_no_follow_up_or_edit() {
    let bot = Bot::start().await;
    bot.standin.wait_for_identify().await;
    // Every answer comes too late, as after a stall longer than three seconds.
    bot.standin
        .interactions()
        .set_response_deadline(Duration::ZERO);

    let (token, _) = bot.slash("now", &[]).await;
    bot.callback(&token).await;
    // A later command shows the bot went on: its callback is refused too, and the first
    // token was left alone meanwhile.
    let (later, _) = bot.slash("next", &[]).await;
    bot.callback(&later).await;

    let refusals = bot.standin.interactions().take_refusals();
    let codes: Vec<u64> = refusals.iter().map(|r| r.code).collect();
    assert_eq!(codes, [10062, 10062], "{refusals:#?}");
    let webhooks = bot
        .standin
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/api/v10/webhooks/"))
        .count();
    assert_eq!(webhooks, 0, "no follow-up or edit for a dead token");
    bot.stop().await.expect("clean stop");
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_answer_carries_its_rate_limit_headers_and_unknown_channels_do_not_exist() {
    use reqwest::Method;
    let standin = StandIn::start().await;
    standin.guilds().add_text(&[5, 7]);

    let mut posts = Vec::new();
    for n in 0..6 {
        let body = message(&format!("m{n}"));
        posts.push(call(&standin, Method::POST, "/channels/5/messages", &body).await);
    }
    let me = call(&standin, Method::GET, "/users/@me", &Value::Null).await;
    let unknown_post = call(
        &standin,
        Method::POST,
        "/channels/6/messages",
        &message("?"),
    )
    .await;
    let unknown_read = call(&standin, Method::GET, "/channels/6", &Value::Null).await;
    standin.messages().storm(1, Duration::from_millis(1_500));
    let global = call(
        &standin,
        Method::POST,
        "/channels/7/messages",
        &message("!"),
    )
    .await;

    for (n, (status, _, headers)) in posts[..5].iter().enumerate() {
        assert_eq!(*status, 200);
        assert_eq!(header(headers, "x-ratelimit-limit"), "5");
        assert_eq!(
            header(headers, "x-ratelimit-remaining"),
            (4 - n).to_string()
        );
        for name in [
            "x-ratelimit-reset",
            "x-ratelimit-reset-after",
            "x-ratelimit-bucket",
        ] {
            assert!(!header(headers, name).is_empty(), "{name} on answer {n}");
        }
    }
    let (status, body, headers) = &posts[5];
    assert_eq!(*status, 429, "the sixth message in five seconds");
    assert_eq!(header(headers, "x-ratelimit-scope"), "user");
    assert_eq!(header(headers, "x-ratelimit-remaining"), "0");
    assert!(header(headers, "retry-after")
        .parse::<u64>()
        .is_ok_and(|s| s >= 1));
    assert!(body["retry_after"].as_f64().is_some_and(|s| s > 0.0));
    assert_eq!(body["global"], false);
    assert!(headers.get("x-ratelimit-global").is_none());
    assert_eq!(me.0, 200);
    assert!(
        !header(&me.2, "x-ratelimit-bucket").is_empty(),
        "every route has a bucket"
    );

    assert_eq!(
        (unknown_post.0, &unknown_post.1["code"]),
        (404, &json!(10003))
    );
    assert_eq!(
        (unknown_read.0, &unknown_read.1["code"]),
        (404, &json!(10003))
    );
    assert_eq!(global.0, 429);
    assert_eq!(header(&global.2, "x-ratelimit-scope"), "global");
    assert_eq!(header(&global.2, "x-ratelimit-global"), "true");
    assert_eq!(header(&global.2, "retry-after"), "2", "1.5 s, rounded up");
    assert_eq!(standin.messages().counts().created, 5);
}

#[test]
fn generic_routes_are_named_by_their_shape_and_counted_per_major_parameter() {
    use super::responses::route_shape;
    let (edit, one) = route_shape("PATCH /api/v10/channels/1/messages/2");
    let (other_edit, other_channel) = route_shape("PATCH /api/v10/channels/3/messages/4");
    let (_, same_channel) = route_shape("PATCH /api/v10/channels/1/messages/5");
    assert_eq!(edit, other_edit, "one name whatever the ids");
    assert_ne!(one, other_channel, "counted per channel");
    assert_eq!(one, same_channel, "a channel's edits share its count");
    assert_ne!(route_shape("GET /api/v10/users/@me").0, edit);
    assert_ne!(route_shape("DELETE /api/v10/channels/1/messages/2").0, edit);
}
