/// Rust's allocations go to mimalloc: glibc's malloc and free were about a
/// tenth of the writer's time under intake, and of a queue page's. With it,
/// intake took 4-11 % more reports per second and eight editors' queue
/// pages 10-20 % more (README, "The allocator"). C code (SQLite, libpq)
/// still uses glibc's malloc, which `cap_malloc_arenas` bounds.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Run by the loader before `main` and before the Rust runtime's first
/// allocation: mimalloc reserves its first arena then, committed or not
/// as the option says at that moment (set in `main`, it came too late).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static RETURN_MEMORY_PROMPTLY: extern "C" fn() = {
    extern "C" fn init() {
        return_memory_promptly();
    }
    init
};

/// mimalloc's defaults keep memory: freed pages go back to the system
/// after a delay, and each new arena is committed whole at once. Under
/// eight editors' heavy reads on the seeded SQLite copy the server then
/// peaked at 166-216 MB against 100 MB with glibc's malloc, over the 150
/// MB the service promises; purging at once and committing on demand
/// brought it to 107-125 MB, as fast. `MIMALLOC_*` variables, when set,
/// still have the last word.
#[cfg(target_os = "linux")]
fn return_memory_promptly() {
    // mimalloc 3's option numbers (`mi_option_e` in its mimalloc.h); the
    // sys crate names only those shared with mimalloc 2. Cargo.toml pins
    // the crate that bundles that header.
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    for (option, name) in [
        (ARENA_EAGER_COMMIT, "MIMALLOC_ARENA_EAGER_COMMIT"),
        (PURGE_DELAY, "MIMALLOC_PURGE_DELAY"),
    ] {
        if std::env::var_os(name).is_none() {
            // SAFETY: sets one of mimalloc's options, by its number in the
            // linked mimalloc's header; no memory is touched.
            unsafe { libmimalloc_sys::mi_option_set(option, 0) };
        }
    }
}
