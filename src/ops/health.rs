//! `/healthz`: healthy when the database answers, the Discord gateway is connected and the
//! delivery loop still turns (the last two only where the process runs them). Each failing part is named, so the operator reading a 503 (or
//! the orchestrator's log of it) knows where to look.

use std::time::Duration;

use super::{Ops, Parts, DATABASE_TIMEOUT};

/// What was observed, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `Err` with why the database did not answer `SELECT 1` in time.
    pub database: Result<(), String>,
    pub gateway_connected: bool,
    /// How long ago the delivery loop last looked at the outbox; `None`: not yet.
    pub delivery_heartbeat_age: Option<Duration>,
    /// Which of the gateway and the delivery loop this process runs (the others are not
    /// judged).
    pub parts: Parts,
}

/// Every reason the process is unhealthy; empty when it is healthy.
pub fn problems(probe: &Probe, stale_after: Duration) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(error) = &probe.database {
        problems.push(format!("database: unreachable ({error})"));
    }
    if probe.parts.gateway && !probe.gateway_connected {
        problems.push("gateway: not connected to Discord".to_owned());
    }
    match probe.delivery_heartbeat_age {
        _ if !probe.parts.delivery => {}
        None => problems.push("delivery: the loop has not started".to_owned()),
        Some(age) if age > stale_after => problems.push(format!(
            "delivery: the loop last ran {}s ago (stale after {}s)",
            age.as_secs(),
            stale_after.as_secs()
        )),
        Some(_) => {}
    }
    problems
}

/// Observes the process now.
pub async fn probe(ops: &Ops) -> Probe {
    let select = sqlx::query("SELECT 1").execute(&ops.pool);
    let database = match tokio::time::timeout(DATABASE_TIMEOUT, select).await {
        Ok(Ok(_)) => Ok(()),
        // sqlx's Display names the failure (refused, closed pool), never the URL.
        Ok(Err(error)) => Err(error.to_string()),
        Err(_elapsed) => Err(format!("no answer within {DATABASE_TIMEOUT:?}")),
    };
    Probe {
        database,
        gateway_connected: ops.telemetry.gateway_connected(),
        delivery_heartbeat_age: ops.outcomes.heartbeat_age(),
        parts: ops.parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STALE: Duration = Duration::from_secs(120);

    fn healthy() -> Probe {
        Probe {
            database: Ok(()),
            gateway_connected: true,
            delivery_heartbeat_age: Some(Duration::from_secs(3)),
            parts: Parts::ALL,
        }
    }

    #[test]
    fn a_process_with_every_part_working_is_healthy() {
        assert!(problems(&healthy(), STALE).is_empty());
    }

    #[test]
    fn each_failing_part_is_named() {
        let probe = Probe {
            database: Err("connection refused".into()),
            gateway_connected: false,
            delivery_heartbeat_age: Some(Duration::from_secs(121)),
            parts: Parts::ALL,
        };

        assert_eq!(
            problems(&probe, STALE),
            [
                "database: unreachable (connection refused)",
                "gateway: not connected to Discord",
                "delivery: the loop last ran 121s ago (stale after 120s)",
            ]
        );
    }

    #[test]
    fn a_delivery_loop_that_never_ran_is_unhealthy() {
        let probe = Probe {
            delivery_heartbeat_age: None,
            ..healthy()
        };
        assert_eq!(
            problems(&probe, STALE),
            ["delivery: the loop has not started"]
        );
    }

    #[test]
    fn an_interactions_replica_is_judged_by_its_database_only() {
        let probe = Probe {
            database: Ok(()),
            gateway_connected: false,
            delivery_heartbeat_age: None,
            parts: Parts::INTERACTIONS,
        };
        assert!(problems(&probe, STALE).is_empty());

        let probe = Probe {
            database: Err("connection refused".into()),
            ..probe
        };
        assert_eq!(
            problems(&probe, STALE),
            ["database: unreachable (connection refused)"]
        );
    }
}
