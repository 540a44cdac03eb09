//! The REST requests serenity makes for the bot (interaction answers, command registration,
//! channel checks, a sync report), held to the same budget as reminder delivery:
//! - requests under Discord's global limit take a slot of the delivery [`Pacer`], so the
//!   process as a whole stays under `reminders.rate_per_second`; interaction callbacks,
//!   edits and follow-ups are exempt from that limit on Discord's side and do not wait;
//! - every 401, 403 and 429 answer counts towards the invalid-request budget
//!   ([`InvalidRequests`]) that `/metrics` shows and that stops delivery long before
//!   Discord's ban, and no paced request is made while that budget is spent.
//!
//! serenity's own rate limiter (on unless a proxy owns rate limiting) retries its 429s
//! without returning them; it reports each global one, which counts
//! ([`Rest::note_rate_limit`]); its route waits it does not tell apart from pre-emptive
//! ones, so those are not counted.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serenity::http::HttpError;
use tokio::time::Instant;

use super::invalid::InvalidRequests;
use super::pacer::Pacer;

/// How long a paced request waits for its slot before it gives up: an organiser waits for
/// the answer.
const PACED_WAIT: Duration = Duration::from_secs(5);

/// The budget serenity's requests share with delivery.
#[derive(Debug, Clone)]
pub struct Rest {
    pacer: Arc<Pacer>,
    invalid: Arc<InvalidRequests>,
}

impl Rest {
    pub fn new(pacer: Arc<Pacer>, invalid: Arc<InvalidRequests>) -> Self {
        Self { pacer, invalid }
    }

    /// A budget of its own at `rate` requests a second (a process that does not deliver).
    pub fn standalone(rate: u32) -> Self {
        Self::new(Arc::new(Pacer::new(rate)), Arc::default())
    }

    /// Makes `call` (not yet started: futures are lazy) under the global limit: in a pacer
    /// slot, and not while the invalid-request budget is spent. Its answer is counted.
    pub async fn paced<T>(
        &self,
        call: impl Future<Output = serenity::Result<T>>,
    ) -> serenity::Result<T> {
        if self.invalid.paused_for(Instant::now()).is_some() {
            return Err(serenity::Error::Other(
                "too many refused requests to Discord lately: try again in a few minutes",
            ));
        }
        if self.pacer.acquire_within(PACED_WAIT).await.is_err() {
            return Err(serenity::Error::Other(
                "Discord is rate limiting the bot: try again in a moment",
            ));
        }
        let result = call.await;
        self.note(&result);
        result
    }

    /// Makes `call`, exempt from the global limit (an interaction's edit or follow-up), and
    /// counts its answer.
    pub async fn noted<T>(
        &self,
        call: impl Future<Output = serenity::Result<T>>,
    ) -> serenity::Result<T> {
        let result = call.await;
        self.note(&result);
        result
    }

    /// Counts `result`'s answer if Discord refused it with 401, 403 or 429.
    pub fn note<T>(&self, result: &serenity::Result<T>) {
        if let Err(error) = result {
            self.note_error(error);
        }
    }

    /// Counts `error` if it is Discord's 401, 403 or 429.
    pub fn note_error(&self, error: &serenity::Error) {
        if let serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) = error {
            if InvalidRequests::counts(response.status_code.as_u16()) {
                self.invalid.record(Instant::now());
            }
        }
    }

    /// serenity's rate limiter met a 429 (`global`) or waited for a route.
    pub fn note_rate_limit(&self, global: bool) {
        if global {
            self.invalid.record(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serenity::http::ErrorResponse;

    /// Discord's refusal with `status`, as serenity returns it.
    async fn refused(status: u16) -> serenity::Error {
        let answer = axum::http::Response::builder()
            .status(status)
            .body(r#"{"message": "refused", "code": 0}"#)
            .unwrap();
        let response =
            ErrorResponse::from_response(reqwest::Response::from(answer), reqwest::Method::GET)
                .await;
        serenity::Error::Http(HttpError::UnsuccessfulRequest(response))
    }

    #[tokio::test(start_paused = true)]
    async fn refusals_count_and_a_spent_budget_makes_no_request() {
        let invalid = Arc::new(InvalidRequests::new(Duration::from_secs(600), 2));
        let rest = Rest::new(Arc::new(Pacer::new(50)), Arc::clone(&invalid));
        let not_found = refused(404).await;
        let answered: serenity::Result<()> = rest.paced(async { Err(not_found) }).await;
        assert!(answered.is_err());
        assert_eq!(invalid.total(), 0, "a 404 is no invalid request");
        let forbidden = refused(403).await;
        let _ = rest.paced(async { Err::<(), _>(forbidden) }).await;
        rest.note_error(&refused(401).await);
        assert_eq!(invalid.total(), 2);

        let made = std::sync::atomic::AtomicBool::new(false);
        let refused_here = rest
            .paced(async {
                made.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert!(refused_here.is_err());
        assert!(
            !made.load(std::sync::atomic::Ordering::SeqCst),
            "no request while the budget is spent"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn paced_requests_take_the_delivery_pacers_slots() {
        let pacer = Arc::new(Pacer::new(10));
        let rest = Rest::new(Arc::clone(&pacer), Arc::default());
        let start = Instant::now();
        for _ in 0..3 {
            rest.paced(async { Ok(()) }).await.unwrap();
        }
        assert_eq!(Instant::now() - start, Duration::from_millis(200));
        assert_eq!(
            pacer.backlog(),
            Duration::from_millis(100),
            "the next slot is taken"
        );
    }

    #[test]
    fn only_global_rate_limits_of_serenity_count() {
        let invalid = Arc::new(InvalidRequests::default());
        let rest = Rest::new(Arc::new(Pacer::new(50)), Arc::clone(&invalid));
        rest.note_rate_limit(false);
        rest.note_rate_limit(true);
        assert_eq!(invalid.total(), 1);
    }
}
