use super::*;

const FIVE: Duration = Duration::from_secs(5);

#[tokio::test(start_paused = true)]
async fn an_unknown_route_lets_one_request_find_out_its_bucket() {
    let buckets = Arc::new(Buckets::default());
    let first = buckets.take("POST", "messages:1", FIVE).await.unwrap();
    let waiting = tokio::spawn({
        let buckets = Arc::clone(&buckets);
        async move { buckets.take("POST", "messages:1", FIVE).await.map(drop) }
    });
    tokio::task::yield_now().await;
    assert!(
        !waiting.is_finished(),
        "the second waits for the first answer"
    );
    // Another route is not held up.
    let other = buckets.take("POST", "messages:2", Duration::ZERO).await;
    assert!(other.is_ok());
    first.answered(Some(4.0), Some(5.0), Some(FIVE));
    assert_eq!(waiting.await.unwrap(), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn requests_under_way_count_against_the_places_left() {
    let buckets = Arc::new(Buckets::default());
    buckets
        .take("POST", "m", FIVE)
        .await
        .unwrap()
        .answered(Some(4.0), Some(5.0), Some(FIVE));
    // Four places left: four go at once and stay open.
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(buckets.take("POST", "m", Duration::ZERO).await.unwrap());
    }
    assert_eq!(
        buckets
            .take("POST", "m", Duration::from_secs(1))
            .await
            .err(),
        Some(Duration::from_secs(1)),
        "a fifth must wait for an answer"
    );
    let start = Instant::now();
    for (left, place) in (0..4).rev().zip(open) {
        place.answered(Some(f64::from(left)), Some(5.0), Some(FIVE));
    }
    // None left: the next waits for the refill, then the bucket is full again.
    assert_eq!(
        buckets
            .take("POST", "m", Duration::from_secs(1))
            .await
            .err(),
        Some(FIVE)
    );
    let refilled = buckets
        .take("POST", "m", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(Instant::now() - start, FIVE);
    let also = buckets.take("POST", "m", Duration::ZERO).await;
    assert!(also.is_ok(), "a refill gives the limit back, not one place");
    drop(refilled);
}

#[tokio::test(start_paused = true)]
async fn a_place_given_back_without_an_answer_frees_it() {
    let buckets = Arc::new(Buckets::default());
    let first = buckets.take("POST", "m", FIVE).await.unwrap();
    drop(first);
    assert!(free_now(&buckets, "POST", "m").await);
}

#[tokio::test(start_paused = true)]
async fn a_route_429_holds_the_route_until_its_retry_after() {
    let buckets = Arc::new(Buckets::default());
    let start = Instant::now();
    buckets
        .take("POST", "m", FIVE)
        .await
        .unwrap()
        .limited(Duration::from_secs(2));
    assert_eq!(
        buckets
            .take("POST", "m", Duration::from_secs(1))
            .await
            .err(),
        Some(Duration::from_secs(2))
    );
    let after = buckets.take("POST", "m", FIVE).await;
    assert!(after.is_ok());
    assert_eq!(Instant::now() - start, Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_wait_for_an_answer_ends_when_the_bucket_refills() {
    let buckets = Arc::new(Buckets::default());
    buckets.take("POST", "m", FIVE).await.unwrap().answered(
        Some(1.0),
        Some(5.0),
        Some(Duration::from_secs(1)),
    );
    // Its last place is taken by a request that hangs.
    let _hanging = buckets.take("POST", "m", Duration::ZERO).await.unwrap();
    let start = Instant::now();
    let next = buckets.take("POST", "m", Duration::from_secs(10)).await;
    assert!(next.is_ok());
    assert_eq!(Instant::now() - start, Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn settled_routes_are_forgotten_once_there_are_many() {
    let buckets = Arc::new(Buckets::default());
    for channel in 0..=PRUNE_ABOVE {
        buckets
            .take("POST", &format!("messages:{channel}"), FIVE)
            .await
            .unwrap()
            .answered(Some(4.0), Some(5.0), Some(FIVE));
    }
    tokio::time::advance(FIVE).await;
    let held = buckets
        .take("POST", "messages:0", Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(
        lock(&buckets.routes).buckets.len(),
        1,
        "only the route in use is kept"
    );
    drop(held);
}

#[tokio::test(start_paused = true)]
async fn a_route_without_bucket_headers_is_not_held() {
    let buckets = Arc::new(Buckets::default());
    buckets
        .take("POST", "me", FIVE)
        .await
        .unwrap()
        .answered(None, None, None);
    let first = buckets.take("POST", "me", Duration::ZERO).await.unwrap();
    first.answered(None, None, None);
    assert!(lock(&buckets.routes).buckets.is_empty());
}

/// A request of `method` on `route` answered from the bucket `name` (of 5, refilling in
/// 5 s) with `left` places left.
/// Whether a request on `route` could leave at once (the place taken is given back).
async fn free_now(buckets: &Arc<Buckets>, method: &str, route: &str) -> bool {
    buckets.take(method, route, Duration::ZERO).await.is_ok()
}

async fn answer(buckets: &Arc<Buckets>, method: &str, route: &str, name: Option<&str>, left: f64) {
    buckets
        .take(method, route, FIVE)
        .await
        .unwrap()
        .in_bucket(name)
        .answered(Some(left), Some(5.0), Some(FIVE));
}

#[tokio::test(start_paused = true)]
async fn routes_discord_names_as_one_bucket_share_its_places_for_the_same_major_parameter() {
    let buckets = Arc::new(Buckets::default());
    answer(&buckets, "POST", "threads:1", Some("h1"), 1.0).await;
    // Another kind of route, answered from the same bucket: its last place is gone.
    answer(&buckets, "POST", "messages:1", Some("h1"), 0.0).await;
    assert_eq!(
        buckets.take("POST", "threads:1", FIVE).await.err(),
        Some(FIVE),
        "the other route's answer emptied the shared bucket"
    );
    assert!(
        free_now(&buckets, "POST", "threads:2").await,
        "another channel's bucket is its own"
    );
}

#[tokio::test(start_paused = true)]
async fn a_routes_methods_share_its_bucket_until_discord_names_them_apart() {
    let buckets = Arc::new(Buckets::default());
    answer(&buckets, "POST", "messages:1", None, 0.0).await;
    assert!(
        !free_now(&buckets, "PATCH", "messages:1").await,
        "unnamed, a route's methods share its bucket"
    );
    tokio::time::advance(FIVE).await;
    answer(&buckets, "POST", "messages:1", Some("create"), 0.0).await;
    assert!(
        !free_now(&buckets, "PATCH", "messages:1").await,
        "a method not answered yet stays in the bucket it shared"
    );
    tokio::time::advance(FIVE).await;
    answer(&buckets, "PATCH", "messages:1", Some("edit"), 4.0).await;
    answer(&buckets, "POST", "messages:1", Some("create"), 0.0).await;
    assert!(
        free_now(&buckets, "PATCH", "messages:1").await,
        "named apart, an edit is not held by the posts' bucket"
    );
    assert!(!free_now(&buckets, "POST", "messages:1").await);
}

#[tokio::test(start_paused = true)]
async fn a_place_taken_before_its_kind_was_named_is_given_back_where_it_was_taken() {
    let buckets = Arc::new(Buckets::default());
    // Channel 2's probe is under way when channel 1's answer names the kind.
    let probe = buckets.take("POST", "messages:2", FIVE).await.unwrap();
    answer(&buckets, "POST", "messages:1", Some("create"), 4.0).await;
    let named = buckets
        .take("POST", "messages:2", Duration::ZERO)
        .await
        .unwrap();
    drop(probe);
    named
        .in_bucket(Some("create"))
        .answered(Some(3.0), Some(5.0), Some(FIVE));
    let routes = lock(&buckets.routes);
    assert_eq!(routes.buckets.get("messages:2").map_or(0, |b| b.open), 0);
    assert_eq!(
        routes
            .buckets
            .get("#create:2")
            .map(|b| (b.open, b.remaining)),
        Some((0, Some(3)))
    );
}

#[test]
fn a_bucket_name_that_is_no_hash_is_ignored() {
    let place = |name: &str| {
        Place {
            buckets: Arc::default(),
            method: "POST".to_owned(),
            route: "messages:1".to_owned(),
            key: "messages:1".to_owned(),
            name: None,
            open: false,
        }
        .in_bucket(Some(name))
        .name
        .clone()
    };
    assert_eq!(place("abcd1234").as_deref(), Some("abcd1234"));
    assert_eq!(place(""), None);
    assert_eq!(place("a b"), None);
    assert_eq!(place(&"x".repeat(NAME_MAX + 1)), None);
}

#[tokio::test(start_paused = true)]
async fn an_answer_without_headers_leaves_an_empty_bucket_waiting_for_its_refill() {
    let buckets = Arc::new(Buckets::default());
    answer(&buckets, "POST", "messages:1", Some("h"), 2.0).await;
    let first = buckets.take("POST", "messages:1", FIVE).await.unwrap();
    let second = buckets.take("POST", "messages:1", FIVE).await.unwrap();
    first
        .in_bucket(Some("h"))
        .answered(Some(0.0), Some(5.0), Some(FIVE));
    // An error from elsewhere (a gateway's 502) says nothing of the bucket.
    second.answered(None, None, None);
    assert_eq!(
        buckets
            .take("POST", "messages:1", Duration::from_secs(1))
            .await
            .err(),
        Some(FIVE),
        "still empty until its refill"
    );
}
