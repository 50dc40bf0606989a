#ifndef INTAKE_CSQLITE_SHIM_H
#define INTAKE_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
/// It tells SQLite to copy bound text and blobs before sqlite3_bind_* returns.
static inline sqlite3_destructor_type _Nullable csqlite_transient(void) { return SQLITE_TRANSIENT; }

/// sqlite3_config is variadic. With memory statistics on (the default), every allocation SQLite
/// makes takes one process-wide mutex to count it, whatever the connection's threading mode, so
/// the threads of a worker queue on it; nothing here reads the statistics. Must run before SQLite
/// initialises (the first connection); afterwards it returns SQLITE_MISUSE and changes nothing.
static inline int csqlite_disable_memory_statistics(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

#endif
