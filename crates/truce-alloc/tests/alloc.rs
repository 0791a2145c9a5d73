//! The option set is mimalloc's purge delay, and setting it takes.

#[test]
fn keep_freed_memory_sets_the_purge_delay_to_never() {
    // mimalloc v3's default purge delay (1000 ms) identifies the option: a table of options
    // in another order would give another value here. (An environment variable
    // MIMALLOC_PURGE_DELAY would change the default; the test runner sets none.)
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        assert_eq!(truce_alloc::purge_delay_ms(), 1000);
    }
    truce_alloc::keep_freed_memory();
    assert_eq!(truce_alloc::purge_delay_ms(), -1);
}
