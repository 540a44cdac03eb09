//! [`Deliver`] for [`DiscordSender`]: the requests the delivery loop makes (a post, a board's
//! edit, a DM channel opened ahead, the look for an earlier attempt's message), each through
//! the sender's paced [`DiscordSender::request`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{lock, read_json, render, DiscordSender};
use crate::domain::commands::Message;
use crate::domain::events::{EventAction, EventSpec};
use crate::jobs::{Claim, Deliver, Recipient, SendError};

/// What Discord answers for a message it created: its id.
#[derive(Deserialize)]
struct Created {
    id: String,
}

impl Deliver for DiscordSender {
    async fn open_dm(&self, user: u64, claim: &Claim) -> Result<u64, SendError> {
        #[derive(Deserialize)]
        struct Channel {
            id: String,
        }
        let body = serde_json::json!({ "recipient_id": user.to_string() });
        let response = self
            .post(
                "dm-open",
                "/users/@me/channels",
                body.to_string(),
                false,
                claim,
            )
            .await?;
        let channel: Channel = read_json(response).await?;
        channel
            .id
            .parse()
            .map_err(|_| SendError::Rejected(format!("DM channel id {:?}", channel.id)))
    }

    async fn deliver(
        &self,
        to: Recipient,
        message: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> Result<Option<u64>, SendError> {
        let body = serde_json::to_string(&render::channel_message(message, nonce))
            .map_err(|e| SendError::Rejected(format!("message body: {e}")))?;
        let channel = to.channel();
        let route = format!("messages:{channel}");
        let path = format!("/channels/{channel}/messages");
        let to_channel = matches!(to, Recipient::Channel(_));
        let response = self.post(&route, &path, body, to_channel, claim).await?;
        // Sent is sent: an answer that does not parse only loses the id.
        Ok(read_json::<Created>(response)
            .await
            .ok()
            .and_then(|created| created.id.parse().ok()))
    }

    async fn show(
        &self,
        channel: u64,
        existing: Option<u64>,
        message: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> Result<u64, SendError> {
        let route = format!("messages:{channel}");
        if let Some(id) = existing {
            let body = serde_json::to_string(&render::edited_message(message))
                .map_err(|e| SendError::Rejected(format!("message body: {e}")))?;
            let path = format!("/channels/{channel}/messages/{id}");
            let method = reqwest::Method::PATCH;
            match self
                .request(method, &route, &path, Some(body), true, claim)
                .await
            {
                Ok(_) => return Ok(id),
                // Deleted by someone: shown again as a new message.
                Err(SendError::MessageGone) => {}
                Err(error) => return Err(error),
            }
        }
        let body = serde_json::to_string(&render::channel_message(message, nonce))
            .map_err(|e| SendError::Rejected(format!("message body: {e}")))?;
        let path = format!("/channels/{channel}/messages");
        let response = self.post(&route, &path, body, true, claim).await?;
        let shown: Created = read_json(response).await?;
        shown
            .id
            .parse()
            .map_err(|_| SendError::Rejected(format!("message id {:?}", shown.id)))
    }

    async fn open_thread(
        &self,
        channel: u64,
        message: u64,
        name: &str,
        card: &Message,
        nonce: &str,
        claim: &Claim,
    ) -> Result<(), SendError> {
        let body = serde_json::json!({ "name": name, "auto_archive_duration": 1440 });
        let path = format!("/channels/{channel}/messages/{message}/threads");
        let route = format!("threads:{channel}");
        match self
            .post(&route, &path, body.to_string(), true, claim)
            .await
        {
            // Started by an earlier attempt: the card may be missing still.
            Ok(_) | Err(SendError::ThreadExists) => {}
            Err(error) => return Err(error),
        }
        // The thread is a channel with the message's id; the nonce keeps the card single.
        self.deliver(Recipient::Channel(message), card, nonce, claim)
            .await
            .map(drop)
    }

    async fn remove(&self, channel: u64, message: u64, claim: &Claim) -> Result<(), SendError> {
        let path = format!("/channels/{channel}/messages/{message}");
        let route = format!("messages-delete:{channel}");
        let method = reqwest::Method::DELETE;
        match self.request(method, &route, &path, None, true, claim).await {
            // Deleted by someone (or by an earlier attempt): gone is what was asked.
            Ok(_) | Err(SendError::MessageGone) => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn close_thread(&self, thread: u64, lock: bool, claim: &Claim) -> Result<(), SendError> {
        let body = serde_json::json!({ "archived": true, "locked": lock });
        let path = format!("/channels/{thread}");
        let route = format!("thread:{thread}");
        let method = reqwest::Method::PATCH;
        match self
            .request(method, &route, &path, Some(body.to_string()), true, claim)
            .await
        {
            Ok(_) => Ok(()),
            // Archived already (idle, or by a moderator): it stays as they left it.
            Err(SendError::ThreadArchived) => {
                tracing::info!(thread, "the thread was archived already");
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    async fn find_sent(
        &self,
        to: Recipient,
        contents: &[String],
        after: DateTime<Utc>,
        claim: &Claim,
    ) -> Result<bool, SendError> {
        #[derive(Deserialize)]
        struct Author {
            id: String,
        }
        #[derive(Deserialize)]
        struct Found {
            id: String,
            #[serde(default)]
            content: String,
            author: Author,
        }
        let channel = to.channel();
        let own = self.own_id(claim).await?.to_string();
        let route = format!("messages-read:{channel}");
        let mut after = snowflake(after);
        // A reminder channel may be busy: a few pages of what came after the attempt.
        for _ in 0..READ_PAGES {
            let path = format!("/channels/{channel}/messages?after={after}&limit=100");
            let response = self
                .request(reqwest::Method::GET, &route, &path, None, true, claim)
                .await?;
            let page: Vec<Found> = read_json(response).await?;
            if page
                .iter()
                .any(|m| m.author.id == own && contents.contains(&m.content))
            {
                return Ok(true);
            }
            match page.iter().filter_map(|m| m.id.parse::<u64>().ok()).max() {
                Some(last) if page.len() == 100 => after = last,
                _ => return Ok(false),
            }
        }
        Ok(false)
    }

    async fn event(
        &self,
        guild: u64,
        action: &EventAction,
        claim: &Claim,
    ) -> Result<u64, SendError> {
        self.scheduled_event(guild, action, claim).await
    }

    async fn find_event(
        &self,
        guild: u64,
        spec: &EventSpec,
        claim: &Claim,
    ) -> Result<Option<u64>, SendError> {
        self.own_event(guild, spec, claim).await
    }

    fn share_with(&self, workers: u32) {
        self.pacer.share_with(workers);
    }

    fn backlog(&self) -> Duration {
        self.pacer.backlog()
    }

    fn latency(&self) -> Duration {
        lock(&self.latencies).slowest()
    }
}

/// Pages of 100 messages [`DiscordSender::find_sent`] reads at most.
const READ_PAGES: usize = 5;

/// The smallest snowflake of the instant `at`: Discord's ids are milliseconds since 2015
/// shifted left by 22 bits.
fn snowflake(at: DateTime<Utc>) -> u64 {
    const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
    u64::try_from(at.timestamp_millis() - DISCORD_EPOCH_MS).unwrap_or(0) << 22
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snowflake_encodes_the_milliseconds_since_discords_epoch() {
        // Discord's documented example: 175928847299117063 was made 2016-04-30 11:18:25.796 UTC.
        let at: DateTime<Utc> = "2016-04-30T11:18:25.796Z".parse().unwrap();
        assert_eq!(snowflake(at), 175_928_847_299_117_063 >> 22 << 22);
        assert_eq!(snowflake("2010-01-01T00:00:00Z".parse().unwrap()), 0);
    }
}
