#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <sys/xattr.h>
#include "csystem.h"

int intake_start_writeback(int fd, int64_t offset, int64_t length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
}

int intake_set_attribute(int fd, const char *name, const void *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}

long intake_get_attribute(const char *path, const char *name, void *value, size_t size) {
    return (long)getxattr(path, name, value, size);
}

int intake_limit_malloc_arenas(int count) {
    return mallopt(M_ARENA_MAX, count);
}
