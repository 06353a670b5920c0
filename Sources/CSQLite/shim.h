#include <sqlite3.h>

/// sqlite3_config is variadic (Swift cannot call it): a fixed-argument wrapper for the one setting imagedrop
/// makes. SQLite's page cache starts every new cache with a bulk block of 20 pages (~88 KB), allocated and
/// written page by page. Every `RETURNING` and every `IN (SELECT … FROM json_each(…))` opens an ephemeral
/// table with a cache of its own, so a claim allocated, faulted in and freed that block each time (7 % of the
/// daemon's CPU on small files, measured with perf). With no initial block, a cache takes pages one at a time,
/// as it needs them. Only effective before SQLite initializes (the first open); later it returns SQLITE_MISUSE.
static inline int imagedrop_sqlite3_config_no_initial_page_block(void) {
    return sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)0, 0, 0);
}
