//! What the delivery loop knows of the batches it claimed: how many rows are still in
//! flight, and whether every row of the newest batch has started its request (it then
//! waits in the sender: for its route's bucket, or in the pacer, where
//! [`crate::jobs::Deliver::backlog`] sees it).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Counts the rows of one claimed batch as in flight until it is dropped (when the batch
/// ends, is cancelled or panics).
pub(super) struct InFlight {
    count: Arc<AtomicUsize>,
    rows: usize,
}

impl InFlight {
    pub(super) fn add(count: &Arc<AtomicUsize>, rows: usize) -> Self {
        count.fetch_add(rows, Ordering::AcqRel);
        Self {
            count: Arc::clone(count),
            rows,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.count.fetch_sub(self.rows, Ordering::AcqRel);
    }
}

/// Counts down a batch's rows until each has made its first request (or ended without).
#[derive(Debug)]
pub(super) struct Dispatch {
    left: AtomicUsize,
    all: Notify,
}

impl Dispatch {
    pub(super) fn new(rows: usize) -> Arc<Self> {
        let dispatch = Arc::new(Self {
            left: AtomicUsize::new(rows),
            all: Notify::new(),
        });
        if rows == 0 {
            dispatch.all.notify_one();
        }
        dispatch
    }

    /// One row's share of the count, given back once.
    pub(super) fn row(self: &Arc<Self>) -> Departure {
        Departure(Some(Arc::clone(self)))
    }

    /// Until every row's [`Departure`] has been marked or dropped.
    pub(super) async fn all(&self) {
        if self.left.load(Ordering::Acquire) > 0 {
            self.all.notified().await;
        }
    }

    fn one(&self) {
        if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Stores a permit when nobody waits yet.
            self.all.notify_one();
        }
    }
}

/// One row of a [`Dispatch`]: counted once, when its request is made or when it is dropped.
#[derive(Debug)]
pub(super) struct Departure(Option<Arc<Dispatch>>);

impl Departure {
    /// The row's first request is about to be made.
    pub(super) fn now(&mut self) {
        if let Some(dispatch) = self.0.take() {
            dispatch.one();
        }
    }
}

impl Drop for Departure {
    fn drop(&mut self) {
        self.now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_batch_is_dispatched_once_every_row_has_left_or_ended() {
        let dispatch = Dispatch::new(3);
        let mut first = dispatch.row();
        let second = dispatch.row();
        let mut third = dispatch.row();
        first.now();
        first.now();
        drop(second);
        let waiting = tokio::spawn({
            let dispatch = Arc::clone(&dispatch);
            async move { dispatch.all().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "one row has not left");
        third.now();
        waiting.await.unwrap();
        // Marked twice and dropped after leaving: still counted once each.
        drop(first);
        drop(third);
        assert_eq!(dispatch.left.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn an_empty_batch_is_dispatched_at_once() {
        Dispatch::new(0).all().await;
    }

    #[test]
    fn rows_are_in_flight_until_their_batch_is_dropped() {
        let count = Arc::new(AtomicUsize::new(0));
        let first = InFlight::add(&count, 5);
        let second = InFlight::add(&count, 3);
        assert_eq!(count.load(Ordering::Acquire), 8);
        drop(first);
        assert_eq!(count.load(Ordering::Acquire), 3);
        drop(second);
        assert_eq!(count.load(Ordering::Acquire), 0);
    }
}
