#ifndef INTAKE_CSYSTEM_H
#define INTAKE_CSYSTEM_H

#include <stdint.h>

/// Starts write-back of a file range to disk without waiting for it (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE, which glibc declares only under _GNU_SOURCE). Returns 0 or -1 with errno.
int intake_start_writeback(int fd, int64_t offset, int64_t length);

#endif
