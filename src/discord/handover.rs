//! The handover of a rolling deploy, both sides of it. A stopping lease holder asks its
//! standby to connect first ([`hand_over`]) and closes its own shards once the standby's are
//! connected; the standby ([`Taker`]) connects without the lease, says when it is connected,
//! and takes the lease when the holder gives it back. While both are connected Discord sends
//! every interaction to both, and [`super::handler`] claims each before answering.
//!
//! Which process answers an interaction whose claim failed moves with the handover: the
//! holder until the taker's shards are connected, the taker from then on.

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use tokio::time::Instant;

use crate::store::gateway_lease::{Handover, LeaseSession, Standby};

use super::handler::Handler;
use super::{Telemetry, SHUTDOWN_GRACE};

/// A standby that has not tried the lease for this long is gone: a stopping holder closes
/// without a handover.
pub(super) const STANDBY_FRESH: Duration = Duration::from_secs(3);
/// How long a stopping holder waits for a standby to take its handover up (a standby looks
/// every second).
const TAKER_WAIT: Duration = Duration::from_secs(3);
/// How often, during a handover, the holder looks at it and the taker tries the lease.
pub(super) const HANDOVER_EVERY: Duration = Duration::from_millis(100);
/// How long after taking the lease from a handover a process keeps claiming interactions:
/// the old holder may still be answering (and claiming) what it received, for at most
/// `SHUTDOWN_GRACE`, each claim waiting at most `CLAIM_WAIT`.
const OVERLAP_SETTLE: Duration = Duration::from_secs(10);
const _: () = assert!(
    OVERLAP_SETTLE.as_millis()
        > SHUTDOWN_GRACE.as_millis() + super::handler::CLAIM_WAIT.as_millis()
);

/// How long a stopping holder waits for the taker's shards to connect: serenity starts a
/// process's shards 5 seconds apart, and a READY takes a moment.
fn ready_wait(shards: u32) -> Duration {
    Duration::from_secs(5 * u64::from(shards) + 5)
}

/// How long a taker waits for the lease after it connected: the holder's wait for it, then
/// its close (bounded by `SHUTDOWN_GRACE`), and a margin. A holder that keeps it longer did
/// not let go (it may be stuck), and the taker disconnects and stands by again.
fn lease_wait(shards: u32) -> Duration {
    TAKER_WAIT + ready_wait(shards) + SHUTDOWN_GRACE + Duration::from_secs(5)
}

/// One look of a standby at the handover of its shards (which also records that it waits).
pub(super) async fn look(
    lease: &mut LeaseSession,
    shards: u32,
) -> Result<Standby, crate::store::StoreError> {
    // The taker starts its own wait up to a look (a second) after the ask: a margin on top.
    let taking = lease_wait(shards) + Duration::from_secs(2);
    lease.wait_as_standby(STANDBY_FRESH, taking).await
}

/// A stopping holder: asks a standby to connect first, and keeps its own shards (answering
/// what they receive) until the standby's are connected, at most [`ready_wait`]. Without a
/// standby it returns at once. `Err` when the gateway itself ended meanwhile.
pub(super) async fn hand_over(
    lease: &mut LeaseSession,
    handler: &Handler,
    gateway: &mut (impl Future<Output = serenity::Result<()>> + Unpin),
    shards: u32,
) -> anyhow::Result<()> {
    // Before the ask: once asked, the standby may connect and receive what this process does.
    handler.set_overlap(true);
    match lease.ask_handover(STANDBY_FRESH).await {
        Ok(true) => {}
        Ok(false) => {
            handler.set_overlap(false);
            return Ok(());
        }
        Err(error) => {
            // The ask may have landed all the same: the overlap stays.
            tracing::warn!("cannot ask the standby to take over, closing without: {error}");
            return Ok(());
        }
    }
    tracing::info!("handing the gateway over: the standby connects before this process closes");
    let asked = Instant::now();
    let taken_up = async {
        loop {
            match lease.handover().await {
                Ok(Handover::Ready) => return Ok(()),
                Ok(Handover::Asked) if asked.elapsed() > TAKER_WAIT => {
                    return Err("no standby took it up");
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!("following the handover: {error}");
                    return Err("the database did not say how it went");
                }
            }
            tokio::time::sleep(HANDOVER_EVERY).await;
        }
    };
    let wait = ready_wait(shards);
    tokio::select! {
        ended = gateway => {
            ended.context("the Discord gateway connection ended during a handover")?;
            anyhow::bail!("the Discord gateway connection ended during a handover");
        }
        ready = tokio::time::timeout(wait, taken_up) => match ready {
            Ok(Ok(())) => {
                // The taker answers what fails to be claimed from now on.
                handler.set_fallback(false);
                tracing::info!("the standby is connected");
            }
            Ok(Err(why)) => tracing::warn!("closing without a handover: {why}"),
            Err(_) => tracing::warn!("the standby did not connect within {wait:?}: closing anyway"),
        },
    }
    Ok(())
}

/// A standby that took a handover up and is connected without the lease: it tells the
/// holder when its shards are connected and takes the lease once the holder gives it back.
pub(super) struct Taker {
    give_up: Instant,
    told_ready: bool,
}

/// What a taker's step found.
pub(super) enum Step {
    /// Still waiting for the lease.
    Waiting,
    /// This process holds the lease now; it keeps claiming until the returned instant.
    Took { overlap_ends: Instant },
    /// The holder did not let go in time: disconnect and stand by again.
    GaveUp,
}

impl Taker {
    pub(super) fn new(shards: u32) -> Self {
        Self {
            give_up: Instant::now() + lease_wait(shards),
            told_ready: false,
        }
    }

    /// One look, every [`HANDOVER_EVERY`].
    pub(super) async fn step(
        &mut self,
        lease: &mut LeaseSession,
        handler: &Handler,
        telemetry: &Telemetry,
    ) -> Step {
        if !self.told_ready && telemetry.gateway_connected().await {
            match lease.handover_ready().await {
                Ok(true) => {
                    self.told_ready = true;
                    // The holder closes its shards once it sees this: the interactions whose
                    // claim fails are this process's to answer.
                    handler.set_fallback(true);
                }
                // The holder gave up on this handover (or asked anew): not ready for it.
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!("telling the holder this process is connected: {error}")
                }
            }
        }
        let taken = match lease.try_take().await {
            Ok(taken) => taken,
            Err(error) => {
                // A failed try is tried again until the wait is over.
                tracing::warn!("trying the gateway lease during a handover: {error}");
                false
            }
        };
        if taken {
            // The old holder has let go (whether or not it saw this process ready): this
            // process is the only one left to answer what fails to be claimed.
            handler.set_fallback(true);
            done(lease).await;
            return Step::Took {
                overlap_ends: Instant::now() + OVERLAP_SETTLE,
            };
        }
        if Instant::now() < self.give_up {
            return Step::Waiting;
        }
        done(lease).await;
        Step::GaveUp
    }
}

/// Ends this process's part in the handover (best effort: a holder following it gives up on
/// a taker whose session is gone).
pub(super) async fn done(lease: &mut LeaseSession) {
    if let Err(error) = lease.handover_done().await {
        tracing::debug!("ending the handover: {error}");
    }
}
