#ifndef INTAKE_CQRENCODE_SHIM_H
#define INTAKE_CQRENCODE_SHIM_H

#include <qrencode.h>

/// QRcode.data is an array of width × width bytes whose lowest bit says "dark module" (the other
/// bits describe what the module is part of, qrencode.h §"QRcode class"); the test of that bit
/// lives here so Swift never reads a bit layout it would have to keep in step with the header.
static inline int cqrencode_is_dark(const QRcode *_Nonnull code, int x, int y) {
    return code->data[y * code->width + x] & 1;
}

#endif
