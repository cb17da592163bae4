/* Unit tests for src/lib/log.c: format, level filter, one line per call, log gates. */
#include <errno.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/log.h"

static void test_levels_and_format(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    ibx_log log;
    ibx_log_init(&log, "unit");
    log.fd = fds[1];
    log.timestamps = false;
    log.level = IBX_LOG_WARN;
    assert_true(ibx_log_enabled(&log, IBX_LOG_ERROR));
    assert_false(ibx_log_enabled(&log, IBX_LOG_INFO));
    ibx_info(&log, "dropped %d", 1);
    ibx_warn(&log, "kept %s", "line\nwith\tcontrol");
    ibx_err(NULL, "a NULL log drops lines");
    close(fds[1]);
    char buf[512] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    assert_true(n > 0);
    char want[64];
    snprintf(want, sizeof want, "warn unit[%ld]: kept line?with?control\n", (long)getpid());
    assert_string_equal(buf, want);
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
        cmocka_unit_test(test_timestamp_prefix),
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_gate_period),
        cmocka_unit_test(test_gate_lifetime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
