//! The stand-in's network side: the latency every REST request meets before Discord acts on
//! it, and the requests received and not yet answered.

use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
pub struct Network {
    /// Each request waits a random time in this range before it is handled, drawn from
    /// this generator (seeded, so a run can be replayed); none when unset.
    latency: Mutex<Option<(std::ops::Range<Duration>, fastrand::Rng)>>,
    /// REST requests received and not yet answered, and the most there were at once.
    open: Mutex<(usize, usize)>,
}

impl Network {
    pub fn set_latency(&self, range: std::ops::Range<Duration>, seed: u64) {
        *self.latency.lock().unwrap() = Some((range, fastrand::Rng::with_seed(seed)));
    }

    /// Waits one request's latency.
    pub async fn delay(&self) {
        let latency = self
            .latency
            .lock()
            .unwrap()
            .as_mut()
            .filter(|(range, _)| !range.is_empty())
            .map(|(range, rng)| {
                let span = (range.end - range.start).as_micros() as u64;
                range.start + Duration::from_micros(rng.u64(0..span))
            });
        if let Some(latency) = latency {
            tokio::time::sleep(latency).await;
        }
    }

    /// Counts one request as open until the guard is dropped (answered, or the client went
    /// away).
    pub fn open(&self) -> Open<'_> {
        let mut counts = self.open.lock().unwrap();
        counts.0 += 1;
        counts.1 = counts.1.max(counts.0);
        Open(&self.open)
    }

    /// The most requests open at one moment.
    pub fn most_open(&self) -> usize {
        self.open.lock().unwrap().1
    }
}

pub struct Open<'a>(&'a Mutex<(usize, usize)>);

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap().0 -= 1;
    }
}
