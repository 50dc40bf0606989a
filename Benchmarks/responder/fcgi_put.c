/*
 * The durable baseline of `scripts/bench small-uploads`: the smallest FastCGI receiver that
 * stores a request's body as a file and makes it durable before it answers, behind the same
 * nginx location settings as Intake's upload route (body streamed, not buffered) and with the
 * same process and thread layout. nginx alone cannot fsync what it stores (a WebDAV PUT answers
 * 201 with the bytes in the page cache), so this is what "nginx writing the same bytes and making
 * them durable" means per request: create the file (O_EXCL), write the body, fsync the file,
 * fsync its folder, then answer 201. No parsing, hashing or database: the ratio to it is what
 * Intake's own work costs.
 *
 * Usage: fcgi_put PROCESSES THREADS SOCKET_PATH DIRECTORY
 * The file is DIRECTORY/<last component of the request path>.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int listen_fd = -1;
static const char *directory;
static int directory_fd = -1;

static void answer(FCGX_Request *request, const char *status) {
    FCGX_FPrintF(request->out, "Status: %s\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n", status);
}

/* Reads the whole body into `path`, synced; 0 on success. */
static int store(FCGX_Request *request, const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return -1;
    char buffer[65536];
    int n, failed = 0;
    while ((n = FCGX_GetStr(buffer, sizeof buffer, request->in)) > 0) {
        for (int done = 0; done < n && !failed;) {
            ssize_t w = write(fd, buffer + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) failed = 1; else done += (int)w;
        }
    }
    if (!failed && fsync(fd) != 0) failed = 1;
    close(fd);
    /* The new name is durable only once its folder is synced. */
    if (!failed && fsync(directory_fd) != 0) failed = 1;
    if (failed) unlink(path);
    return failed ? -1 : 0;
}

static void *serve(void *unused) {
    (void)unused;
    FCGX_Request request;
    FCGX_InitRequest(&request, listen_fd, 0);
    char path[4096];
    while (FCGX_Accept_r(&request) >= 0) {
        const char *uri = FCGX_GetParam("DOCUMENT_URI", request.envp);
        const char *name = uri ? strrchr(uri, '/') : NULL;
        if (name == NULL || name[1] == '\0' || name[1] == '.') {
            answer(&request, "400 Bad Request");
        } else if (snprintf(path, sizeof path, "%s/%s", directory, name + 1) >= (int)sizeof path || store(&request, path) != 0) {
            answer(&request, "500 Internal Server Error");
        } else {
            answer(&request, "201 Created");
        }
        FCGX_Finish_r(&request);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: fcgi_put PROCESSES THREADS SOCKET_PATH DIRECTORY\n");
        return 2;
    }
    int processes = atoi(argv[1]), threads = atoi(argv[2]);
    directory = argv[4];
    FCGX_Init();
    listen_fd = FCGX_OpenSocket(argv[3], 1024);
    if (listen_fd < 0) { perror("FCGX_OpenSocket"); return 1; }
    for (int p = 1; p < processes; p++) {
        if (fork() == 0) break;
    }
    directory_fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd < 0) { perror(directory); return 1; }
    pthread_t ids[256];
    for (int t = 0; t < threads && t < 256; t++) pthread_create(&ids[t], NULL, serve, NULL);
    for (int t = 0; t < threads && t < 256; t++) pthread_join(ids[t], NULL);
    while (wait(NULL) > 0) {}
    return 0;
}
