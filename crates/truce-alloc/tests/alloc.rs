//! The allocator of this test binary is truce-alloc's (linking the crate installs it). One
//! test, in steps: the allocator's state (kept memory, mimalloc's options) is the process's,
//! and the steps check it before and after `keep_freed_memory`.

#[test]
fn blocks_hold_what_is_written_and_freed_pages_are_used_again() {
    // mimalloc v3's default purge delay (1000 ms) identifies the option: a table of options
    // in another order would give another value here. (An environment variable
    // MIMALLOC_PURGE_DELAY would change the default; the test runner sets none.)
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        assert_eq!(truce_alloc::purge_delay_ms(), 1000);
    }
    // Freed memory given back: large blocks are mapped, grown and unmapped one by one.
    blocks_against_a_model(0x2545_f491_4f6c_dd1d);

    truce_alloc::keep_freed_memory();
    assert_eq!(truce_alloc::purge_delay_ms(), -1);
    #[cfg(target_os = "linux")]
    freed_pages_are_used_again();
    // Freed memory kept: large blocks cut from and pieced together of freed ones.
    blocks_against_a_model(0x9e37_79b9_7f4a_7c15);
}

/// Random blocks (small and large, zeroed or not) allocated, grown, shrunk and freed, each
/// page of each filled with a byte of its own, checked against what was written.
fn blocks_against_a_model(seed: u64) {
    const PAGE: usize = 4096;
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    // (block, the tag its pages were filled with)
    let mut slots: Vec<Option<(Vec<u8>, u8)>> = (0..16).map(|_| None).collect();
    let fill = |block: &mut [u8], tag: u8, from: usize| {
        for (k, page) in block.chunks_mut(PAGE).enumerate().skip(from / PAGE) {
            page.fill(tag ^ k as u8);
        }
    };
    let check = |block: &[u8], tag: u8, what: &str| {
        for (k, page) in block.chunks(PAGE).enumerate() {
            let want = tag ^ k as u8;
            let (first, last) = (page[0], page[page.len() - 1]);
            assert!(
                first == want && last == want,
                "{what}: page {k} of {} bytes holds {first}/{last}, not {want}",
                block.len()
            );
        }
    };
    for step in 0..400 {
        let slot = (next() % 16) as usize;
        // Sizes from 4 KiB to 6 MiB: five in six large (1 MiB and more), the rest mimalloc's.
        let size = PAGE * (1 + (next() % 1536) as usize);
        let tag = step as u8;
        match (slots[slot].take(), next() % 4) {
            (None, 0) => {
                let mut block = vec![0u8; size];
                assert!(block.iter().all(|&b| b == 0), "step {step}: zeroed block");
                fill(&mut block, tag, 0);
                slots[slot] = Some((block, tag));
            }
            (None, _) => {
                // (Not zeroed: a value other than 0.)
                let mut block = vec![1u8; size];
                fill(&mut block, tag, 0);
                slots[slot] = Some((block, tag));
            }
            (Some((mut block, tag)), 0 | 1) => {
                // Grown (in place, moved, or across the line between small and large).
                let old = block.len();
                block.resize(old + size, 0);
                block.shrink_to_fit();
                check(
                    &block[..old],
                    tag,
                    &format!("step {step}: grown block's start"),
                );
                fill(&mut block, tag, old);
                slots[slot] = Some((block, tag));
            }
            (Some((mut block, tag)), 2) => {
                let keep = (block.len() / 3).max(1).div_ceil(PAGE) * PAGE;
                block.truncate(keep.min(block.len()));
                block.shrink_to_fit();
                check(&block, tag, &format!("step {step}: shrunk block"));
                slots[slot] = Some((block, tag));
            }
            (Some((block, tag)), _) => {
                check(&block, tag, &format!("step {step}: block freed"));
            }
        }
    }
    for (block, tag) in slots.into_iter().flatten() {
        check(&block, tag, "block at the end");
    }
}

/// Pages freed as forty blocks of 1.5 MiB (filled: faulted in) come back as one block of
/// 60 MiB, written without page faults, and zeroed when asked for.
#[cfg(target_os = "linux")]
fn freed_pages_are_used_again() {
    const PIECE: usize = 3 << 19;
    let faults = || {
        let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
        // The 10th field (minflt), counted from the first after the command's ')'.
        let after = &stat[stat.rfind(')').expect("a command name") + 2..];
        let field = after.split(' ').nth(7).expect("minflt");
        field.parse::<u64>().expect("a number")
    };
    let before = faults();
    let pieces: Vec<Vec<u8>> = (0..40).map(|k| vec![k as u8 + 1; PIECE]).collect();
    let fresh = faults() - before;
    drop(pieces);

    let before = faults();
    let whole = vec![7u8; 40 * PIECE];
    let reused = faults() - before;
    assert!(
        reused * 4 < fresh,
        "60 MiB over freed pages: {reused} page faults, against {fresh} for them fresh"
    );
    drop(whole);

    let before = faults();
    let zeroed = vec![0u8; 40 * PIECE];
    let reused = faults() - before;
    assert!(zeroed.iter().all(|&b| b == 0), "zeroed over freed pages");
    assert!(
        reused * 4 < fresh,
        "zeroed 60 MiB over freed pages: {reused} page faults, against {fresh} fresh"
    );
}
