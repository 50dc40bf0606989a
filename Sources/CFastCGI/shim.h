#ifndef INTAKE_CFASTCGI_SHIM_H
#define INTAKE_CFASTCGI_SHIM_H

// Only the thread-safe request API of libfcgi (fcgiapp.h); never the fcgi_stdio.h macro layer,
// which redefines stdio and keeps one global request.
#include <fcgiapp.h>
#include <signal.h>
#include <pthread.h>

/// FCGX_Request is a plain struct that libfcgi fills in place; Swift allocates it and hands
/// libfcgi a stable pointer. This returns its size so the wrapper can assert nothing drifted.
static inline unsigned long cfcgi_request_size(void) { return sizeof(FCGX_Request); }

/// The params of the current request, as the NULL-terminated "NAME=value" array libfcgi keeps.
/// A function so Swift reads the field through one place that states the contract.
static inline char *_Nullable *_Nullable cfcgi_request_params(FCGX_Request *_Nonnull r) { return r->envp; }

/// The input and output streams of the current request (NULL outside a request).
static inline FCGX_Stream *_Nullable cfcgi_request_in(FCGX_Request *_Nonnull r) { return r->in; }
static inline FCGX_Stream *_Nullable cfcgi_request_out(FCGX_Request *_Nonnull r) { return r->out; }

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
