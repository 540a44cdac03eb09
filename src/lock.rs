//! Locking the small in-process maps and counters that never hold a half-done change (each
//! update is one insert, remove or assignment): a panic elsewhere while one was held leaves
//! it consistent, so a poisoned lock is taken as it is rather than spreading the panic.

use std::sync::{Mutex, MutexGuard};

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
