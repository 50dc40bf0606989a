#ifndef INTAKE_CLIBCRYPTO_SHIM_H
#define INTAKE_CLIBCRYPTO_SHIM_H

// Only OpenSSL's EVP message digests: SHA-256 (with the CPU's SHA extensions where present, several
// times libsodium's portable SHA-256 on upload-sized data), SHA-1 and MD5 for the checksums that
// tus clients and Google Drive use; and SHA-256's low-level context, whose plain state can be saved
// between the requests of a resumable upload (deprecated in OpenSSL 3 but kept, and the same
// accelerated block function as EVP).
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/sha.h>

/// EVP_MAX_MD_SIZE is a macro; the wrapper sizes its output buffer with it.
static inline unsigned int clibcrypto_max_md_size(void) { return EVP_MAX_MD_SIZE; }

/// SHA-256 over a caller-owned context buffer of `clibcrypto_sha256_state_size()` bytes.
static inline size_t clibcrypto_sha256_state_size(void) { return sizeof(SHA256_CTX); }
static inline int clibcrypto_sha256_init(void *ctx) { return SHA256_Init((SHA256_CTX *)ctx); }
static inline int clibcrypto_sha256_update(void *ctx, const void *data, size_t len) { return SHA256_Update((SHA256_CTX *)ctx, data, len); }
static inline int clibcrypto_sha256_final(unsigned char *md, void *ctx) { return SHA256_Final(md, (SHA256_CTX *)ctx); }
/// Whether saved bytes look like a context in progress (digest length 32, block fill below 64).
static inline int clibcrypto_sha256_state_valid(const void *ctx) {
    const SHA256_CTX *c = (const SHA256_CTX *)ctx;
    return c->md_len == SHA256_DIGEST_LENGTH && c->num < SHA256_CBLOCK;
}

#endif
