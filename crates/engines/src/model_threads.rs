//! How many threads one model computation on candle (MiniLM, the voice encoder, SmolLM2) uses.
//!
//! candle splits every operation over all cores by default. That is right for one computation
//! alone, but pipeline workers already run computations side by side: with two workers on two
//! cores each operation's threads wait on each other and on the other worker's, and one thread
//! per computation ran P2 (enrich + analyse + publish with MiniLM) 1.27× faster. A lone
//! computation on one thread is slower (MiniLM 25 %, SmolLM2 2×; BENCHMARKS.md), so the default
//! is the cores shared among the process's pipeline workers, at least one: `serve` with its one
//! in-process worker keeps every core for a live call's model; `switchboard worker
//! --concurrency 2` on two cores gives each worker one. The setting `MODEL_THREADS` overrides it.
//!
//! candle reads the thread count from `RAYON_NUM_THREADS` (its matmuls and thread pool) and
//! `CANDLE_NUM_THREADS` (its element-wise operations) on first use, so the count is set as those
//! variables, once, before the process starts other threads; a value the user set is kept.

use std::sync::OnceLock;

const VARIABLES: [&str; 2] = ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"];
static IN_FORCE: OnceLock<usize> = OnceLock::new();

/// Threads per model computation for `workers` pipeline workers in this process; `setting` (the
/// `MODEL_THREADS` setting) wins when it is not 0.
pub fn for_workers(workers: usize, setting: usize) -> usize {
    if setting > 0 {
        return setting;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / workers.max(1)).max(1)
}

/// Makes candle use `threads` threads per computation, unless the user set one of candle's own
/// variables: then that count is used for both (with only one set, candle's matmuls and its
/// element-wise operations would otherwise disagree). Returns the count in force.
///
/// # Safety
/// Sets environment variables: call it before the process starts any other thread (first thing
/// in `main`), as [`std::env::set_var`] requires.
pub unsafe fn apply(threads: usize) -> usize {
    let set = |v: &str| {
        std::env::var(v)
            .ok()?
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
    };
    let chosen = VARIABLES.iter().find_map(|v| set(v)).unwrap_or(threads);
    for variable in VARIABLES {
        if set(variable).is_none() {
            // SAFETY: the caller guarantees no other thread runs yet.
            unsafe { std::env::set_var(variable, chosen.to_string()) };
        }
    }
    *IN_FORCE.get_or_init(|| chosen)
}

/// The count [`apply`] put in force, if it ran in this process.
pub fn in_force() -> Option<usize> {
    IN_FORCE.get().copied()
}

#[cfg(test)]
mod tests {
    use super::for_workers;

    #[test]
    fn the_cores_are_shared_among_the_workers() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(for_workers(1, 0), cores);
        assert_eq!(for_workers(0, 0), cores, "no workers: a computation alone");
        assert_eq!(for_workers(cores, 0), 1);
        assert_eq!(for_workers(cores * 4, 0), 1, "never fewer than one");
        assert_eq!(for_workers(2, 3), 3, "the setting wins");
    }
}
