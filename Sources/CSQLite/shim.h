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
/// sqlite3_memory_used). Returns the first refusal, or SQLITE_OK.
static inline int imagedrop_sqlite3_config_process(void) {
    int rc = sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)0, 0, 0);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
