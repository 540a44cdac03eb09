//! Per-address limits for requests that miss: a wrong calendar token costs one indexed
//! query, and a client guessing tokens would otherwise make the database do that as fast as
//! it can ask. Requests that find their feed are never limited, so a conference's Wi-Fi
//! (hundreds of phones behind one address) keeps refreshing.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::http::HeaderMap;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How many tracked addresses make a sweep of those whose limit has recovered worth it, and
/// at most how often (in misses) one runs: a sweep walks every address.
const SWEEP_ABOVE: usize = 10_000;
const SWEEP_EVERY: u64 = 1_000;
/// Past this many addresses still limited, every miss is refused: memory stays bounded
/// under a spread-out guess, and a link that exists still works.
const MAX_TRACKED: usize = 100_000;

/// Misses allowed per address: a burst, then a steady rate.
pub struct Throttle {
    misses: DefaultKeyedRateLimiter<IpAddr>,
    /// Misses counted, to space the sweeps.
    counted: std::sync::atomic::AtomicU64,
    /// Whether `X-Forwarded-For` is believed (only behind a reverse proxy that sets it).
    trust_forwarded: bool,
}

impl Throttle {
    /// `per_minute` misses per address, in bursts of up to `burst`.
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32, trust_forwarded: bool) -> Self {
        Self {
            misses: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            counted: std::sync::atomic::AtomicU64::new(0),
            trust_forwarded,
        }
    }

    /// Records a miss from `client`; `false` once it has missed too often. An IPv6 client
    /// counts by its /64, which one host usually holds whole.
    pub fn miss(&self, client: IpAddr) -> bool {
        let n = self
            .counted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % SWEEP_EVERY == 0 && self.misses.len() > SWEEP_ABOVE {
            self.misses.retain_recent();
        }
        if self.misses.len() > MAX_TRACKED {
            return false;
        }
        self.misses.check_key(&network(client)).is_ok()
    }

    /// The address a request came from: the peer, or behind a trusted proxy the address
    /// the proxy appended last to `X-Forwarded-For` (earlier entries are the client's to
    /// invent).
    pub fn client(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trust_forwarded {
            return peer.ip();
        }
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .next_back()
            .and_then(|last| last.trim().parse().ok())
            .unwrap_or(peer.ip())
    }
}

/// The unit a client is limited by: an IPv4 address, or an IPv6 /64.
fn network(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1_u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(trust: bool) -> Throttle {
        let n = |n| NonZeroU32::new(n).expect("non-zero");
        Throttle::new(n(1), n(3), trust)
    }

    #[test]
    fn an_address_gets_its_burst_of_misses_then_is_refused_and_others_are_not() {
        let throttle = throttle(false);
        let guesser: IpAddr = "203.0.113.7".parse().expect("ip");
        let other: IpAddr = "198.51.100.1".parse().expect("ip");
        let allowed: Vec<bool> = (0..5).map(|_| throttle.miss(guesser)).collect();
        assert_eq!(allowed, [true, true, true, false, false]);
        assert!(throttle.miss(other));
        // Another address of the same IPv6 /64 is the same guesser.
        let v6 = |text: &str| text.parse::<IpAddr>().expect("ip");
        for _ in 0..3 {
            assert!(throttle.miss(v6("2001:db8:1:2::1")));
        }
        assert!(!throttle.miss(v6("2001:db8:1:2:ffff::9")));
        assert!(
            throttle.miss(v6("2001:db8:1:3::1")),
            "the next /64 is someone else"
        );
    }

    #[test]
    fn forwarded_for_is_read_only_when_trusted_and_only_its_last_entry() {
        let peer: SocketAddr = "10.0.0.2:5000".parse().expect("addr");
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            "1.1.1.1, 203.0.113.9".parse().expect("v"),
        );
        assert_eq!(throttle(false).client(peer, &headers), peer.ip());
        assert_eq!(
            throttle(true).client(peer, &headers).to_string(),
            "203.0.113.9"
        );
        let mut forged = HeaderMap::new();
        forged.append("x-forwarded-for", "not an address".parse().expect("v"));
        assert_eq!(throttle(true).client(peer, &forged), peer.ip());
    }
}
