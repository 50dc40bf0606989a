#ifndef INTAKE_CSQLITE_SHIM_H
#define INTAKE_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
/// It tells SQLite to copy bound text and blobs before sqlite3_bind_* returns.
static inline sqlite3_destructor_type _Nullable csqlite_transient(void) { return SQLITE_TRANSIENT; }

#endif
