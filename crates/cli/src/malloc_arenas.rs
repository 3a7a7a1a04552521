//! Fewer malloc arenas. glibc gives each thread that allocates while others do an arena of its
//! own, up to eight per core, and memory freed in one arena is not reused by another. A worker's
//! threads (tokio's, the blocking pool's, whisper's and the models') each held their own:
//! `MALLOC_ARENA_MAX=2` took a worker's peak from 757–845 MiB to 633–692 MiB at `--concurrency 2`
//! and from 486 to 388–396 MiB one job at a time, at the same speed (BENCHMARKS.md, peak worker
//! memory). The environment variable, when set, still decides.

/// Arenas per process, as `MALLOC_ARENA_MAX` would set them.
const ARENAS: i32 = 2;

/// Limits glibc's malloc arenas to [`ARENAS`] unless `MALLOC_ARENA_MAX` is set; no-op on other
/// C libraries. Call before other threads start.
pub fn limit() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: `mallopt` only sets an allocator parameter; called before other threads start.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}
