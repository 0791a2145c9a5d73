//! The allocator of Truce's programs (the `truce` binary and the benches that measure what it
//! runs): mimalloc for blocks under 1 MiB, and mappings of their own for larger ones, set up
//! for batch work. Linking this crate installs it; call [`keep_freed_memory`] first thing in
//! `main`.
//!
//! Why mimalloc: the parse workers of `ingest` make some 15 small allocations a row, and with
//! mimalloc the whole ingest of 10⁶ FIRMS rows took ~0.8 s less CPU than with glibc's
//! allocator. Without transparent huge pages (`no_thp`): zeroing them cost more system time
//! than they saved (`docs/benchmarks.md`). Why large blocks apart: see `pages.rs` (on Linux;
//! elsewhere mimalloc has them too).

use std::alloc::{GlobalAlloc, Layout};

// The one module of the workspace made of system calls on raw memory.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod pages;

/// mimalloc, with large blocks mapped apart on Linux.
struct Allocator;

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

// SAFETY: every block comes from, and goes back to, the allocator its layout names: large
// ones (`pages::is_large`) to `pages`, the others to mimalloc; a block whose reallocation
// crosses the line is copied from one to the other.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if pages::is_large(layout.size(), layout.align()) {
            // SAFETY: a large size, at most `isize::MAX` (a `Layout`'s).
            return unsafe { pages::alloc(layout.size(), false) };
        }
        // SAFETY: the caller's layout, non-zero in size.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if pages::is_large(layout.size(), layout.align()) {
            // SAFETY: as in `alloc`.
            return unsafe { pages::alloc(layout.size(), true) };
        }
        // SAFETY: as in `alloc`.
        unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        #[cfg(target_os = "linux")]
        if pages::is_large(layout.size(), layout.align()) {
            // SAFETY: a large block comes from `pages`, with this size.
            return unsafe { pages::free(block, layout.size()) };
        }
        // SAFETY: a small block comes from mimalloc, with this layout.
        unsafe { mimalloc::MiMalloc.dealloc(block, layout) }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        #[cfg(target_os = "linux")]
        {
            let align = layout.align();
            match (
                pages::is_large(layout.size(), align),
                pages::is_large(new_size, align),
            ) {
                // SAFETY: a large block of `pages`, of this size; the new size is large and,
                // the caller says, at most `isize::MAX` once rounded to the alignment.
                (true, true) => return unsafe { pages::realloc(block, layout.size(), new_size) },
                (false, false) => {}
                _ => {
                    // SAFETY: the caller's layout and size make a valid layout.
                    let new = unsafe { Layout::from_size_align_unchecked(new_size, align) };
                    // SAFETY: `new` has a non-zero size.
                    let moved = unsafe { self.alloc(new) };
                    if !moved.is_null() {
                        // SAFETY: both blocks hold at least the smaller size; they are
                        // different blocks; the old one is given up.
                        unsafe {
                            std::ptr::copy_nonoverlapping(
                                block,
                                moved,
                                layout.size().min(new_size),
                            );
                            self.dealloc(block, layout);
                        }
                    }
                    return moved;
                }
            }
        }
        // SAFETY: a small block of mimalloc's, the caller's layout and size.
        unsafe { mimalloc::MiMalloc.realloc(block, layout, new_size) }
    }
}

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
/// too. Kept by mimalloc, when it had every block, the same run made 1.33 M page faults
/// instead of 1.6 M; with the large blocks' pages kept apart and moved into the next large
/// blocks (`pages.rs`, on Linux), 0.91 M instead of 1.15 M, at a peak 0.9 GiB lower
/// (`docs/benchmarks.md`). A long-running
/// server would not want this: it would hold its peak for good.
pub fn keep_freed_memory() {
    #[cfg(target_os = "linux")]
    pages::keep(true);
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
