/* Unit tests for the HTTP/1.1 request-head parser. Every input is placed
 * right before a PROT_NONE guard page so any read past the end faults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/http.h"

static char *guard_base;
static size_t guard_size;

/* Copy n bytes to the end of a readable area followed by a guard page. */
static const char *guarded(const char *s, size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t need = (n + pg - 1) / pg * pg + pg;
    if (guard_base)
        munmap(guard_base, guard_size);
    guard_size = need + pg;
    guard_base = mmap(NULL, guard_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(guard_base != MAP_FAILED);
    assert_int_equal(mprotect(guard_base + need, pg, PROT_NONE), 0);
    char *p = guard_base + need - n;
    memcpy(p, s, n);
    return p;
}

static struct ibx_http_request req;

/* Parse s completely, returning the result and checking that every prefix
 * is reported incomplete (or fails the same way). */
static ssize_t parse(const char *s)
{
    size_t n = strlen(s);
    ssize_t full = ibx_http_parse_request(guarded(s, n), n, 0, &req);
    int status = req.status;
    /* restartability: feed it byte by byte with prev_len */
    size_t prev = 0;
    for (size_t k = 1; k < n; k++) {
        ssize_t r = ibx_http_parse_request(guarded(s, k), k, prev, &req);
        if (r == IBX_HTTP_INCOMPLETE) {
            prev = k;
            continue;
        }
        if (r >= 0) {
            /* a complete head may precede trailing body bytes */
            assert_true(full >= 0);
            assert_int_equal(r, full);
            break;
        }
        assert_int_equal(r, IBX_HTTP_ERROR);
        break;
    }
    ssize_t r = ibx_http_parse_request(guarded(s, n), n, 0, &req);
    assert_int_equal(r, full);
    if (r == IBX_HTTP_ERROR)
        assert_int_equal(req.status, status);
    return r;
}

static void expect_error(const char *s, int status)
{
    ssize_t r = parse(s);
    if (r != IBX_HTTP_ERROR || req.status != status)
        fail_msg("input %s: got %zd status %d, want status %d", s, r,
                 req.status, status);
}

static bool span_is(struct ibx_http_str s, const char *lit)
{
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static void test_simple_get(void **state)
{
    (void)state;
    const char *s = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n"
                    "User-Agent: t\r\nAccept: */*\r\n\r\n";
    assert_int_equal(parse(s), (ssize_t)strlen(s));
    assert_int_equal(req.meth, IBX_HTTP_GET);
    assert_true(span_is(req.target, "/index.html?x=1"));
    assert_int_equal(req.minor, 1);
    assert_true(span_is(req.host, "example.com"));
    assert_true(span_is(req.user_agent, "t"));
    assert_int_equal(req.nheaders, 3);
    assert_true(span_is(req.headers[2].name, "Accept"));
    assert_true(span_is(req.headers[2].value, "*/*"));
    assert_true(ibx_http_keep_alive(&req));
    assert_true(span_is(ibx_http_header_get(&req, "accept"), "*/*"));
    assert_null(ibx_http_header_get(&req, "cookie").p);
}

static void test_http10_and_keepalive(void **state)
{
    (void)state;
    assert_true(parse("GET / HTTP/1.0\r\n\r\n") > 0);
    assert_int_equal(req.minor, 0);
    assert_false(ibx_http_keep_alive(&req));
    assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
    assert_true(ibx_http_keep_alive(&req));
    assert_true(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n") > 0);
    assert_false(ibx_http_keep_alive(&req));
    /* 1.x with x > 1 is treated as 1.1 */
    assert_true(parse("GET / HTTP/1.7\r\nHost: a\r\n\r\n") > 0);
    assert_int_equal(req.minor, 1);
}

static void test_lf_only_and_leading_empty_lines(void **state)
{
    (void)state;
    const char *s = "\r\n\nGET / HTTP/1.1\nHost: a\n\n";
    assert_int_equal(parse(s), (ssize_t)strlen(s));
    assert_true(span_is(req.host, "a"));
}

static void test_body_follows(void **state)
{
    (void)state;
    const char *head = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
    char s[256];
    snprintf(s, sizeof s, "%shello", head);
    assert_int_equal(parse(s), (ssize_t)strlen(head));
    assert_int_equal(req.meth, IBX_HTTP_POST);
    assert_true(req.flags & IBX_HTTP_F_LENGTH);
    assert_int_equal(req.content_length, 5);
}

static void test_chunked_and_expect(void **state)
{
    (void)state;
    assert_true(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                      "Expect: 100-continue\r\n\r\n") > 0);
    assert_true(req.flags & IBX_HTTP_F_CHUNKED);
    assert_true(req.flags & IBX_HTTP_F_CONTINUE);
}

static void test_methods(void **state)
{
    (void)state;
    assert_true(parse("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    assert_int_equal(req.meth, IBX_HTTP_HEAD);
    assert_true(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    assert_int_equal(req.meth, IBX_HTTP_OPTIONS);
    assert_true(span_is(req.target, "*"));
    assert_true(parse("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    assert_int_equal(req.meth, IBX_HTTP_UNKNOWN);
    assert_true(span_is(req.method, "BREW"));
    /* methods are case-sensitive */
    assert_true(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    assert_int_equal(req.meth, IBX_HTTP_UNKNOWN);
}

static void test_request_line_errors(void **state)
{
    (void)state;
    expect_error("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
    expect_error("GET /\r\n\r\n", 400);                 /* HTTP/0.9 */
    expect_error("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400);
    expect_error("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    expect_error("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
    expect_error("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void test_bare_cr(void **state)
{
    (void)state;
    expect_error("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400);
}

static void test_field_syntax(void **state)
{
    (void)state;
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX-A : b\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", 400);
    /* obs-fold */
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
    /* OWS is trimmed, obs-text is kept */
    assert_true(parse("GET / HTTP/1.1\r\nHost: a\r\nX:  \t v \xe9 \t\r\n\r\n") > 0);
    assert_true(span_is(req.headers[1].value, "v \xe9"));
    assert_true(parse("GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n") > 0);
    assert_int_equal(req.headers[1].value.n, 0);
}

static void test_host(void **state)
{
    (void)state;
    expect_error("GET / HTTP/1.1\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    expect_error("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400);
    assert_true(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n") > 0);
    assert_true(parse("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") > 0);
    assert_true(span_is(req.host, "[::1]:8080"));
    assert_true(parse("GET / HTTP/1.0\r\n\r\n") > 0);   /* optional on 1.0 */
}

static void test_smuggling(void **state)
{
    (void)state;
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                 "Content-Length: 5\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                 "Content-Length: 5\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                 "Content-Length: 6\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 501);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400);
    expect_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                 " , identity\r\n\r\n", 400);
    /* leading zeros are still one valid decimal */
    assert_true(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n") > 0);
    assert_int_equal(req.content_length, 7);
    assert_true(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n") > 0);
}

static void test_limits(void **state)
{
    (void)state;
    size_t n = IBX_HTTP_MAX_REQUEST_LINE + 64;
    char *s = malloc(n + 64);
    assert_non_null(s);
    /* a request line of exactly the limit is fine */
    memcpy(s, "GET /", 5);
    size_t line = IBX_HTTP_MAX_REQUEST_LINE;
    memset(s + 5, 'a', line - 5 - 9);
    memcpy(s + line - 9, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
    assert_true(ibx_http_parse_request(s, strlen(s), 0, &req) > 0);
    /* one byte more: 414, complete or not */
    memcpy(s, "GET /", 5);
    memset(s + 5, 'a', line - 4 - 9);
    memcpy(s + line + 1 - 9, " HTTP/1.1\r\nHost: a\r\n\r\n", 23);
    assert_int_equal(ibx_http_parse_request(s, strlen(s), 0, &req), IBX_HTTP_ERROR);
    assert_int_equal(req.status, 414);
    memset(s + 5, 'a', n - 5);
    assert_int_equal(ibx_http_parse_request(guarded(s, n), n, 0, &req), IBX_HTTP_ERROR);
    assert_int_equal(req.status, 414);
    assert_int_equal(ibx_http_parse_request(guarded(s, 4000), 4000, 0, &req),
                     IBX_HTTP_INCOMPLETE);
    free(s);

    /* header section: 101 fields -> 431, 100 fine */
    char *h = malloc(64 * 1024);
    assert_non_null(h);
    size_t o = (size_t)sprintf(h, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 99; i++)
        o += (size_t)sprintf(h + o, "X-%d: %d\r\n", i, i);
    strcpy(h + o, "\r\n");
    assert_true(ibx_http_parse_request(h, o + 2, 0, &req) > 0);
    assert_int_equal(req.nheaders, 100);
    o += (size_t)sprintf(h + o, "X-last: 1\r\n");
    strcpy(h + o, "\r\n");
    assert_int_equal(ibx_http_parse_request(h, o + 2, 0, &req), IBX_HTTP_ERROR);
    assert_int_equal(req.status, 431);

    /* header bytes over 16 KiB -> 431, whether complete or not */
    o = (size_t)sprintf(h, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(h + o, 'v', IBX_HTTP_MAX_HEADER_BYTES);
    o += IBX_HTTP_MAX_HEADER_BYTES;
    assert_int_equal(ibx_http_parse_request(guarded(h, o), o, 0, &req), IBX_HTTP_ERROR);
    assert_int_equal(req.status, 431);
    strcpy(h + o, "\r\n\r\n");
    assert_int_equal(ibx_http_parse_request(h, o + 4, 0, &req), IBX_HTTP_ERROR);
    assert_int_equal(req.status, 431);
    free(h);
}

static void test_incomplete(void **state)
{
    (void)state;
    const char *s = "GET / HTTP/1.1\r\nHost: a\r\n\r";
    assert_int_equal(ibx_http_parse_request(guarded(s, strlen(s)), strlen(s), 0, &req),
                     IBX_HTTP_INCOMPLETE);
    assert_int_equal(ibx_http_parse_request(guarded("", 0), 0, 0, &req),
                     IBX_HTTP_INCOMPLETE);
    assert_int_equal(ibx_http_parse_request(guarded("\r", 1), 1, 0, &req),
                     IBX_HTTP_INCOMPLETE);
}

static void test_pipelined(void **state)
{
    (void)state;
    const char *a = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    const char *b = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    char s[256];
    snprintf(s, sizeof s, "%s%s", a, b);
    ssize_t r = ibx_http_parse_request(s, strlen(s), 0, &req);
    assert_int_equal(r, (ssize_t)strlen(a));
    assert_true(span_is(req.target, "/a"));
    r = ibx_http_parse_request(s + r, strlen(b), 0, &req);
    assert_int_equal(r, (ssize_t)strlen(b));
    assert_true(span_is(req.target, "/b"));
}

static void test_known_fields(void **state)
{
    (void)state;
    assert_true(parse("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n"
                      "If-None-Match: \"x\"\r\nIf-Modified-Since: d\r\n"
                      "If-Range: \"y\"\r\nAccept-Encoding: gzip\r\n"
                      "Content-Type: text/plain\r\nReferer: r\r\n"
                      "If-Match: *\r\nIf-Unmodified-Since: u\r\n\r\n") > 0);
    assert_true(span_is(req.range, "bytes=0-1"));
    assert_true(span_is(req.if_none_match, "\"x\""));
    assert_true(span_is(req.if_modified_since, "d"));
    assert_true(span_is(req.if_range, "\"y\""));
    assert_true(span_is(req.accept_encoding, "gzip"));
    assert_true(span_is(req.content_type, "text/plain"));
    assert_true(span_is(req.referer, "r"));
    assert_true(span_is(req.if_match, "*"));
    assert_true(span_is(req.if_unmodified_since, "u"));
    expect_error("GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nRange: bytes=2-3\r\n\r\n", 400);
}

static void test_reason(void **state)
{
    (void)state;
    assert_string_equal(ibx_http_reason(404), "Not Found");
    assert_string_equal(ibx_http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(ibx_http_reason(999), "Unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_http10_and_keepalive),
        cmocka_unit_test(test_lf_only_and_leading_empty_lines),
        cmocka_unit_test(test_body_follows),
        cmocka_unit_test(test_chunked_and_expect),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_request_line_errors),
        cmocka_unit_test(test_bare_cr),
        cmocka_unit_test(test_field_syntax),
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_smuggling),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_known_fields),
        cmocka_unit_test(test_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
