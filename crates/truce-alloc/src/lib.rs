//! The allocator of Truce's programs (the `truce` binary and the benches that measure what it
//! runs): mimalloc, set up for batch work. Linking this crate installs it; call
//! [`keep_freed_memory`] first thing in `main`.
//!
//! Why mimalloc: the parse workers of `ingest` make some 15 small allocations a row, and with
//! mimalloc the whole ingest of 10⁶ FIRMS rows took ~0.8 s less CPU than with glibc's
//! allocator. Without transparent huge pages (`no_thp`): zeroing them cost more system time
//! than they saved (`docs/benchmarks.md`).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_e`, in v3 and in v2 alike; the
/// `libmimalloc-sys` crate names no constant for it; the tests check it by its default).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory freed by the program stays with the program, to be used again, instead of going
/// back to the operating system a second after it was freed (mimalloc's default).
///
/// For a command that runs and exits, as every `truce` command does: fusing 10⁷ observations
/// frees gigabytes between its phases (the indexes, the snapshot's tables) and allocates
/// gigabytes after; returned, that memory comes back as fresh pages, each a page fault and,
/// on a virtual machine whose host takes back the guest's free memory, a fault on the host
/// too. Kept, the same run makes 1.33 M page faults instead of 1.6 M, at a peak 1% higher
/// (its time moved less than the noise of the machine it was measured on:
/// `docs/benchmarks.md`). A long-running server would not want this: it would hold its peak
/// for good.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's table of options (an atomic
    // store); it reads no pointer, and -1 is a value the option documents ("no purging").
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
    }
}

/// The purge delay in force, milliseconds (-1: never).
pub fn purge_delay_ms() -> i64 {
    // SAFETY: `mi_option_get` reads an integer from mimalloc's table of options.
    #[allow(unsafe_code)]
    let value = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
    // (`c_long`: 64 bits here, 32 on some targets.)
    #[allow(clippy::useless_conversion)]
    i64::from(value)
}
