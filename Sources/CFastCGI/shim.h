#ifndef INTAKE_CFASTCGI_SHIM_H
#define INTAKE_CFASTCGI_SHIM_H

// Only the thread-safe request API of libfcgi (fcgiapp.h); never the fcgi_stdio.h macro layer,
// which redefines stdio and keeps one global request.
#include <fcgiapp.h>
#include <signal.h>
#include <pthread.h>
#include <poll.h>
#include <string.h>

/// FCGX_Request is a plain struct that libfcgi fills in place; Swift allocates it and hands
/// libfcgi a stable pointer. This returns its size so the wrapper can assert nothing drifted.
static inline unsigned long cfcgi_request_size(void) { return sizeof(FCGX_Request); }

/// The params of the current request, as the NULL-terminated "NAME=value" array libfcgi keeps.
/// A function so Swift reads the field through one place that states the contract.
static inline char *_Nullable *_Nullable cfcgi_request_params(FCGX_Request *_Nonnull r) { return r->envp; }

/// The input and output streams of the current request (NULL outside a request).
static inline FCGX_Stream *_Nullable cfcgi_request_in(FCGX_Request *_Nonnull r) { return r->in; }
static inline FCGX_Stream *_Nullable cfcgi_request_out(FCGX_Request *_Nonnull r) { return r->out; }

/// The socket of the current request, to ask whether more input is waiting.
static inline int cfcgi_request_fd(FCGX_Request *_Nonnull r) { return r->ipcFd; }

/// Reads up to `n` bytes of the request body, blocking only until some arrive. FCGX_GetStr
/// blocks until all `n` bytes or the end, so a client that sends a few bytes and stalls would
/// hold the request before the handler could refuse it; this is FCGX_GetStr's own loop
/// (fcgiapp.c: copy what is buffered, else `fillBuffProc`, which reads the next records) with
/// one change: once it has bytes, it reads more only while the socket already holds some (poll
/// with no wait), so a streaming upload still fills large reads. Returns the bytes moved; a
/// failure is left in the stream (FCGX_GetError), as FCGX_GetStr leaves it.
static inline int cfcgi_read_some(FCGX_Stream *_Nonnull s, int fd, char *_Nonnull buffer, int n) {
    int moved = 0;
    if (s->isClosed || !s->isReader || n <= 0) return 0;
    for (;;) {
        if (s->rdNext != s->stop) {
            int m = (int)(s->stop - s->rdNext);
            if (m > n - moved) m = n - moved;
            memcpy(buffer + moved, s->rdNext, (size_t)m);
            moved += m;
            s->rdNext += m;
            if (moved == n) return moved;
        }
        if (s->isClosed || !s->isReader) return moved;
        if (moved > 0) {
            struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
            if (poll(&p, 1, 0) <= 0) return moved;
        }
        s->fillBuffProc(s);
        if (s->isClosed) return moved;
        s->stopUnget = s->rdNext;
    }
}

/// A signal handler that only tells libfcgi to stop accepting: FCGX_ShutdownPending sets a flag
/// that OS_Accept checks, and the handler is installed without SA_RESTART so that a blocked
/// accept(2) returns EINTR and sees the flag. Setting a flag is all a handler may safely do.
static inline void cfcgi_shutdown_signal_handler(int signo) { (void)signo; FCGX_ShutdownPending(); }

/// Installs cfcgi_shutdown_signal_handler for `signo` with no SA_RESTART. sigaction's struct has a
/// union member that Swift cannot set portably, hence the shim.
static inline int cfcgi_install_shutdown_handler(int signo) {
    struct sigaction sa;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sa.sa_handler = cfcgi_shutdown_signal_handler;
    return sigaction(signo, &sa, 0);
}

#endif
