//! Command latency benchmark (being written). See BENCHMARKS.md.
fn main() {}
