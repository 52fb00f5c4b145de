#include <sqlite3.h>
#if defined(__linux__)
#include <features.h>
#if defined(__GLIBC__)
// mallopt, for SQLiteStore.keepFreedHeapMemory: SQLite's allocations are what it tunes.
#include <malloc.h>
#endif
#endif
