#include <sqlite3.h>

/// sqlite3_config is variadic (Swift cannot call it): a fixed-argument wrapper for the process-wide settings
/// imagedrop makes, each only effective before SQLite initializes (the first open; later SQLITE_MISUSE).
///
/// No initial page block: SQLite's page cache starts every new cache with a bulk block of 20 pages (~88 KB),
/// allocated and written page by page. Every `RETURNING` and every `IN (SELECT … FROM json_each(…))` opens an
/// ephemeral table with a cache of its own, so a claim allocated, faulted in and freed that block each time (7 %
/// of the daemon's CPU on small files, measured with perf). With no initial block, a cache takes pages one at a
/// time, as it needs them.
///
/// No memory statistics: with them (Debian's default), every allocation SQLite makes takes one process-wide mutex
/// to count itself, from every thread; imagedrop reads none of those counts (no soft heap limit, no
/// sqlite3_memory_used).
///
/// Statement journals in memory up to 120 KiB, not SQLite's 64 KiB: a statement inside a longer transaction (the
/// scan's enqueue of a burst, a group commit's write-backs) that may fail halfway keeps a copy of every page it
/// changes, for its own rollback. In a scan's enqueue one insert journaled 16 pages (rebalancing several indexes at
/// once); past 64 KiB the journal moves to a temporary file, which stays the journal for the rest of the
/// transaction, so every later statement wrote its pages there, two writes a page: 21,414 `pwrite` for a
/// 2,000-file scan (10.7 per upload, more than the WAL's own). A journal past 120 KiB (29 pages) still goes to disk.
/// Not more, for two reasons SQLite's source gives: the in-memory journal is made of chunks as large as this
/// threshold (memjournal.c), one allocated per statement that journals anything (4 MiB cost the daemon 17 % more
/// CPU); and moving to disk writes each chunk in one call, which the unix VFS cuts to its low 17 bits (os_unix.c,
/// `nBuf &= 0x1ffff`), so a chunk of 128 KiB or more is written short and the statement fails with SQLITE_FULL
/// (256 KiB did: `prune` in the soak).
///
/// Returns the first refusal, or SQLITE_OK.
static inline int imagedrop_sqlite3_config_process(void) {
    int rc = sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)0, 0, 0);
    if (rc != SQLITE_OK) return rc;
    rc = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 120 * 1024);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
