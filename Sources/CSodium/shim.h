#ifndef INTAKE_CSODIUM_SHIM_H
#define INTAKE_CSODIUM_SHIM_H

#include <sodium.h>

/// crypto_pwhash_STRBYTES and friends are macros built from other macros; Swift imports only
/// simple literal macros, so the sizes the wrapper needs come through functions.
static inline size_t csodium_pwhash_strbytes(void) { return crypto_pwhash_STRBYTES; }
static inline size_t csodium_secretbox_keybytes(void) { return crypto_aead_xchacha20poly1305_ietf_KEYBYTES; }

#endif
