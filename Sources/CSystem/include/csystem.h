#ifndef INTAKE_CSYSTEM_H
#define INTAKE_CSYSTEM_H

#include <stddef.h>
#include <stdint.h>

/// Starts write-back of a file range to disk without waiting for it (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE, which glibc declares only under _GNU_SOURCE). Returns 0 or -1 with errno.
int intake_start_writeback(int fd, int64_t offset, int64_t length);

/// Sets the extended attribute `name` of an open file (fsetxattr(2); <sys/xattr.h> is not in
/// Swift's Glibc module). Returns 0 or -1 with errno (ENOTSUP where the file system has none).
int intake_set_attribute(int fd, const char *_Nonnull name, const void *_Nonnull value, size_t size);

/// Reads the extended attribute `name` of the file at `path` into `value` (getxattr(2)).
/// Returns its size, or -1 with errno (ENODATA when the file has none, ERANGE when it is larger).
long intake_get_attribute(const char *_Nonnull path, const char *_Nonnull name, void *_Nonnull value, size_t size);

/// Caps the number of glibc malloc arenas (mallopt(M_ARENA_MAX); <malloc.h> is not in Swift's Glibc
/// module). Returns 1 on success, 0 on error, as mallopt does.
int intake_limit_malloc_arenas(int count);

#endif
