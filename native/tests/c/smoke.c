/* The C ABI from C, against the real daemon: ping, the operation table,
 * inspect of a missing container -> not_found, create and start a container,
 * follow its logs to the end, wait for its exit code, a following log stream
 * cancelled from another thread, exec `cat` with stdin half-closed, a TTY
 * resized (`stty size` in the exec sees it), push to and pull from the test
 * registry with progress items. Exits non-zero, saying what failed, on the
 * first failure.
 *
 * Built for Linux by scripts/native.sh (against the shared and the static
 * library) and for Windows by scripts/windows.sh (mingw, against
 * dockhand_native.dll, run under Wine over a named pipe). The daemon is
 * DOCKHAND_NATIVE_HOST when set (`npipe:////./pipe/...` on Windows), else
 * the Unix socket. */
#include "dockhand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
typedef HANDLE thread_t;
#else
#include <pthread.h>
#include <unistd.h>
typedef pthread_t thread_t;
#endif

static int failures = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fprintf(stderr, "\n");                                         \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

/* A library buffer as a NUL-terminated copy (freed by the caller), the
 * library's buffer released. */
static char *take(uint8_t *p, size_t n) {
    char *s = malloc(n + 1);
    if (n) memcpy(s, p, n);
    s[n] = 0;
    dh_buf_free(p, n);
    return s;
}

static int call(dh_client *c, const char *op, const char *params, const char *body, char **out) {
    uint8_t *o = NULL;
    size_t n = 0;
    int rc = dh_call(c, (const uint8_t *)op, strlen(op), (const uint8_t *)params,
                     params ? strlen(params) : 0, (const uint8_t *)body, body ? strlen(body) : 0, &o, &n);
    *out = take(o, n);
    return rc;
}

static dh_stream *open_stream(dh_client *c, const char *op, const char *params) {
    dh_stream *s = NULL;
    uint8_t *e = NULL;
    size_t n = 0;
    int rc = dh_stream_open(c, (const uint8_t *)op, strlen(op), (const uint8_t *)params, strlen(params),
                            NULL, 0, &s, &e, &n);
    char *err = take(e, n);
    CHECK(rc == DH_OK, "%s: %s", op, err);
    free(err);
    return s;
}

/* The value of "Id":"…" in a JSON text (enough for this test). */
static char *json_id(const char *json) {
    const char *p = strstr(json, "\"Id\":\"");
    CHECK(p != NULL, "no Id in %s", json);
    p += 6;
    const char *q = strchr(p, '"');
    char *id = malloc((size_t)(q - p) + 1);
    memcpy(id, p, (size_t)(q - p));
    id[q - p] = 0;
    return id;
}

static char *run_container(dh_client *c, const char *image, const char *script) {
    char body[1024], *out;
    /* The label lets scripts remove what a failed run left behind. */
    snprintf(body, sizeof body,
             "{\"Image\":\"%s\",\"Cmd\":[\"sh\",\"-c\",\"%s\"],\"Labels\":{\"dockhand-native-c\":\"1\"}}",
             image, script);
    int rc = call(c, "ContainerCreate", "{}", body, &out);
    CHECK(rc == DH_OK, "create: %s", out);
    char *id = json_id(out);
    free(out);
    char params[256];
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
    rc = call(c, "ContainerStart", params, NULL, &out);
    CHECK(rc == DH_OK, "start: %s", out);
    free(out);
    return id;
}

static void remove_container(dh_client *c, const char *id) {
    char params[256], *out;
    snprintf(params, sizeof params, "{\"id\":\"%s\",\"force\":true}", id);
    call(c, "ContainerDelete", params, NULL, &out);
    free(out);
}

struct reader {
    dh_stream *s;
    int rc;
    char *out;
};

static void read_next(struct reader *r) {
    int32_t kind;
    uint8_t *o = NULL;
    size_t n = 0;
    r->rc = dh_stream_next(r->s, -1, &kind, &o, &n);
    r->out = take(o, n);
}

/* read_next on a thread of its own: Win32 threads on Windows (no pthreads
 * library to ship beside the DLL), pthreads elsewhere. */
#ifdef _WIN32
static DWORD WINAPI reader_main(LPVOID arg) {
    read_next(arg);
    return 0;
}
static void start_reader(thread_t *t, struct reader *r) {
    *t = CreateThread(NULL, 0, reader_main, r, 0, NULL);
    CHECK(*t != NULL, "CreateThread failed");
}
static void join_reader(thread_t t) {
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}
static void sleep_ms(unsigned ms) { Sleep(ms); }
#else
static void *reader_main(void *arg) {
    read_next(arg);
    return NULL;
}
static void start_reader(thread_t *t, struct reader *r) {
    CHECK(pthread_create(t, NULL, reader_main, r) == 0, "pthread_create failed");
}
static void join_reader(thread_t t) { pthread_join(t, NULL); }
static void sleep_ms(unsigned ms) { usleep(ms * 1000); }
#endif

int main(void) {
    const char *image = getenv("DOCKHAND_TEST_IMAGE");
    CHECK(image != NULL, "DOCKHAND_TEST_IMAGE is not set (source env.sh of scripts/test-env.sh)");

    const char *host = getenv("DOCKHAND_NATIVE_HOST");
    if (!host || !*host) host = "unix:///var/run/docker.sock";
    char opts[512];
    snprintf(opts, sizeof opts, "{\"host\":\"%s\"}", host);
    dh_client *c = NULL;
    uint8_t *e = NULL;
    size_t en = 0;
    int rc = dh_client_new((const uint8_t *)opts, strlen(opts), &c, &e, &en);
    char *err = take(e, en);
    CHECK(rc == DH_OK && c != NULL, "client: %s", err);
    free(err);

    /* ping */
    char *out;
    rc = call(c, "SystemPing", NULL, NULL, &out);
    CHECK(rc == DH_OK && strcmp(out, "OK") == 0, "ping: %d %s", rc, out);
    free(out);
    printf("ok ping (%s)\n", host);

    /* the operation table */
    uint8_t *t = NULL;
    size_t tn = 0;
    CHECK(dh_operations(&t, &tn) == DH_OK, "operations");
    char *table = take(t, tn);
    CHECK(strstr(table, "\"id\":\"ContainerList\"") != NULL, "table without ContainerList");
    free(table);
    printf("ok operation table\n");

    /* panics are printed by default; the setting answers its previous value */
    CHECK(dh_set_panic_output(0) == 1, "panic output was not on by default");
    CHECK(dh_set_panic_output(1) == 0, "panic output was not turned off");
    printf("ok panic output setting\n");

    /* missing container -> not_found */
    rc = call(c, "ContainerInspect", "{\"id\":\"dockhand-native-c-missing\"}", NULL, &out);
    CHECK(rc == DH_ERROR && strstr(out, "\"kind\":\"not_found\"") && strstr(out, "\"status\":404"),
          "inspect missing: %d %s", rc, out);
    free(out);
    printf("ok not_found\n");

    /* create, start, follow logs to the end, wait */
    char *id = run_container(c, image, "echo hello-from-c; echo oops >&2; exit 7");
    char params[512];
    snprintf(params, sizeof params, "{\"id\":\"%s\",\"follow\":true,\"stdout\":true,\"stderr\":true}", id);
    dh_stream *s = open_stream(c, "ContainerLogs", params);
    char so[256] = "", se[256] = "";
    for (int i = 0; i < 100; i++) {
        int32_t kind;
        uint8_t *o = NULL;
        size_t n = 0;
        rc = dh_stream_next(s, 10000, &kind, &o, &n);
        char *item = take(o, n);
        if (rc == DH_END) { free(item); break; }
        CHECK(rc == DH_OK, "logs next: %d %s", rc, item);
        if (kind == DH_ITEM_STDOUT) strncat(so, item, sizeof so - strlen(so) - 1);
        else if (kind == DH_ITEM_STDERR) strncat(se, item, sizeof se - strlen(se) - 1);
        else CHECK(0, "unexpected item kind %d", kind);
        free(item);
    }
    CHECK(rc == DH_END, "logs did not end");
    dh_stream_free(s);
    CHECK(strcmp(so, "hello-from-c\n") == 0, "stdout: %s", so);
    CHECK(strcmp(se, "oops\n") == 0, "stderr: %s", se);
    printf("ok logs followed to the end\n");
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
    rc = call(c, "ContainerWait", params, NULL, &out);
    CHECK(rc == DH_OK && strstr(out, "\"StatusCode\":7"), "wait: %s", out);
    free(out);
    printf("ok exit code 7\n");
    remove_container(c, id);
    free(id);

    /* cancel a following log stream from another thread */
    id = run_container(c, image, "echo started; sleep 60");
    snprintf(params, sizeof params, "{\"id\":\"%s\",\"follow\":true,\"stdout\":true}", id);
    s = open_stream(c, "ContainerLogs", params);
    struct reader first = {s, 0, NULL};
    read_next(&first);
    CHECK(first.rc == DH_OK && strcmp(first.out, "started\n") == 0, "first line: %d %s", first.rc, first.out);
    free(first.out);
    struct reader r = {s, -1, NULL};
    thread_t th;
    start_reader(&th, &r);
    sleep_ms(300);
    dh_stream_cancel(s);
    join_reader(th);
    CHECK(r.rc == DH_ERROR && strstr(r.out, "\"kind\":\"cancelled\""), "cancel: %d %s", r.rc, r.out);
    free(r.out);
    dh_stream_free(s);
    printf("ok cancelled from another thread\n");
    remove_container(c, id);
    free(id);

    /* exec cat with stdin, half-closed */
    id = run_container(c, image, "sleep 60");
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
    rc = call(c, "ContainerExec", params,
              "{\"Cmd\":[\"cat\"],\"AttachStdin\":true,\"AttachStdout\":true,\"AttachStderr\":true}", &out);
    CHECK(rc == DH_OK, "exec create: %s", out);
    char *exec_id = json_id(out);
    free(out);
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", exec_id);
    const char *start = "{\"Detach\":false,\"Tty\":false}";
    s = NULL;
    e = NULL;
    en = 0;
    rc = dh_stream_open(c, (const uint8_t *)"ExecStart", 9, (const uint8_t *)params, strlen(params),
                        (const uint8_t *)start, strlen(start), &s, &e, &en);
    err = take(e, en);
    CHECK(rc == DH_OK, "exec start: %s", err);
    free(err);
    const char *input = "fed through stdin\n";
    rc = dh_stream_write(s, (const uint8_t *)input, strlen(input), &e, &en);
    err = take(e, en);
    CHECK(rc == DH_OK, "write: %s", err);
    free(err);
    rc = dh_stream_close_write(s, &e, &en);
    err = take(e, en);
    CHECK(rc == DH_OK, "close stdin: %s", err);
    free(err);
    so[0] = 0;
    for (;;) {
        int32_t kind;
        uint8_t *o = NULL;
        size_t n = 0;
        rc = dh_stream_next(s, 10000, &kind, &o, &n);
        char *item = take(o, n);
        if (rc == DH_END) { free(item); break; }
        CHECK(rc == DH_OK && kind == DH_ITEM_STDOUT, "exec next: %d %d %s", rc, kind, item);
        strncat(so, item, sizeof so - strlen(so) - 1);
        free(item);
    }
    dh_stream_free(s);
    CHECK(strcmp(so, input) == 0, "cat echoed: %s", so);
    printf("ok exec cat with stdin\n");
    free(exec_id);

    /* resize the TTY of an exec: `stty size` (run once stdin says go) sees it */
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", id);
    rc = call(c, "ContainerExec", params,
              "{\"Cmd\":[\"sh\",\"-c\",\"read go; stty size\"],\"AttachStdin\":true,"
              "\"AttachStdout\":true,\"Tty\":true}", &out);
    CHECK(rc == DH_OK, "tty exec create: %s", out);
    exec_id = json_id(out);
    free(out);
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", exec_id);
    const char *tty_start = "{\"Detach\":false,\"Tty\":true}";
    rc = dh_stream_open(c, (const uint8_t *)"ExecStart", 9, (const uint8_t *)params, strlen(params),
                        (const uint8_t *)tty_start, strlen(tty_start), &s, &e, &en);
    err = take(e, en);
    CHECK(rc == DH_OK, "tty exec start: %s", err);
    free(err);
    rc = dh_stream_resize(s, 0, 80, &e, &en);
    err = take(e, en);
    CHECK(rc == DH_ERROR && strstr(err, "\"kind\":\"invalid_argument\""), "resize to 0 rows: %d %s", rc, err);
    free(err);
    rc = dh_stream_resize(s, 33, 101, &e, &en);
    err = take(e, en);
    CHECK(rc == DH_OK, "resize: %s", err);
    free(err);
    rc = dh_stream_write(s, (const uint8_t *)"go\n", 3, &e, &en);
    err = take(e, en);
    CHECK(rc == DH_OK, "tty write: %s", err);
    free(err);
    so[0] = 0;
    for (;;) {
        int32_t kind;
        uint8_t *o = NULL;
        size_t n = 0;
        rc = dh_stream_next(s, 10000, &kind, &o, &n);
        char *item = take(o, n);
        if (rc == DH_END) { free(item); break; }
        CHECK(rc == DH_OK && kind == DH_ITEM_CONSOLE, "tty next: %d %d %s", rc, kind, item);
        strncat(so, item, sizeof so - strlen(so) - 1);
        free(item);
    }
    dh_stream_free(s);
    CHECK(strstr(so, "33 101") != NULL, "stty size after resize: %s", so);
    printf("ok tty resized to 33x101\n");
    free(exec_id);

    /* a stream without a TTY cannot be resized */
    snprintf(params, sizeof params, "{\"id\":\"%s\",\"stdout\":true}", id);
    s = open_stream(c, "ContainerLogs", params);
    rc = dh_stream_resize(s, 24, 80, &e, &en);
    err = take(e, en);
    CHECK(rc == DH_ERROR && strstr(err, "\"kind\":\"invalid_argument\""), "resize logs: %d %s", rc, err);
    free(err);
    dh_stream_free(s);
    printf("ok resize refused on a log stream\n");
    remove_container(c, id);
    free(id);

    /* pull from the test registry with progress items (pushed there first) */
    const char *registry = getenv("DOCKHAND_REGISTRY");
    CHECK(registry && strncmp(registry, "127.0.0.1:", 10) == 0, "DOCKHAND_REGISTRY must be a loopback registry");
    char repo[256];
    snprintf(repo, sizeof repo, "%s/dockhand-native-c", registry);
    snprintf(params, sizeof params, "{\"name\":\"%s\",\"repo\":\"%s\",\"tag\":\"c1\"}", image, repo);
    rc = call(c, "ImageTag", params, NULL, &out);
    CHECK(rc == DH_OK, "tag: %s", out);
    free(out);
    snprintf(params, sizeof params, "{\"name\":\"%s\",\"tag\":\"c1\"}", repo);
    s = open_stream(c, "ImagePush", params);
    for (;;) {
        int32_t kind;
        uint8_t *o = NULL;
        size_t n = 0;
        rc = dh_stream_next(s, 60000, &kind, &o, &n);
        char *item = take(o, n);
        CHECK(rc == DH_OK || rc == DH_END, "push: %d %s", rc, item);
        free(item);
        if (rc == DH_END) break;
    }
    dh_stream_free(s);
    snprintf(params, sizeof params, "{\"name\":\"%s:c1\"}", repo);
    rc = call(c, "ImageDelete", params, NULL, &out);
    CHECK(rc == DH_OK, "delete before pull: %s", out);
    free(out);
    snprintf(params, sizeof params, "{\"fromImage\":\"%s\",\"tag\":\"c1\"}", repo);
    s = open_stream(c, "ImageCreate", params);
    int progress = 0;
    for (;;) {
        int32_t kind;
        uint8_t *o = NULL;
        size_t n = 0;
        rc = dh_stream_next(s, 60000, &kind, &o, &n);
        char *item = take(o, n);
        if (rc == DH_END) { free(item); break; }
        CHECK(rc == DH_OK && kind == DH_ITEM_JSON, "pull: %d %d %s", rc, kind, item);
        if (strstr(item, "\"status\"")) progress++;
        free(item);
    }
    dh_stream_free(s);
    CHECK(progress > 0, "no progress message");
    snprintf(params, sizeof params, "{\"name\":\"%s:c1\"}", repo);
    rc = call(c, "ImageInspect", params, NULL, &out);
    CHECK(rc == DH_OK, "pulled image: %s", out);
    free(out);
    rc = call(c, "ImageDelete", params, NULL, &out);
    free(out);
    printf("ok pull with %d progress messages\n", progress);

    dh_client_free(c);
    printf("all C checks passed (%d failures)\n", failures);
    return failures != 0;
}
