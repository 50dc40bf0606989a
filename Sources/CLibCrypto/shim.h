#ifndef INTAKE_CLIBCRYPTO_SHIM_H
#define INTAKE_CLIBCRYPTO_SHIM_H

// Only OpenSSL's EVP message digests: SHA-256 (with the CPU's SHA extensions where present, several
// times libsodium's portable SHA-256 on upload-sized data), SHA-1 and MD5 for the checksums that
// tus clients and Google Drive use.
#include <openssl/evp.h>

/// EVP_MAX_MD_SIZE is a macro; the wrapper sizes its output buffer with it.
static inline unsigned int clibcrypto_max_md_size(void) { return EVP_MAX_MD_SIZE; }

#endif
