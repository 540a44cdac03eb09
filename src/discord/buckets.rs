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
//! Routes are named by the caller (`messages:<channel>`, its kind and its major parameter,
//! which is how Discord scopes the buckets these routes have), and a route's methods share
//! its bucket until Discord names them. Discord names each answer's bucket
//! (`X-RateLimit-Bucket`) and shares one bucket between similar routes, or keeps a route's
//! methods apart, as it sees fit: once a method on a kind of route has been answered with a
//! name, its requests take their places in the named bucket for their major parameter, with
//! every other method and kind Discord answered with the same name. A method of that kind
//! not answered yet goes in the kind's last named bucket until its own answer names one, so
//! naming never lets it past a bucket it shared before. Requests under way stay counted in
//! the bucket they were let into: when a method's own answer names a bucket other than the
//! one it kept to, the named one does not count them, so for one round trip that route may
//! have as many more under way as the old bucket had places (Discord's next answers say
//! what is left).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::lock::lock;

/// The buckets of every route this process has used.
#[derive(Debug, Default)]
pub struct Buckets {
    routes: Mutex<Routes>,
    /// Notified whenever a place is given back or a bucket learnt of.
    changed: Notify,
}

#[derive(Debug, Default)]
struct Routes {
    /// By [`Routes::key`]: a route's name until Discord has named its bucket.
    buckets: HashMap<String, Bucket>,
    /// The bucket Discord named for a method on a kind of route (`"POST messages"`).
    named: HashMap<String, String>,
    /// The last bucket Discord named for any method on a kind of route (`"messages"`).
    kinds: HashMap<String, String>,
}

/// The longest bucket name kept: Discord's are short hashes; anything else is not one.
const NAME_MAX: usize = 64;

impl Routes {
    /// Where a request of `method` on `route` takes its place.
    fn key(&self, method: &str, route: &str) -> String {
        let (kind, major) = kind_and_major(route);
        let name = self
            .named
            .get(&format!("{method} {kind}"))
            .or_else(|| self.kinds.get(kind));
        match name {
            // `#` keeps a name from ever meeting a route's own name.
            Some(name) => format!("#{name}:{major}"),
            None => route.to_owned(),
        }
    }

    /// Discord answered a request of `method` on `route` from the bucket `name`: the key its
    /// requests take their places under from now on. Every answer names its bucket, and it
    /// is almost always the one already known: nothing is stored again then.
    fn learn(&mut self, method: &str, route: &str, name: &str) -> String {
        let (kind, _) = kind_and_major(route);
        let method_kind = format!("{method} {kind}");
        if self.named.get(&method_kind).map(String::as_str) != Some(name) {
            self.named.insert(method_kind, name.to_owned());
        }
        if self.kinds.get(kind).map(String::as_str) != Some(name) {
            self.kinds.insert(kind.to_owned(), name.to_owned());
        }
        self.key(method, route)
    }
}

/// A route's name (`messages:<channel>`) as its kind and its major parameter.
fn kind_and_major(route: &str) -> (&str, &str) {
    route.split_once(':').unwrap_or((route, ""))
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
    method: String,
    route: String,
    /// The bucket the place was taken in.
    key: String,
    /// The bucket the answer named.
    name: Option<String>,
    open: bool,
}

impl Place {
    /// The answer named its bucket (`X-RateLimit-Bucket`); a name that is empty, long or
    /// not printable ASCII is ignored.
    pub fn in_bucket(mut self, name: Option<&str>) -> Self {
        self.name = name
            .filter(|n| !n.is_empty() && n.len() <= NAME_MAX)
            .filter(|n| n.bytes().all(|b| b.is_ascii_graphic()))
            .map(str::to_owned);
        self
    }

    /// The answer's headers: `remaining` places left (`None` when it did not say), of
    /// `limit`, refilling `reset_after` from now.
    pub fn answered(
        mut self,
        remaining: Option<f64>,
        limit: Option<f64>,
        reset_after: Option<Duration>,
    ) {
        let buckets = Arc::clone(&self.buckets);
        let mut routes = lock(&buckets.routes);
        let key = self.give_back(&mut routes);
        let bucket = routes.buckets.entry(key.clone()).or_default();
        match (remaining, reset_after) {
            (Some(remaining), Some(reset_after)) => {
                bucket.remaining = Some(places(remaining));
                // A limit of none would never refill: unknown instead.
                bucket.limit = limit.map(places).filter(|l| *l > 0).or(bucket.limit);
                bucket.reset_at = Some(Instant::now() + reset_after);
            }
            // A route without a bucket of its own: nothing to keep to, unless a bucket named
            // alike still waits for its refill.
            _ => {
                if bucket.settled(Instant::now()) {
                    routes.buckets.remove(&key);
                }
            }
        }
        drop(routes);
        buckets.changed.notify_waiters();
    }

    /// A 429 for this route's bucket alone: nothing until `retry_after` from now.
    pub fn limited(mut self, retry_after: Duration) {
        let buckets = Arc::clone(&self.buckets);
        let mut routes = lock(&buckets.routes);
        let key = self.give_back(&mut routes);
        let bucket = routes.buckets.entry(key).or_default();
        bucket.remaining = Some(0);
        bucket.reset_at = Some(Instant::now() + retry_after);
        drop(routes);
        buckets.changed.notify_waiters();
    }

    /// Gives the place back to the bucket it was taken in, and returns the bucket the answer
    /// is about: the one it named, if it named one. A route's own bucket left for a named
    /// one is forgotten here if it has settled, else by the prune of settled buckets.
    fn give_back(&mut self, routes: &mut Routes) -> String {
        self.open = false;
        let now = Instant::now();
        if let Some(bucket) = routes.buckets.get_mut(&self.key) {
            bucket.open = bucket.open.saturating_sub(1);
        }
        let Some(name) = self.name.take() else {
            return self.key.clone();
        };
        let key = routes.learn(&self.method, &self.route, &name);
        if key != self.key
            && routes
                .buckets
                .get(&self.key)
                .is_some_and(|b| b.settled(now))
        {
            routes.buckets.remove(&self.key);
        }
        key
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if self.open {
            if let Some(bucket) = lock(&self.buckets.routes).buckets.get_mut(&self.key) {
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
    /// Takes a place for a request of `method` on `route` in its bucket, waiting for one at
    /// most `max`; else returns how long the wait would be (a refill further away than
    /// `max`, or `max` itself while requests under way hold every place).
    pub async fn take(
        self: &Arc<Self>,
        method: &str,
        route: &str,
        max: Duration,
    ) -> Result<Place, Duration> {
        let start = Instant::now();
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let now = Instant::now();
            let (key, admit) = {
                let mut routes = lock(&self.routes);
                if routes.buckets.len() > PRUNE_ABOVE {
                    // Every DM channel is a route of its own: forget the settled ones.
                    routes.buckets.retain(|_, bucket| !bucket.settled(now));
                }
                let key = routes.key(method, route);
                let admit = routes.buckets.entry(key.clone()).or_default().admit(now);
                (key, admit)
            };
            let left = max.saturating_sub(now - start);
            match admit {
                Admit::Go => {
                    return Ok(Place {
                        buckets: Arc::clone(self),
                        method: method.to_owned(),
                        route: route.to_owned(),
                        key,
                        name: None,
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
mod tests;
