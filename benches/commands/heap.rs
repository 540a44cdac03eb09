//! A counting allocator: how many heap bytes a value holds, exactly, for the memory
//! breakdown (RSS alone cannot say which part of a snapshot takes the room). The count costs
//! a few relaxed atomic operations per allocation, in the in-process timings too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes currently allocated.
pub struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let now = ALLOCATED.fetch_add(new_size, Ordering::Relaxed) + new_size;
        PEAK.fetch_max(now, Ordering::Relaxed);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Bytes allocated right now, by every thread.
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

/// Starts a new peak: from now on [`peak`] is the highest [`allocated`] since this call.
pub fn reset_peak() {
    PEAK.store(allocated(), Ordering::Relaxed);
}

/// The highest number of bytes allocated at once since [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// The value `make` returns and the heap bytes it still holds once made (measured while no
/// other thread allocates much: the benchmark is quiet at that point).
pub fn held<T>(make: impl FnOnce() -> T) -> (T, usize) {
    let before = allocated();
    let value = make();
    (value, allocated().saturating_sub(before))
}
