/*
 * The baseline for `scripts/bench`: the smallest useful libfcgi responder. It answers every
 * request with the same bytes Intake's /healthz sends (status, headers, body), with the same
 * process and thread layout (processes × threads on the socket at fd 0), so that the ratio of
 * the two measures what Intake's own code costs on top of libfcgi and nginx.
 *
 * Usage: fcgi_responder PROCESSES THREADS [SOCKET_PATH]
 * Without SOCKET_PATH the listening socket is fd 0, as under `intake serve`.
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char body[] = "{\"status\":\"ok\",\"version\":\"0.1.0\",\"database\":\"ok\"}";

static int listen_fd = 0;

static void *serve(void *unused) {
    (void)unused;
    FCGX_Request request;
    FCGX_InitRequest(&request, listen_fd, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        const char *id = FCGX_GetParam("REQUEST_ID", request.envp);
        // The headers every Intake response carries (Application.finish) are part of the bytes.
        FCGX_FPrintF(request.out,
                     "Status: 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
                     "X-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\nX-Frame-Options: DENY\r\n"
                     "Content-Security-Policy: default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
                     "form-action 'self'; frame-ancestors 'none'\r\n"
                     "Content-Length: %d\r\nX-Request-Id: %s\r\n\r\n%s",
                     (int)(sizeof(body) - 1), id ? id : "-", body);
        FCGX_Finish_r(&request);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int processes = argc > 1 ? atoi(argv[1]) : 2;
    int threads = argc > 2 ? atoi(argv[2]) : 8;
    FCGX_Init();
    if (argc > 3) {
        listen_fd = FCGX_OpenSocket(argv[3], 1024);
        if (listen_fd < 0) { perror("FCGX_OpenSocket"); return 1; }
    }
    for (int p = 1; p < processes; p++) {
        if (fork() == 0) break;
    }
    pthread_t ids[256];
    for (int t = 0; t < threads && t < 256; t++) pthread_create(&ids[t], NULL, serve, NULL);
    for (int t = 0; t < threads && t < 256; t++) pthread_join(ids[t], NULL);
    while (wait(NULL) > 0) {}
    return 0;
}
