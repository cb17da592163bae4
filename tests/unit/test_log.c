/* Unit tests for src/lib/log.c: logfmt format and escaping, level filter,
 * one line per call, truncation, log files and syslog, log gates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/log.h"

/* A logger without timestamps writing into a pipe. */
struct cap {
    int fds[2];
    ibx_log log;
};

static void cap_open(struct cap *c, enum ibx_log_level level)
{
    assert_int_equal(pipe(c->fds), 0);
    ibx_log_init(&c->log, "unit");
    c->log.fd = c->fds[1];
    c->log.timestamps = false;
    c->log.level = level;
}

/* Everything written, after the "LEVEL unit[PID]: " prefix of each line
 * is replaced by "LEVEL: ". */
static void cap_read(struct cap *c, char *out, size_t cap)
{
    close(c->fds[1]);
    char buf[16384];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof buf - 1 && (k = read(c->fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)k;
    buf[n] = '\0';
    close(c->fds[0]);
    char pid[32];
    snprintf(pid, sizeof pid, " unit[%ld]:", (long)getpid());
    size_t o = 0;
    for (const char *p = buf; *p && o + 1 < cap;) {
        if (strncmp(p, pid, strlen(pid)) == 0) {
            out[o++] = ':';
            p += strlen(pid);
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

static void test_levels_and_format(void **state)
{
    struct cap c;
    cap_open(&c, IBX_LOG_WARN);
    assert_true(ibx_log_enabled(&c.log, IBX_LOG_ERROR));
    assert_false(ibx_log_enabled(&c.log, IBX_LOG_INFO));
    ibx_info(&c.log, "dropped %d", 1);
    ibx_warn(&c.log, "kept %s", "line\nwith\tcontrol");
    ibx_err(NULL, "a NULL log drops lines");
    char buf[512];
    cap_read(&c, buf, sizeof buf);
    assert_string_equal(buf, "warn: msg=\"kept line\\nwith\\tcontrol\"\n");
}

static void test_template(void **state)
{
    struct cap c;
    cap_open(&c, IBX_LOG_DEBUG);
    ibx_info(&c.log, "msg=\"listening on %s\" proto=tcp model=%s", "127.0.0.1:8080", "epoll");
    ibx_info(&c.log, "peer=%s bytes=%llu duration_ms=%u time=%.3fs", "[::1]:5",
             12345ULL, 7u, 0.25);
    ibx_info(&c.log, "n=%d z=%zu l=%ld x=%x p=%5.2f%% s=%.*s", -3, (size_t)9, -7L, 255u,
             1.5, 3, "abcdef");
    ibx_info(&c.log, "empty=%s spaced=%s eq=%s", "", "a b", "k=v");
    char buf[1024];
    cap_read(&c, buf, sizeof buf);
    assert_string_equal(buf,
        "info: msg=\"listening on 127.0.0.1:8080\" proto=tcp model=epoll\n"
        "info: peer=[::1]:5 bytes=12345 duration_ms=7 time=0.250s\n"
        "info: n=-3 z=9 l=-7 x=ff p=\" 1.50%\" s=abc\n"
        "info: empty=\"\" spaced=\"a b\" eq=\"k=v\"\n");
}

/* What a peer sends can neither end the line nor add a field. */
static void test_forgery(void **state)
{
    struct cap c;
    cap_open(&c, IBX_LOG_DEBUG);
    const char *evil = "x\" level=error\n2026-01-01T00:00:00Z error unit[1]: fake=1 \\";
    ibx_warn(&c.log, "msg=\"get %s\" file=%s", evil, evil);
    ibx_warn(&c.log, "peer said: %s", evil);
    ibx_warn(&c.log, "ctl=%s", "\x1b[31m\x7f\r");
    char buf[2048];
    cap_read(&c, buf, sizeof buf);
    const char *esc = "x\\\" level=error\\n2026-01-01T00:00:00Z error unit[1]: fake=1 \\\\";
    char want[2048];
    snprintf(want, sizeof want,
             "warn: msg=\"get %s\" file=\"%s\"\n"
             "warn: msg=\"peer said: %s\"\n"
             "warn: ctl=\"\\x1b[31m\\x7f\\r\"\n", esc, esc, esc);
    assert_string_equal(buf, want);
    /* three lines, whatever the peer sent */
    int lines = 0;
    for (const char *p = buf; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
}

/* An over-long line is cut at a field boundary (or inside a quoted value,
 * which is then closed) and says so. */
static void test_truncation(void **state)
{
    struct cap c;
    cap_open(&c, IBX_LOG_DEBUG);
    static char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[1000] = '"';
    ibx_info(&c.log, "a=%s b=%s c=%s after=1", big, big, big);
    ibx_info(&c.log, "%s%s", big, big);
    char buf[16384];
    cap_read(&c, buf, sizeof buf);
    char *l2 = strchr(buf, '\n');
    assert_non_null(l2);
    *l2++ = '\0';
    assert_true(strlen(buf) < 4096);
    assert_non_null(strstr(buf, "\" truncated=true"));
    assert_null(strstr(buf, "after=1"));
    assert_true(strlen(l2) < 4097);
    size_t n2 = strlen(l2);
    assert_true(n2 > 20);
    assert_string_equal(l2 + n2 - 17, "\" truncated=true\n");
    /* never a dangling escape: count the quotes that are not escaped */
    for (char *line = buf; line; line = line == buf ? l2 : NULL) {
        int q = 0;
        for (const char *p = line; *p; p++) {
            if (*p == '\\') {
                p++;
                continue;
            }
            q += *p == '"';
        }
        assert_int_equal(q % 2, 0);
    }
}

static void test_escape(void **state)
{
    char out[16];
    assert_int_equal(ibx_log_escape(out, sizeof out, "a\"b\n", 4), 6);
    assert_string_equal(out, "a\\\"b\\n");
    /* an escape is never cut: \x01 needs 4 bytes, 3 are left */
    assert_int_equal(ibx_log_escape(out, 6, "ab\x01", 3), 2);
    assert_string_equal(out, "ab");
}

static void test_log_file(void **state)
{
    char dir[] = "/tmp/ibx-log-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], moved[64];
    snprintf(path, sizeof path, "%s/a.log", dir);
    snprintf(moved, sizeof moved, "%s/a.log.1", dir);
    ibx_log log;
    ibx_log_init(&log, "f");
    log.timestamps = false;
    assert_int_equal(ibx_log_open_file(&log, path), 0);
    ibx_info(&log, "one");
    assert_int_equal(rename(path, moved), 0);
    ibx_info(&log, "two");                 /* still the old file */
    assert_int_equal(ibx_log_reopen_file(&log, path), 0);
    ibx_info(&log, "three");               /* the new one */
    assert_int_equal(ibx_log_open_file(&log, "/nonexistent-dir/x.log"), -ENOENT);
    close(log.fd);
    char buf[256] = {0};
    FILE *f = fopen(moved, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "msg=\"one\"\n"));
    assert_non_null(strstr(buf, "\"two\""));
    assert_null(strstr(buf, "three"));
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "\"three\""));
    unlink(path);
    unlink(moved);
    rmdir(dir);
}

static void test_syslog(void **state)
{
    char dir[] = "/tmp/ibx-log-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/log", dir);
    int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(srv >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    strcpy(sun.sun_path, path);
    assert_int_equal(bind(srv, (struct sockaddr *)&sun, sizeof sun), 0);
    ibx_log log;
    ibx_log_init(&log, "sl");
    assert_int_equal(ibx_log_open_syslog(&log, 3 << 3, path), 0);
    ibx_warn(&log, "msg=\"disk %s\" free=%d", "full", 0);
    char buf[512] = {0};
    ssize_t n = recv(srv, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    /* <PRI = LOG_DAEMON|LOG_WARNING>Mmm dd hh:mm:ss sl[pid]: fields, no newline */
    assert_memory_equal(buf, "<28>", 4);
    char tail[128];
    snprintf(tail, sizeof tail, " sl[%ld]: msg=\"disk full\" free=0", (long)getpid());
    assert_non_null(strstr(buf, tail));
    assert_null(strchr(buf, '\n'));
    close(log.fd);
    ibx_log l2;
    ibx_log_init(&l2, "x");
    assert_int_equal(ibx_log_open_syslog(&l2, 0, "/nonexistent-dir/log"), -ENOENT);
    close(srv);
    unlink(path);
    rmdir(dir);
}

static void test_timestamp_prefix(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    ibx_log log;
    ibx_log_init(&log, "ts");
    log.fd = fds[1];
    ibx_info(&log, "x");
    close(fds[1]);
    char buf[256] = {0};
    assert_true(read(fds[0], buf, sizeof buf - 1) > 0);
    close(fds[0]);
    /* 2026-11-22T16:05:54.123Z info ts[...] */
    assert_int_equal(strlen(buf) > 25, 1);
    assert_int_equal(buf[4], '-');
    assert_int_equal(buf[10], 'T');
    assert_int_equal(buf[23], 'Z');
    assert_non_null(strstr(buf, " info ts["));
}

static void test_level_parse(void **state)
{
    enum ibx_log_level l;
    assert_int_equal(ibx_log_level_parse("debug", &l), 0);
    assert_int_equal(l, IBX_LOG_DEBUG);
    assert_int_equal(ibx_log_level_parse("warning", &l), 0);
    assert_int_equal(l, IBX_LOG_WARN);
    assert_int_equal(ibx_log_level_parse("loud", &l), -EINVAL);
}

static void test_gate_period(void **state)
{
    ibx_log_gate g;
    unsigned long before = 99;
    ibx_log_gate_init(&g, 3, 1000);
    /* 3 lines pass in the first period, the rest are held back */
    int passed = 0;
    for (int i = 0; i < 1000; i++)
        passed += ibx_log_gate_pass(&g, 5000 + (uint64_t)i % 10, &before);
    assert_int_equal(passed, 3);
    /* the first line of the next period carries the count held back */
    assert_true(ibx_log_gate_pass(&g, 6000, &before));
    assert_int_equal(before, 997);
    assert_true(ibx_log_gate_pass(&g, 6001, &before));
    assert_int_equal(before, 0);
    assert_true(ibx_log_gate_pass(&g, 6002, NULL));
    assert_false(ibx_log_gate_pass(&g, 6999, &before));
    assert_false(ibx_log_gate_pass(&g, 6999, NULL));
    /* a timer's summary takes the count once */
    assert_int_equal(ibx_log_gate_take(&g), 2);
    assert_int_equal(ibx_log_gate_take(&g), 0);
    assert_true(ibx_log_gate_pass(&g, 9000, &before));
    assert_int_equal(before, 0);
}

static void test_gate_lifetime(void **state)
{
    ibx_log_gate g;
    ibx_log_gate_init(&g, 16, 0);
    int passed = 0;
    for (uint64_t t = 0; t < 100000; t += 50)
        passed += ibx_log_gate_pass(&g, t, NULL);
    assert_int_equal(passed, 16);
    assert_int_equal(ibx_log_gate_take(&g), 2000 - 16);
    ibx_log_gate_init(&g, 0, 0);   /* burst 0 means 1 */
    assert_true(ibx_log_gate_pass(&g, 0, NULL));
    assert_false(ibx_log_gate_pass(&g, 0, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_format),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_forgery),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_log_file),
        cmocka_unit_test(test_syslog),
        cmocka_unit_test(test_timestamp_prefix),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_gate_period),
        cmocka_unit_test(test_gate_lifetime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
