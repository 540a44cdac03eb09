//! Discord's per-route buckets, honoured before a 429 rather than after one.
//!
//! Every answer says how many requests its route's bucket has left
//! (`X-RateLimit-Remaining`), how many it holds (`X-RateLimit-Limit`) and when it refills
//! (`X-RateLimit-Reset-After`). A request takes a place in its route's bucket before it
//! leaves: while the bucket has more places left than requests already under way, it goes;
//! when they are taken it waits for the refill; a route not seen yet lets one request
//! through and learns its bucket from the answer. So several requests to one channel (a
//! reminder channel that several rooms share: 5 messages per 5 s) go as fast as the bucket
//! allows and none draws a 429.
//!
//! Routes are keyed by the caller (`messages:<channel>`): one per major parameter, which is
//! how Discord scopes the buckets these routes have.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::lock::lock;

/// The buckets of every route this process has used.
#[derive(Debug, Default)]
pub struct Buckets {
    routes: Mutex<HashMap<String, Bucket>>,
    /// Notified whenever a place is given back or a bucket learnt of.
    changed: Notify,
}

#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    /// Places left as of the last answer; `None` until an answer said.
    remaining: Option<u32>,
    /// Places after a refill, as the last answer said.
    limit: Option<u32>,
    /// When the bucket refills.
    reset_at: Option<Instant>,
    /// Requests under way: taken from `remaining` but not yet answered.
    open: u32,
}

/// What a request may do about its route's bucket now.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Go,
    /// No place until the bucket refills.
    Until(Instant),
    /// No place until a request under way is answered, or the bucket refills if it is
    /// known when.
    Answer(Option<Instant>),
}

/// Routes kept before the settled ones are forgotten.
const PRUNE_ABOVE: usize = 4096;

impl Bucket {
    /// Nothing under way and no refill to wait for: forgetting it loses nothing.
    fn settled(&self, now: Instant) -> bool {
        self.open == 0 && self.reset_at.map_or(true, |at| at <= now)
    }

    fn admit(&mut self, now: Instant) -> Admit {
        if self.reset_at.is_some_and(|at| at <= now) {
            self.reset_at = None;
            self.remaining = self.limit;
        }
        let free = match self.remaining {
            Some(remaining) => remaining > self.open,
            // Unknown: one request finds out.
            None => self.open == 0,
        };
        if free {
            self.open += 1;
            return Admit::Go;
        }
        match (self.remaining, self.reset_at) {
            (Some(0), Some(at)) => Admit::Until(at),
            // Every place left is taken by a request under way (so one is open).
            (_, reset_at) => Admit::Answer(reset_at),
        }
    }
}

/// A place taken in a route's bucket: give it back with what the answer said, or drop it
/// (no answer came).
#[derive(Debug)]
pub struct Place {
    buckets: Arc<Buckets>,
    route: String,
    open: bool,
}

impl Place {
    /// The answer's headers: `remaining` places left (`None` when it did not say), of
    /// `limit`, refilling `reset_after` from now.
    pub fn answered(
        mut self,
        remaining: Option<f64>,
        limit: Option<f64>,
        reset_after: Option<Duration>,
    ) {
        self.open = false;
        let mut routes = lock(&self.buckets.routes);
        let bucket = routes.entry(self.route.clone()).or_default();
        bucket.open = bucket.open.saturating_sub(1);
        match (remaining, reset_after) {
            (Some(remaining), Some(reset_after)) => {
                bucket.remaining = Some(places(remaining));
                // A limit of none would never refill: unknown instead.
                bucket.limit = limit.map(places).filter(|l| *l > 0).or(bucket.limit);
                bucket.reset_at = Some(Instant::now() + reset_after);
            }
            // A route without a bucket of its own: nothing to keep to.
            _ => {
                if bucket.open == 0 {
                    routes.remove(&self.route);
                }
            }
        }
        drop(routes);
        self.buckets.changed.notify_waiters();
    }

    /// A 429 for this route alone: nothing until `retry_after` from now.
    pub fn limited(mut self, retry_after: Duration) {
        self.open = false;
        let mut routes = lock(&self.buckets.routes);
        let bucket = routes.entry(self.route.clone()).or_default();
        bucket.open = bucket.open.saturating_sub(1);
        bucket.remaining = Some(0);
        bucket.reset_at = Some(Instant::now() + retry_after);
        drop(routes);
        self.buckets.changed.notify_waiters();
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if self.open {
            if let Some(bucket) = lock(&self.buckets.routes).get_mut(&self.route) {
                bucket.open = bucket.open.saturating_sub(1);
            }
            self.buckets.changed.notify_waiters();
        }
    }
}

fn places(value: f64) -> u32 {
    // Header values are small non-negative integers; anything else counts as none left.
    if value.is_finite() && value >= 1.0 {
        value.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

impl Buckets {
    /// Takes a place in `route`'s bucket, waiting for one at most `max`; else returns how
    /// long the wait would be (a refill further away than `max`, or `max` itself while
    /// requests under way hold every place).
    pub async fn take(self: &Arc<Self>, route: &str, max: Duration) -> Result<Place, Duration> {
        let start = Instant::now();
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = Instant::now();
            let admit = {
                let mut routes = lock(&self.routes);
                if routes.len() > PRUNE_ABOVE {
                    // Every DM channel is a route of its own: forget the settled ones.
                    routes.retain(|_, bucket| !bucket.settled(now));
                }
                routes.entry(route.to_owned()).or_default().admit(now)
            };
            let left = max.saturating_sub(now - start);
            match admit {
                Admit::Go => {
                    return Ok(Place {
                        buckets: Arc::clone(self),
                        route: route.to_owned(),
                        open: true,
                    })
                }
                Admit::Until(at) => {
                    let wait = at - now;
                    if wait >= left {
                        return Err(wait);
                    }
                    tokio::time::sleep_until(at).await;
                }
                Admit::Answer(refill) => {
                    let refill = refill.map_or(left, |at| at.saturating_duration_since(now));
                    let waited = tokio::time::timeout(left.min(refill), changed).await;
                    if waited.is_err() && refill >= left {
                        return Err(max);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE: Duration = Duration::from_secs(5);

    #[tokio::test(start_paused = true)]
    async fn an_unknown_route_lets_one_request_find_out_its_bucket() {
        let buckets = Arc::new(Buckets::default());
        let first = buckets.take("messages:1", FIVE).await.unwrap();
        let waiting = tokio::spawn({
            let buckets = Arc::clone(&buckets);
            async move { buckets.take("messages:1", FIVE).await.map(drop) }
        });
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "the second waits for the first answer"
        );
        // Another route is not held up.
        let other = buckets.take("messages:2", Duration::ZERO).await;
        assert!(other.is_ok());
        first.answered(Some(4.0), Some(5.0), Some(FIVE));
        assert_eq!(waiting.await.unwrap(), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_under_way_count_against_the_places_left() {
        let buckets = Arc::new(Buckets::default());
        buckets
            .take("m", FIVE)
            .await
            .unwrap()
            .answered(Some(4.0), Some(5.0), Some(FIVE));
        // Four places left: four go at once and stay open.
        let mut open = Vec::new();
        for _ in 0..4 {
            open.push(buckets.take("m", Duration::ZERO).await.unwrap());
        }
        assert_eq!(
            buckets.take("m", Duration::from_secs(1)).await.err(),
            Some(Duration::from_secs(1)),
            "a fifth must wait for an answer"
        );
        let start = Instant::now();
        for (left, place) in (0..4).rev().zip(open) {
            place.answered(Some(f64::from(left)), Some(5.0), Some(FIVE));
        }
        // None left: the next waits for the refill, then the bucket is full again.
        assert_eq!(
            buckets.take("m", Duration::from_secs(1)).await.err(),
            Some(FIVE)
        );
        let refilled = buckets.take("m", Duration::from_secs(10)).await.unwrap();
        assert_eq!(Instant::now() - start, FIVE);
        let also = buckets.take("m", Duration::ZERO).await;
        assert!(also.is_ok(), "a refill gives the limit back, not one place");
        drop(refilled);
    }

    #[tokio::test(start_paused = true)]
    async fn a_place_given_back_without_an_answer_frees_it() {
        let buckets = Arc::new(Buckets::default());
        let first = buckets.take("m", FIVE).await.unwrap();
        drop(first);
        assert!(buckets.take("m", Duration::ZERO).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_route_429_holds_the_route_until_its_retry_after() {
        let buckets = Arc::new(Buckets::default());
        let start = Instant::now();
        buckets
            .take("m", FIVE)
            .await
            .unwrap()
            .limited(Duration::from_secs(2));
        assert_eq!(
            buckets.take("m", Duration::from_secs(1)).await.err(),
            Some(Duration::from_secs(2))
        );
        let after = buckets.take("m", FIVE).await;
        assert!(after.is_ok());
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_for_an_answer_ends_when_the_bucket_refills() {
        let buckets = Arc::new(Buckets::default());
        buckets.take("m", FIVE).await.unwrap().answered(
            Some(1.0),
            Some(5.0),
            Some(Duration::from_secs(1)),
        );
        // Its last place is taken by a request that hangs.
        let _hanging = buckets.take("m", Duration::ZERO).await.unwrap();
        let start = Instant::now();
        let next = buckets.take("m", Duration::from_secs(10)).await;
        assert!(next.is_ok());
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn settled_routes_are_forgotten_once_there_are_many() {
        let buckets = Arc::new(Buckets::default());
        for channel in 0..=PRUNE_ABOVE {
            buckets
                .take(&format!("messages:{channel}"), FIVE)
                .await
                .unwrap()
                .answered(Some(4.0), Some(5.0), Some(FIVE));
        }
        tokio::time::advance(FIVE).await;
        let held = buckets.take("messages:0", Duration::ZERO).await.unwrap();
        assert_eq!(
            lock(&buckets.routes).len(),
            1,
            "only the route in use is kept"
        );
        drop(held);
    }

    #[tokio::test(start_paused = true)]
    async fn a_route_without_bucket_headers_is_not_held() {
        let buckets = Arc::new(Buckets::default());
        buckets
            .take("me", FIVE)
            .await
            .unwrap()
            .answered(None, None, None);
        let first = buckets.take("me", Duration::ZERO).await.unwrap();
        first.answered(None, None, None);
        assert!(lock(&buckets.routes).is_empty());
    }
}
