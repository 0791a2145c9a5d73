//! Large allocations (1 MiB and more) as mappings of their own, whose pages are kept when
//! they are freed and moved, not copied and not faulted in again, into the next large
//! allocations (Linux's `mremap`).
//!
//! Why: a page touched for the first time costs a page fault. On the virtual machines Truce
//! runs on that fault cost 8–16 µs (the host backs the page too): writing 1.2 GB of fresh
//! memory took 2.2–3.0 s there, and moving 1.2 GB of pages already in hand into a new mapping
//! and writing it 0.07 s (`docs/benchmarks.md`). Fusing 10⁷ observations frees gigabytes of
//! indexes and then writes gigabytes of incidents: with this, the incidents land on the
//! indexes' pages. mimalloc keeps what it frees too, but only for its own, smaller blocks,
//! and a large array cannot be pieced together from those.
//!
//! How: a freed large block is kept, while [`keep`] is on, as a free region of the pool (a
//! fixed table: the allocator allocates nothing itself). A new large block is a region of
//! the pool that is long enough, cut to size; or, when none is, a new mapping into which
//! regions of the pool are moved, largest first, until it is full or the pool is empty (the
//! rest of it is fresh pages). A block that grows is moved into a new mapping the same way,
//! followed by regions of the pool. Memory from the pool is zeroed when zeroed memory is
//! asked for (writing a page already there is cheap; a fault is not).
//!
//! `mremap` moves a range within one mapping of the kernel's (a VMA); a block pieced
//! together from several regions spans several. A move that the kernel refuses is split in
//! two halves, and so on down to a page; a page that still cannot be moved (the kernel out of
//! room for mappings) is copied, for data, or given back, for free memory.

use std::ptr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Blocks of this size or more are large: mapped here, not by mimalloc.
const LARGE: usize = 1 << 20;

/// The alignment every mapping has (the smallest page size of the targets Linux runs on).
const MAPPING_ALIGN: usize = 4096;

/// Whether freed large blocks are kept in the pool (else they are unmapped).
static KEEP: AtomicBool = AtomicBool::new(false);

/// The free regions kept.
static POOL: Mutex<Pool> = Mutex::new(Pool::new());

/// Regions the pool can hold; a region freed into a full pool is unmapped.
const CAPACITY: usize = 4096;

#[derive(Clone, Copy)]
struct Region {
    at: usize,
    len: usize,
}

struct Pool {
    regions: [Region; CAPACITY],
    count: usize,
}

/// Keeps freed large blocks for the large blocks allocated after (`on`), or gives them back
/// to the operating system as they are freed.
pub(crate) fn keep(on: bool) {
    KEEP.store(on, Ordering::Relaxed);
}

pub(crate) fn is_large(size: usize, align: usize) -> bool {
    size >= LARGE && align <= MAPPING_ALIGN
}

/// A new large block of at least `size` bytes (null when the system has no memory).
///
/// # Safety
/// `size` is at least [`LARGE`] and at most `isize::MAX`.
pub(crate) unsafe fn alloc(size: usize, zeroed: bool) -> *mut u8 {
    let len = round_up(size);
    if KEEP.load(Ordering::Relaxed) {
        let mut pool = lock();
        if let Some(at) = pool.take(len) {
            drop(pool);
            if zeroed {
                // SAFETY: `take` gave `len` bytes of mapped, writable memory nobody holds.
                unsafe { ptr::write_bytes(at as *mut u8, 0, len) };
            }
            return at as *mut u8;
        }
        if pool.count > 0 {
            let at = map(len);
            if !at.is_null() {
                // SAFETY: `at` is a new mapping of `len` bytes.
                unsafe { pool.fill(at as usize, len, zeroed) };
            }
            return at;
        }
    }
    map(len)
}

/// Frees a large block.
///
/// # Safety
/// `block` came from [`alloc`] or [`realloc`] with this `size`, and is not used after.
pub(crate) unsafe fn free(block: *mut u8, size: usize) {
    // SAFETY: the caller's.
    unsafe { release(block as usize, round_up(size)) }
}

/// The large block `block` of `old_size` bytes made `new_size` bytes long, its first
/// `min(old_size, new_size)` bytes kept (null when the system has no memory: `block` is then
/// untouched).
///
/// # Safety
/// `block` came from [`alloc`] or [`realloc`] with `old_size`; both sizes are at least
/// [`LARGE`] and at most `isize::MAX`.
pub(crate) unsafe fn realloc(block: *mut u8, old_size: usize, new_size: usize) -> *mut u8 {
    let (old, new) = (round_up(old_size), round_up(new_size));
    let at = block as usize;
    if new <= old {
        if new < old {
            // SAFETY: the tail is the caller's, and given up.
            unsafe { release(at + new, old - new) };
        }
        return block;
    }
    let keep = KEEP.load(Ordering::Relaxed);
    if !keep {
        // SAFETY: `block` is a mapping's range of `old` bytes (or several mappings': then the
        // call fails and changes nothing).
        let moved = unsafe { libc::mremap(block.cast(), old, new, libc::MREMAP_MAYMOVE) };
        if moved != libc::MAP_FAILED {
            return moved.cast();
        }
    }
    let to = map(new);
    if to.is_null() {
        return to;
    }
    // SAFETY: `to` is a new mapping of `new` bytes; `block`'s `old` bytes are the caller's,
    // given up to be moved.
    unsafe { move_pages(at, old, to as usize, Moving::Data) };
    if keep {
        // SAFETY: the tail of the new mapping, fresh pages nobody holds.
        unsafe { lock().fill(to as usize + old, new - old, false) };
    }
    to
}

/// Returns `len` bytes at `at` (page-aligned, mapped, held by nobody) to the pool or to the
/// system.
///
/// # Safety
/// As said.
unsafe fn release(at: usize, len: usize) {
    if KEEP.load(Ordering::Relaxed) {
        let mut pool = lock();
        if pool.count < CAPACITY {
            let count = pool.count;
            pool.regions[count] = Region { at, len };
            pool.count += 1;
            return;
        }
    }
    // SAFETY: the range is nobody's.
    unsafe { libc::munmap(at as *mut libc::c_void, len) };
}

impl Pool {
    const fn new() -> Pool {
        Pool {
            regions: [Region { at: 0, len: 0 }; CAPACITY],
            count: 0,
        }
    }

    /// The start of `len` bytes cut from the shortest region that has them.
    fn take(&mut self, len: usize) -> Option<usize> {
        let k = (0..self.count)
            .filter(|&k| self.regions[k].len >= len)
            .min_by_key(|&k| self.regions[k].len)?;
        Some(self.cut(k, len).at)
    }

    /// The position of the pool's largest region.
    fn largest(&self) -> Option<usize> {
        (0..self.count).max_by_key(|&k| self.regions[k].len)
    }

    /// The first `len` bytes of region `k` (at most its length), taken out of the pool.
    fn cut(&mut self, k: usize, len: usize) -> Region {
        let region = self.regions[k];
        if len < region.len {
            self.regions[k] = Region {
                at: region.at + len,
                len: region.len - len,
            };
            Region { at: region.at, len }
        } else {
            self.count -= 1;
            self.regions[k] = self.regions[self.count];
            region
        }
    }

    /// Moves regions of the pool, largest first, into the `len` bytes at `to` (fresh pages of
    /// a mapping nobody else holds), until they are full or the pool is empty.
    ///
    /// # Safety
    /// As said.
    unsafe fn fill(&mut self, to: usize, len: usize, zeroed: bool) {
        let mut done = 0;
        while done < len {
            let Some(k) = self.largest() else { break };
            let region = self.cut(k, len - done);
            // SAFETY: the region was free memory of the pool, now taken out of it; the
            // destination is the caller's.
            unsafe { move_pages(region.at, region.len, to + done, Moving::Free { zeroed }) };
            done += region.len;
        }
    }
}

#[derive(Clone, Copy)]
enum Moving {
    /// A block's content: what cannot be moved is copied.
    Data,
    /// Free memory: what cannot be moved is given back; what is moved is zeroed if asked.
    Free { zeroed: bool },
}

/// Moves the `len` bytes of pages at `from` onto the `len` bytes at `to`; `from` is unmapped
/// after.
///
/// # Safety
/// Both ranges page-aligned, mapped, not overlapping and held by nobody else; `to` is fresh
/// pages or pages whose content is no longer wanted.
unsafe fn move_pages(from: usize, len: usize, to: usize, moving: Moving) {
    // SAFETY: the caller's; a failed call changes nothing.
    let moved = unsafe {
        libc::mremap(
            from as *mut libc::c_void,
            len,
            len,
            libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
            to as *mut libc::c_void,
        )
    };
    if moved != libc::MAP_FAILED {
        if let Moving::Free { zeroed: true } = moving {
            // SAFETY: `to` now holds the moved pages, the caller's.
            unsafe { ptr::write_bytes(to as *mut u8, 0, len) };
        }
        return;
    }
    let page = page_size();
    if len > page {
        // Across two of the kernel's mappings (or out of room for more): in halves.
        let half = (len / 2).div_ceil(page) * page;
        // SAFETY: the halves of ranges that meet the caller's conditions meet them.
        unsafe {
            move_pages(from, half, to, moving);
            move_pages(from + half, len - half, to + half, moving);
        }
        return;
    }
    // SAFETY: both ranges are the caller's and do not overlap.
    unsafe {
        if let Moving::Data = moving {
            ptr::copy_nonoverlapping(from as *const u8, to as *mut u8, len);
        }
        libc::munmap(from as *mut libc::c_void, len);
    }
}

/// A new private, anonymous mapping of `len` bytes (null when the system has no memory).
fn map(len: usize) -> *mut u8 {
    // SAFETY: a new mapping at an address the kernel picks, touching no memory of ours.
    let at = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if at == libc::MAP_FAILED {
        ptr::null_mut()
    } else {
        at.cast()
    }
}

fn lock() -> std::sync::MutexGuard<'static, Pool> {
    // The pool is consistent between any two of its statements that could panic (none do).
    POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The system's page size (asked once).
fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    match PAGE.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: `sysconf` reads a constant of the system.
            let asked = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let page = usize::try_from(asked)
                .ok()
                .filter(|p| p.is_power_of_two() && *p >= MAPPING_ALIGN)
                .unwrap_or(MAPPING_ALIGN);
            PAGE.store(page, Ordering::Relaxed);
            page
        }
        page => page,
    }
}

/// `size` rounded up to whole pages (`size` at most `isize::MAX`: no overflow).
fn round_up(size: usize) -> usize {
    let page = page_size();
    size.div_ceil(page) * page
}
