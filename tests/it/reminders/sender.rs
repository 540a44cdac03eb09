//! The Discord sender on its own, without the delivery loop: what it refuses to send (a
//! wrong token is refused before any route; past its budget of invalid answers it makes no
//! request at all, before Discord would ban the IP).

use std::time::Duration;

use super::BARN;

#[tokio::test]
async fn the_sender_stops_before_discord_would_ban_it_for_invalid_requests() {
    use confbot::discord::invalid::InvalidRequests;
    use confbot::jobs::{Claim, Deliver, SendError};
    let standin = super::standin().await;
    // Discord bans at 10,000 in 10 minutes; here the budget is 3.
    let invalid = std::sync::Arc::new(InvalidRequests::new(Duration::from_secs(600), 3));
    let sender = confbot::discord::sender::DiscordSender::new(
        &standin.url(),
        "not-the-token".to_owned().into(),
        50,
    )
    .expect("sender")
    .counting_invalid_in(std::sync::Arc::clone(&invalid));
    let message = confbot::domain::commands::Message {
        content: "hello".to_owned(),
        ..Default::default()
    };
    let claim = Claim::unclaimed();
    let send = || {
        sender.deliver(
            confbot::jobs::Recipient::Channel(BARN),
            &message,
            "n",
            &claim,
        )
    };

    for _ in 0..3 {
        assert!(matches!(send().await, Err(SendError::Rejected(_))));
    }
    let paused = send().await;

    assert!(
        matches!(paused, Err(SendError::RateLimited { retry_after, global: true })
            if retry_after > Duration::from_secs(590)),
        "{paused:?}"
    );
    assert_eq!(
        standin.requests().len(),
        3,
        "the fourth request was not made"
    );
    assert_eq!(invalid.total(), 3);
}

#[tokio::test]
async fn a_request_with_the_wrong_token_is_refused_and_creates_nothing() {
    use confbot::jobs::{Claim, Deliver, SendError};
    let standin = super::standin().await;
    let sender = confbot::discord::sender::DiscordSender::new(
        &standin.url(),
        "not-the-token".to_owned().into(),
        50,
    )
    .expect("sender");
    let message = confbot::domain::commands::Message {
        content: "hello".to_owned(),
        ..Default::default()
    };

    let sent = sender
        .deliver(
            confbot::jobs::Recipient::Channel(BARN),
            &message,
            "n",
            &Claim::unclaimed(),
        )
        .await;

    assert!(
        matches!(&sent, Err(SendError::Rejected(text)) if text.contains("401")),
        "{sent:?}"
    );
    assert_eq!(
        standin.messages().counts().attempts,
        0,
        "refused before the route"
    );
}
