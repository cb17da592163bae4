/* Unit tests for the streaming chunked-body decoder: whole input, every
 * split point, and the malformed framings used for request smuggling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipcbox/http.h"

/* Decode s fed in pieces of at most step bytes. Returns 1 when done (body
 * in out, trailing bytes count in *rest), 0 when more input is needed, -1
 * on error. */
static int decode(const char *s, size_t step, char *out, size_t *outlen,
                  size_t *rest)
{
    struct ibx_http_chunked d = {0};
    size_t n = strlen(s), i = 0;
    *outlen = 0;
    while (i < n && !ibx_http_chunked_done(&d)) {
        size_t avail = n - i < step ? n - i : step;
        size_t used = 0;
        while (used < avail && !ibx_http_chunked_done(&d)) {
            struct ibx_http_str data;
            ssize_t r = ibx_http_chunked_step(&d, s + i + used, avail - used, &data);
            if (r < 0)
                return -1;
            assert_true(r > 0);
            memcpy(out + *outlen, data.p, data.n);
            *outlen += data.n;
            used += (size_t)r;
        }
        i += used;
    }
    *rest = n - i;
    return ibx_http_chunked_done(&d) ? 1 : 0;
}

static void expect_body(const char *s, const char *body, size_t rest_want)
{
    size_t n = strlen(s);
    for (size_t step = 1; step <= n; step++) {
        char out[512];
        size_t len, rest;
        int r = decode(s, step, out, &len, &rest);
        if (r != 1)
            fail_msg("step %zu: result %d for %s", step, r, s);
        assert_int_equal(len, strlen(body));
        assert_memory_equal(out, body, len);
        assert_int_equal(rest, rest_want);
    }
}

static void expect_bad(const char *s)
{
    size_t n = strlen(s);
    for (size_t step = 1; step <= n; step++) {
        char out[512];
        size_t len, rest;
        int r = decode(s, step, out, &len, &rest);
        if (r != -1)
            fail_msg("step %zu: result %d, want error for %s", step, r, s);
    }
}

static void test_basic(void **state)
{
    (void)state;
    expect_body("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", 0);
    expect_body("0\r\n\r\n", "", 0);
    expect_body("A\r\n0123456789\r\n0\r\n\r\nGET", "0123456789", 3);
    expect_body("a\r\n0123456789\r\n000\r\n\r\n", "0123456789", 0);
}

static void test_extensions_and_trailers(void **state)
{
    (void)state;
    expect_body("5;name=val\r\nhello\r\n0;x\r\n\r\n", "hello", 0);
    expect_body("5 ;a\r\nhello\r\n0\r\n\r\n", "hello", 0);
    expect_body("3\r\nabc\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", "abc", 0);
}

static void test_incomplete(void **state)
{
    (void)state;
    char out[64];
    size_t len, rest;
    assert_int_equal(decode("5\r\nhel", 100, out, &len, &rest), 0);
    assert_int_equal(len, 3);
    assert_int_equal(decode("5\r\nhello\r\n0\r\n", 100, out, &len, &rest), 0);
    assert_int_equal(decode("5\r\nhello\r\n0\r\nX: y\r\n", 100, out, &len, &rest), 0);
}

static void test_malformed(void **state)
{
    (void)state;
    expect_bad("\r\n");                           /* no size */
    expect_bad("g\r\n");                          /* not hex */
    expect_bad("-1\r\n");
    expect_bad("+1\r\nx\r\n0\r\n\r\n");
    expect_bad("0x5\r\nhello\r\n0\r\n\r\n");
    expect_bad("5\nhello\r\n0\r\n\r\n");          /* bare LF after size */
    expect_bad("5\rhello\r\n0\r\n\r\n");          /* bare CR after size */
    expect_bad("5\r\nhelloX\r\n0\r\n\r\n");       /* data longer than size */
    expect_bad("5\r\nhello\n0\r\n\r\n");          /* bare LF after data */
    expect_bad("5\r\nhello\r\n0\r\n\n");          /* bare LF at the end */
    expect_bad("5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n");
    expect_bad("5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n");   /* obs-fold */
    expect_bad("5;a\x01\r\nhello\r\n0\r\n\r\n");
    expect_bad("1000000000000000\r\n");           /* 16 hex digits */
    expect_bad("fffffffffffffffff\r\n");
}

static void test_ext_limit(void **state)
{
    (void)state;
    char s[IBX_HTTP_CHUNK_EXT_MAX + 64];
    int o = sprintf(s, "1;");
    char out[8];
    size_t len, rest;
    memset(s + o, 'a', IBX_HTTP_CHUNK_EXT_MAX - 1);
    strcpy(s + o + IBX_HTTP_CHUNK_EXT_MAX - 1, "\r\nx\r\n0\r\n\r\n");
    assert_int_equal(decode(s, sizeof s, out, &len, &rest), 1);
    memset(s + o, 'a', IBX_HTTP_CHUNK_EXT_MAX + 1);
    strcpy(s + o + IBX_HTTP_CHUNK_EXT_MAX + 1, "\r\nx\r\n0\r\n\r\n");
    assert_int_equal(decode(s, sizeof s, out, &len, &rest), -1);
}

static void test_large_size(void **state)
{
    (void)state;
    struct ibx_http_chunked d = {0};
    struct ibx_http_str data;
    const char *s = "fffffffffffffff\r\nabc";
    ssize_t r = ibx_http_chunked_step(&d, s, strlen(s), &data);
    assert_int_equal(r, (ssize_t)strlen(s) - 3);
    assert_int_equal(data.n, 0);
    r = ibx_http_chunked_step(&d, s + r, 3, &data);
    assert_int_equal(r, 3);
    assert_int_equal(data.n, 3);
    assert_int_equal(d.remaining, 0xfffffffffffffffULL - 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_extensions_and_trailers),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_ext_limit),
        cmocka_unit_test(test_large_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
