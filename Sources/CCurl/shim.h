#ifndef INTAKE_CCURL_SHIM_H
#define INTAKE_CCURL_SHIM_H

#include <curl/curl.h>

/// curl_easy_setopt is variadic and cannot be called from Swift; one typed wrapper per
/// argument kind the documentation allows (long, pointer, callback, curl_off_t).
static inline CURLcode ccurl_setopt_long(CURL *_Nonnull h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_ptr(CURL *_Nonnull h, CURLoption o, const void *_Nullable v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_off(CURL *_Nonnull h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode ccurl_setopt_write(CURL *_Nonnull h, size_t (*_Nonnull f)(char *_Nonnull, size_t, size_t, void *_Nullable)) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f); }
static inline CURLcode ccurl_setopt_read(CURL *_Nonnull h, size_t (*_Nonnull f)(char *_Nonnull, size_t, size_t, void *_Nullable)) { return curl_easy_setopt(h, CURLOPT_READFUNCTION, f); }
/// CURLOPT_SEEKFUNCTION: how libcurl rewinds an upload body to send it again (after a reused
/// connection died under the request); without it a body from a read callback cannot be resent.
static inline CURLcode ccurl_setopt_seek(CURL *_Nonnull h, int (*_Nonnull f)(void *_Nullable, curl_off_t, int)) { return curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, f); }
static inline CURLcode ccurl_setopt_header(CURL *_Nonnull h, size_t (*_Nonnull f)(char *_Nonnull, size_t, size_t, void *_Nullable)) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f); }

/// curl_easy_getinfo is variadic too.
static inline CURLcode ccurl_getinfo_long(CURL *_Nonnull h, CURLINFO i, long *_Nonnull v) { return curl_easy_getinfo(h, i, v); }

#endif
