#ifndef INTAKE_CZLIB_SHIM_H
#define INTAKE_CZLIB_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/// crc32_z takes a z_size_t and returns uLong, whose widths differ between platforms; this fixes
/// them so the wrapper has one signature to call (zlib.h: "crc32_z: same as crc32(), but with a
/// size_t length").
static inline uint32_t czlib_crc32(uint32_t crc, const void *_Nullable bytes, size_t count) {
    return (uint32_t)crc32_z((uLong)crc, (const Bytef *)bytes, (z_size_t)count);
}

#endif
