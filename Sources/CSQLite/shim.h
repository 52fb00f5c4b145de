#include <sqlite3.h>
#if defined(__linux__)
#include <features.h>
#if defined(__GLIBC__)
// mallopt, for SQLiteStore.keepFreedHeapMemory: SQLite's allocations are what it tunes.
#include <malloc.h>
#endif
#endif

// sqlite3_config is variadic, which Swift cannot call: SQLiteDatabase turns SQLite's memory
// statistics off through this before the process opens its first database.
static inline int csqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
