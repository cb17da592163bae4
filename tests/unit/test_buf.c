/* Unit tests for src/lib/buf.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/buf.h"

static void test_append_consume_compact(void **state)
{
    ibx_buf b = {0};
    assert_int_equal(ibx_buf_used(&b), 0);
    assert_int_equal(ibx_buf_append(&b, "hello ", 6), 0);
    assert_int_equal(ibx_buf_printf(&b, "%s %d", "world", 42), 0);
    assert_int_equal(ibx_buf_used(&b), 14);
    assert_memory_equal(ibx_buf_head(&b), "hello world 42", 14);
    ibx_buf_consume(&b, 6);
    assert_memory_equal(ibx_buf_head(&b), "world 42", 8);
    /* reserve room that fits after compaction without growing */
    size_t cap = b.cap;
    assert_int_equal(ibx_buf_reserve(&b, cap - 8), 0);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.off, 0);
    assert_memory_equal(ibx_buf_head(&b), "world 42", 8);
    ibx_buf_consume(&b, 8);
    assert_int_equal(b.off, 0);
    assert_int_equal(b.len, 0);
    ibx_buf_free(&b);
    assert_null(b.data);
}

static void test_growth_keeps_content(void **state)
{
    ibx_buf b = {0};
    char chunk[1000];
    for (int i = 0; i < 1000; i++) {
        memset(chunk, 'a' + i % 26, sizeof chunk);
        assert_int_equal(ibx_buf_append(&b, chunk, sizeof chunk), 0);
        if (i % 7 == 0)
            ibx_buf_consume(&b, 500);
    }
    size_t expect = 1000u * 1000u - 143u * 500u;
    assert_int_equal(ibx_buf_used(&b), expect);
    ibx_buf_free(&b);
}

static void test_long_printf(void **state)
{
    ibx_buf b = {0};
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(ibx_buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(ibx_buf_used(&b), sizeof big + 1);
    assert_int_equal(ibx_buf_head(&b)[0], '<');
    assert_int_equal(ibx_buf_head(&b)[sizeof big], '>');
    ibx_buf_free(&b);
}

static void test_fd_roundtrip(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    ibx_buf out = {0}, in = {0};
    ibx_buf_append(&out, "through a pipe", 14);
    assert_int_equal(ibx_buf_write_fd(&out, fds[1]), 14);
    assert_int_equal(ibx_buf_used(&out), 0);
    assert_int_equal(ibx_buf_read_fd(&in, fds[0], 100), 14);
    assert_memory_equal(ibx_buf_head(&in), "through a pipe", 14);
    close(fds[1]);
    assert_int_equal(ibx_buf_read_fd(&in, fds[0], 100), 0);
    close(fds[0]);
    assert_int_equal(ibx_buf_write_fd(&out, fds[1]), 0);   /* nothing to write */
    ibx_buf_append(&out, "x", 1);
    assert_int_equal(ibx_buf_write_fd(&out, fds[1]), -EBADF);
    ibx_buf_free(&out);
    ibx_buf_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_consume_compact),
        cmocka_unit_test(test_growth_keeps_content),
        cmocka_unit_test(test_long_printf),
        cmocka_unit_test(test_fd_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
