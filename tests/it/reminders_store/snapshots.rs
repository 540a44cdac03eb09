//! The process's programme snapshot registry: one live snapshot per (conference, version),
//! shared by whoever asks (the planner and the command cache in `confbot run`).

use std::sync::Arc;

use confbot::domain::model::ConferenceSlug;
use confbot::jobs::{PlanSettings, Planner};
use confbot::store::conferences;
use confbot::store::programme::{self, Snapshots};

use super::{import_seed, lead};
use crate::fixtures::{seed_an_hour_later, SEED_ICS};
use crate::harness::TestDb;

fn slug() -> ConferenceSlug {
    ConferenceSlug::parse("nbpy-2026").expect("slug")
}

fn plan_settings() -> PlanSettings {
    PlanSettings {
        default_lead: lead(10),
        channel_lead: lead(5),
        channels: Vec::new(),
    }
}

#[tokio::test]
async fn one_live_snapshot_per_version_reloaded_once_nobody_holds_it() {
    let db = TestDb::new().await;
    let (conference, _) = import_seed(&db.pool, SEED_ICS).await;
    let snapshots = Arc::new(Snapshots::default());
    let (id, v1) = programme::current(&db.pool, &slug())
        .await
        .expect("query")
        .expect("conference exists");
    assert_eq!(id, conference);

    let first = snapshots
        .get_or_load(&db.pool, &slug(), id, v1)
        .await
        .expect("load")
        .expect("conference exists");
    assert_eq!((first.conference_id, first.version), (id, v1));
    let again = snapshots
        .get_or_load(&db.pool, &slug(), id, v1)
        .await
        .expect("load")
        .expect("conference exists");
    assert!(Arc::ptr_eq(&first.programme, &again.programme));

    // A planner sharing the registry plans against that same snapshot.
    let mut planner = Planner::sharing(db.pool.clone(), plan_settings(), Arc::clone(&snapshots));
    let rows = conferences::all(&mut db.pool.acquire().await.expect("conn"))
        .await
        .expect("conferences");
    let inputs = planner.inputs(&rows[0]).await.expect("inputs");
    assert!(Arc::ptr_eq(&first.programme, &inputs.programme));
    assert_eq!(snapshots.alive(), 1);

    // A new import: a new version, a fresh load.
    import_seed(&db.pool, &seed_an_hour_later()).await;
    let (_, v2) = programme::current(&db.pool, &slug())
        .await
        .expect("query")
        .expect("conference exists");
    assert_ne!(v1, v2);
    let second = snapshots
        .get_or_load(&db.pool, &slug(), id, v2)
        .await
        .expect("load")
        .expect("conference exists");
    assert_eq!(second.version, v2);
    assert!(!Arc::ptr_eq(&first.programme, &second.programme));
    assert_ne!(first.programme.talks, second.programme.talks);
    assert_eq!(snapshots.alive(), 2);

    // The old version stays exactly that while someone holds it.
    let old = snapshots
        .get_or_load(&db.pool, &slug(), id, v1)
        .await
        .expect("load")
        .expect("conference exists");
    assert_eq!(old.version, v1);
    assert!(Arc::ptr_eq(&first.programme, &old.programme));

    // Once nobody holds it, asking for it reads what is stored now, labelled as what it is.
    drop((first, again, inputs, old, planner));
    assert_eq!(snapshots.alive(), 1);
    let reread = snapshots
        .get_or_load(&db.pool, &slug(), id, v1)
        .await
        .expect("load")
        .expect("conference exists");
    assert_eq!(reread.version, v2);
    assert!(Arc::ptr_eq(&second.programme, &reread.programme));

    // Nobody holds the current one either: it is loaded again.
    let talks = second.programme.talks.clone();
    drop((second, reread));
    assert_eq!(snapshots.alive(), 0);
    let reloaded = snapshots
        .get_or_load(&db.pool, &slug(), id, v2)
        .await
        .expect("load")
        .expect("conference exists");
    assert_eq!(reloaded.version, v2);
    assert_eq!(Arc::strong_count(&reloaded.programme), 1);
    assert_eq!(reloaded.programme.talks, talks);
    assert_eq!(snapshots.alive(), 1);

    // No conference, no snapshot.
    let other = ConferenceSlug::parse("no-such-conf").expect("slug");
    assert!(snapshots
        .get_or_load(&db.pool, &other, id + 1000, 0)
        .await
        .expect("query")
        .is_none());
}

#[tokio::test]
async fn concurrent_loads_of_one_version_end_with_one_snapshot() {
    let db = TestDb::new().await;
    let (id, _) = import_seed(&db.pool, SEED_ICS).await;
    let (_, version) = programme::current(&db.pool, &slug())
        .await
        .expect("query")
        .expect("conference exists");
    let snapshots = Snapshots::default();
    let slug = slug();
    let (a, b) = tokio::join!(
        snapshots.get_or_load(&db.pool, &slug, id, version),
        snapshots.get_or_load(&db.pool, &slug, id, version),
    );
    let a = a.expect("load").expect("conference exists");
    let b = b.expect("load").expect("conference exists");
    assert!(Arc::ptr_eq(&a.programme, &b.programme));
    assert_eq!(snapshots.alive(), 1);
}
