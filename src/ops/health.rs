//! `/healthz`: healthy when the database answers, every Discord gateway shard this process
//! runs is connected and the delivery loop still turns (the gateway and the delivery loop
//! only where the process runs them). Each failing part is named, so the operator reading a 503 (or
//! the orchestrator's log of it) knows where to look.

use std::time::Duration;

use super::{Ops, Parts, DATABASE_TIMEOUT};
use crate::discord::Gateway;

/// What was observed, as plain data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// `Err` with why the database did not answer `SELECT 1` in time.
    pub database: Result<(), String>,
    /// The shards this process runs and which of them are connected.
    pub gateway: Gateway,
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
    // A standby is healthy: it is ready to take over, which is its job.
    if probe.parts.gateway && !probe.gateway.standby && !probe.gateway.all_connected() {
        problems.push(format!("gateway: {}", gateway_problem(&probe.gateway)));
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

/// What is wrong with a gateway that is not all connected: `not connected to Discord` for
/// the one shard of an unsharded bot, else how many shards are connected and which are not.
fn gateway_problem(gateway: &Gateway) -> String {
    let down = gateway.disconnected();
    match (gateway.shards.as_slice(), down.as_slice()) {
        ([], _) => "this process runs no shard".to_owned(),
        ([only], _) if only.id == 0 => "not connected to Discord".to_owned(),
        ([only], _) => format!("shard {} is not connected to Discord", only.id),
        (shards, [one]) => format!(
            "{} of {} shards connected (shard {one} is not)",
            gateway.connected(),
            shards.len()
        ),
        (shards, down) => {
            let ids: Vec<String> = down.iter().map(u32::to_string).collect();
            format!(
                "{} of {} shards connected (shards {} are not)",
                gateway.connected(),
                shards.len(),
                ids.join(", ")
            )
        }
    }
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
        gateway: ops.telemetry.gateway().await,
        delivery_heartbeat_age: ops.outcomes.heartbeat_age(),
        parts: ops.parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::ShardState;

    const STALE: Duration = Duration::from_secs(120);

    /// A gateway of these shards: (id, connected).
    fn gateway(shards: &[(u32, bool)]) -> Gateway {
        let shards = shards
            .iter()
            .map(|&(id, connected)| ShardState { id, connected });
        Gateway {
            standby: false,
            shards: shards.collect(),
        }
    }

    fn gateway_problems(shards: &[(u32, bool)]) -> Vec<String> {
        let probe = Probe {
            gateway: gateway(shards),
            ..healthy()
        };
        problems(&probe, STALE)
    }

    fn healthy() -> Probe {
        Probe {
            database: Ok(()),
            gateway: gateway(&[(0, true)]),
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
            gateway: gateway(&[(0, false)]),
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
            gateway: gateway(&[(0, false)]),
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

    #[test]
    fn healthy_only_when_every_shard_run_here_is_connected() {
        assert!(gateway_problems(&[(0, true), (1, true)]).is_empty());
        assert_eq!(
            gateway_problems(&[(0, true), (1, false)]),
            ["gateway: 1 of 2 shards connected (shard 1 is not)"]
        );
        assert_eq!(
            gateway_problems(&[(2, false), (3, true), (4, false)]),
            ["gateway: 1 of 3 shards connected (shards 2, 4 are not)"]
        );
    }

    #[test]
    fn a_process_running_one_shard_other_than_zero_names_it() {
        assert_eq!(
            gateway_problems(&[(3, false)]),
            ["gateway: shard 3 is not connected to Discord"]
        );
        assert!(gateway_problems(&[(3, true)]).is_empty());
    }

    #[test]
    fn a_gateway_without_shards_is_not_healthy() {
        assert_eq!(
            gateway_problems(&[]),
            ["gateway: this process runs no shard"]
        );
    }
}
