//! Which HTTP requests are Discord's: the Ed25519 signature over timestamp + body must
//! verify against the application's public key, the timestamp must be recent, and a
//! signature seen before is a replay. Pure apart from the replay memory; `now` is a
//! parameter.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};
use serenity::interactions_endpoint::Verifier;

/// How old a request may be. Discord sends at once; a request minutes old was captured and
/// replayed (or sat in a queue so long that its interaction token is as good as expired).
pub const MAX_AGE: TimeDelta = TimeDelta::minutes(5);
/// How far in the future a timestamp may lie (clock skew between Discord and this host).
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(1);
/// The most signatures remembered for replay detection (about 100 bytes each). A flood of
/// genuine requests larger than this within [`MAX_AGE`] forgets the oldest first.
const MAX_REMEMBERED: usize = 100_000;

/// Why a request was refused (answered 401). The Display is safe to send back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing the X-Signature-Ed25519 or X-Signature-Timestamp header")]
    MissingHeaders,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the timestamp is not a Unix time in seconds")]
    BadTimestamp,
    #[error("the request is {seconds} s old (at most {} s accepted)", MAX_AGE.num_seconds())]
    Stale { seconds: i64 },
    #[error("the timestamp is {seconds} s in the future")]
    Future { seconds: i64 },
    #[error("this request was already received")]
    Replayed,
}

/// The public key was not a valid Ed25519 point.
#[derive(Debug, thiserror::Error)]
#[error("discord.public_key is not a valid Ed25519 public key: {0}")]
pub struct InvalidKey(String);

/// Checks requests against one application's public key.
pub struct Gate {
    verifier: Verifier,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// Signatures in arrival order, with their timestamps, for forgetting.
    order: VecDeque<(i64, String)>,
    signatures: HashSet<String>,
}

impl Gate {
    pub fn new(public_key: [u8; 32]) -> Result<Self, InvalidKey> {
        let verifier =
            Verifier::try_new(public_key).map_err(|error| InvalidKey(error.to_string()))?;
        Ok(Self {
            verifier,
            seen: Mutex::default(),
        })
    }

    /// Lets a request in, or says why not. The signature is checked first, so nothing
    /// unsigned reaches the replay memory.
    pub fn check(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), Rejection> {
        let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
            return Err(Rejection::MissingHeaders);
        };
        self.verifier
            .verify(signature, timestamp, body)
            .map_err(|()| Rejection::BadSignature)?;
        let sent: i64 = timestamp.parse().map_err(|_| Rejection::BadTimestamp)?;
        let age = now.timestamp().saturating_sub(sent);
        if age > MAX_AGE.num_seconds() {
            return Err(Rejection::Stale { seconds: age });
        }
        if -age > MAX_SKEW.num_seconds() {
            return Err(Rejection::Future { seconds: -age });
        }
        self.remember(signature, sent, now)
    }

    /// Records the signature; `Replayed` when it is already known.
    fn remember(&self, signature: &str, sent: i64, now: DateTime<Utc>) -> Result<(), Rejection> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        // Anything older than the window is refused as stale anyway: forget it.
        let horizon = now.timestamp() - MAX_AGE.num_seconds();
        while let Some((at, _)) = seen.order.front() {
            if *at >= horizon && seen.order.len() < MAX_REMEMBERED {
                break;
            }
            if let Some((_, old)) = seen.order.pop_front() {
                seen.signatures.remove(&old);
            }
        }
        let signature = signature.to_ascii_lowercase();
        if !seen.signatures.insert(signature.clone()) {
            return Err(Rejection::Replayed);
        }
        seen.order.push_back((sent, signature));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    const BODY: &[u8] = br#"{"type":1}"#;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn gate() -> Gate {
        Gate::new(key().verifying_key().to_bytes()).unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    fn sign(timestamp: &str, body: &[u8]) -> String {
        let message = [timestamp.as_bytes(), body].concat();
        let signature = key().sign(&message).to_bytes();
        signature.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    const NOW: i64 = 1_780_000_000;

    #[test]
    fn a_fresh_signed_request_passes_once() {
        let gate = gate();
        let ts = NOW.to_string();
        let signature = sign(&ts, BODY);

        assert_eq!(
            gate.check(Some(&signature), Some(&ts), BODY, at(NOW)),
            Ok(())
        );
        assert_eq!(
            gate.check(Some(&signature), Some(&ts), BODY, at(NOW + 1)),
            Err(Rejection::Replayed)
        );
    }

    #[test]
    fn a_changed_body_or_timestamp_breaks_the_signature() {
        let gate = gate();
        let ts = NOW.to_string();
        let signature = sign(&ts, BODY);

        let other = (NOW + 1).to_string();
        let check =
            |sig: &str, ts: &str, body: &[u8]| gate.check(Some(sig), Some(ts), body, at(NOW));
        assert_eq!(
            check(&signature, &ts, br#"{"type":2}"#),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            check(&signature, &other, BODY),
            Err(Rejection::BadSignature)
        );
        assert_eq!(check("zz", &ts, BODY), Err(Rejection::BadSignature));
        assert_eq!(
            gate.check(None, Some(&ts), BODY, at(NOW)),
            Err(Rejection::MissingHeaders)
        );
    }

    #[test]
    fn old_and_future_timestamps_are_refused_even_when_signed() {
        let gate = gate();
        let old = (NOW - MAX_AGE.num_seconds() - 1).to_string();
        let future = (NOW + MAX_SKEW.num_seconds() + 1).to_string();
        let edge = (NOW - MAX_AGE.num_seconds()).to_string();

        assert_eq!(
            gate.check(Some(&sign(&old, BODY)), Some(&old), BODY, at(NOW)),
            Err(Rejection::Stale { seconds: 301 })
        );
        assert_eq!(
            gate.check(Some(&sign(&future, BODY)), Some(&future), BODY, at(NOW)),
            Err(Rejection::Future { seconds: 61 })
        );
        assert_eq!(
            gate.check(Some(&sign(&edge, BODY)), Some(&edge), BODY, at(NOW)),
            Ok(())
        );
        let text = "soon";
        assert_eq!(
            gate.check(Some(&sign(text, BODY)), Some(text), BODY, at(NOW)),
            Err(Rejection::BadTimestamp)
        );
    }

    #[test]
    fn signatures_are_forgotten_once_they_would_be_stale_anyway() {
        let gate = gate();
        for offset in 0..10 {
            let ts = (NOW + offset).to_string();
            gate.check(Some(&sign(&ts, BODY)), Some(&ts), BODY, at(NOW + offset))
                .unwrap();
        }
        let later = NOW + MAX_AGE.num_seconds() + 5;
        let ts = later.to_string();
        gate.check(Some(&sign(&ts, BODY)), Some(&ts), BODY, at(later))
            .unwrap();

        let seen = gate.seen.lock().unwrap();
        // The first five fell out of the window; the five newer ones and the last remain.
        assert_eq!(seen.order.len(), 6);
        assert_eq!(seen.signatures.len(), 6);
    }

    #[test]
    fn a_key_that_is_no_curve_point_is_refused() {
        // y = 2 does not decompress to a point on edwards25519.
        let mut bytes = [0_u8; 32];
        bytes[0] = 2;
        assert!(Gate::new(bytes).is_err());
    }
}
