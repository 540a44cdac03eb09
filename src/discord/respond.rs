//! Where an interaction's first response goes. Over the gateway it is a REST call
//! (`POST /interactions/{id}/{token}/callback`); to an HTTP interactions endpoint
//! (`confbot serve-interactions`) Discord expects it as the reply to its own POST, so the
//! handler hands it over to the waiting request instead. Everything after the first response
//! (edits of a deferred answer, follow-ups, channel checks) is REST in both modes.

use std::sync::{Arc, Mutex, PoisonError};

use serenity::all::{CreateInteractionResponse, InteractionId};
use serenity::builder::Builder as _;
use serenity::http::Http;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::rest::Rest;

/// What an interaction handler answers through: the REST client plus the way out for the
/// first response.
pub struct Ctx {
    pub http: Arc<Http>,
    /// The budget the answers' requests keep to.
    pub rest: Rest,
    /// When the interaction arrived: Discord's 3 seconds for the first response run from
    /// here, whatever the bot did before answering (a claim, a reopen).
    pub received: Instant,
    first: First,
}

enum First {
    /// Gateway mode: the first response is a REST call like the rest.
    Rest,
    /// HTTP mode: the first response goes back to the HTTP request (taken once).
    Reply(Mutex<Option<oneshot::Sender<CreateInteractionResponse>>>),
}

impl Ctx {
    /// For an interaction that arrived over the gateway.
    pub fn gateway(http: Arc<Http>, rest: Rest) -> Self {
        Self {
            http,
            rest,
            received: Instant::now(),
            first: First::Rest,
        }
    }

    /// For an interaction that arrived as an HTTP request: its first response arrives on the
    /// returned receiver (which the request handler turns into its reply).
    pub fn webhook(
        http: Arc<Http>,
        rest: Rest,
    ) -> (Self, oneshot::Receiver<CreateInteractionResponse>) {
        let (sender, receiver) = oneshot::channel();
        let ctx = Self {
            http,
            rest,
            received: Instant::now(),
            first: First::Reply(Mutex::new(Some(sender))),
        };
        (ctx, receiver)
    }

    /// When an answer not ready yet must be deferred (or, where it cannot be, given up): `after`
    /// the interaction arrived.
    pub fn defer_at(&self, after: std::time::Duration) -> Instant {
        self.received + after
    }

    /// Sends the interaction's first response (a message, a deferral, suggestions, a modal).
    pub async fn respond(
        &self,
        interaction: InteractionId,
        token: &str,
        response: CreateInteractionResponse,
    ) -> serenity::Result<()> {
        if let First::Reply(slot) = &self.first {
            let sender = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(sender) = sender {
                // A dropped receiver: the HTTP request is gone (Discord gave up, or the
                // endpoint shut down), so the answer cannot arrive any more.
                return sender.send(response).map_err(|_unsent| {
                    serenity::Error::Other(
                        "the interaction's HTTP request closed before the answer",
                    )
                });
            }
            // A second first response would be a bug of the handler; Discord rejects it as
            // a REST call too, with an error that says so.
        }
        // An interaction callback: exempt from the global limit, but a refusal counts.
        let answered = response.execute(&*self.http, (interaction, token)).await;
        self.rest.note(&answered);
        answered
    }
}
