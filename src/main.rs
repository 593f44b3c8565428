fn main() -> std::process::ExitCode {
    cap_malloc_arenas();
    erratum::cli::run()
}

/// glibc's malloc gives a thread that meets contention an arena of its
/// own, up to eight per core, and gives little of an arena back once its
/// peak has passed. The server runs dozens of threads (actix's workers,
/// the blocking pool of the database calls, the writer): under editors'
/// heavy reads its peak RSS was 191 MB on the seeded SQLite copy, and
/// 112-123 MB with one arena per core (README, Operations and At scale).
/// `MALLOC_ARENA_MAX`, when set, still has the last word.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn cap_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let arenas = libc::c_int::try_from(cores.max(2)).unwrap_or(libc::c_int::MAX);
    // SAFETY: mallopt only changes an allocator setting; it runs first in
    // main, before any other thread of this process exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn cap_malloc_arenas() {}
