/* The RESP reply framing of chatd's Redis client as bytes trickle in
 * (resp_scan, resp.c): a reply fed one byte at a time, or cut at any
 * point, gives the tree it gives whole; the bounds are refused as soon as
 * the bytes that pass them arrive; and the work is linear: the scanner's
 * own count of the bytes it examined stays within a small multiple of the
 * reply for a big array fed in 7-byte pieces (a count, not a timing). */
//unit-sources: src/apps/chatd/resp.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chatd/resp.h"

/* Replies of every type, nested ones among them. */
static const char *const replies[] = {
    "+OK\r\n",
    "-ERR wrong \n kind\r\n",
    ":-9223\r\n",
    "$-1\r\n",
    "$0\r\n\r\n",
    "$-0\r\n\r\n",
    "$5\r\nh\r\nlo\r\n",
    "*0\r\n",
    "*-1\r\n",
    "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n*2\r\n:1\r\n$0\r\n\r\n",
    "*2\r\n*2\r\n*1\r\n*1\r\n:7\r\n+in\r\n$3\r\na\rb\r\n",
    "*4\r\n*0\r\n*-1\r\n$-1\r\n*2\r\n-e\r\n*1\r\n+x\r\n",
};

static bool same(const struct resp *a, const struct resp *b)
{
    if (a->type != b->type || a->n != b->n || a->i != b->i)
        return false;
    if (a->type == RESP_STR || a->type == RESP_STATUS || a->type == RESP_ERROR)
        return memcmp(a->s, b->s, a->n + 1) == 0;
    if (a->type == RESP_ARRAY)
        for (size_t i = 0; i < a->n; i++)
            if (!same(&a->e[i], &b->e[i]))
                return false;
    return true;
}

/* Feed msg[0..len) in the pieces cuts[0..nc) (ascending ends), each call
 * on a fresh copy of exactly the bytes arrived (so a read past them is
 * caught by ASan, and the reply "moves" as in a growing buffer). Returns
 * what the last call returned; *out gets the tree when complete. */
static ssize_t feed(const char *msg, size_t len, const size_t *cuts, size_t nc,
                    struct resp_scan *s, struct resp **out)
{
    ssize_t k = 0;
    for (size_t c = 0; c <= nc; c++) {
        size_t n = c < nc ? cuts[c] : len;
        char *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, msg, n);
        k = resp_scan(s, copy, n);
        if (k > 0)
            assert_int_equal(resp_tree(s, copy, (size_t)k, out), 0);
        free(copy);
        if (k != 0)
            break;
    }
    return k;
}

static void test_bytewise(void **state)
{
    for (size_t m = 0; m < sizeof replies / sizeof *replies; m++) {
        const char *msg = replies[m];
        size_t len = strlen(msg);
        struct resp *whole = NULL, *part = NULL;
        assert_int_equal(resp_parse(msg, len, &whole), (ssize_t)len);
        size_t cuts[128];
        assert_true(len <= 128);
        for (size_t i = 0; i < len; i++)
            cuts[i] = i;
        struct resp_scan s = {0};
        assert_int_equal(feed(msg, len, cuts, len, &s, &part), (ssize_t)len);
        assert_true(same(whole, part));
        free(whole);
        free(part);
    }
}

static void test_every_split(void **state)
{
    for (size_t m = 0; m < sizeof replies / sizeof *replies; m++) {
        const char *msg = replies[m];
        size_t len = strlen(msg);
        struct resp *whole = NULL;
        assert_int_equal(resp_parse(msg, len, &whole), (ssize_t)len);
        for (size_t i = 0; i <= len; i++)
            for (size_t j = i; j <= len; j++) {
                size_t cuts[2] = {i, j};
                struct resp_scan s = {0};
                struct resp *part = NULL;
                assert_int_equal(feed(msg, len, cuts, 2, &s, &part), (ssize_t)len);
                assert_true(same(whole, part));
                free(part);
            }
        free(whole);
    }
    /* a cut reply is never complete, and the bytes after a reply are not its */
    const char *two = "*2\r\n$5\r\nhello\r\n*1\r\n:12\r\n+next\r\n";
    size_t first = strlen(two) - 7;
    for (size_t i = 0; i < first; i++) {
        struct resp_scan s = {0};
        assert_int_equal(resp_scan(&s, two, i), 0);
        assert_int_equal(resp_scan(&s, two, strlen(two)), (ssize_t)first);
    }
}

/* What resp_scan says of the bytes s (no more: a refusal must not wait
 * for the end of the line). */
static ssize_t scan(const char *s)
{
    struct resp_scan st = {0};
    return resp_scan(&st, s, strlen(s));
}

static void test_bounds_early(void **state)
{
    assert_int_equal(scan("?"), -EPROTO);              /* not a type */
    assert_int_equal(scan("$2000000"), -EPROTO);       /* > RESP_BULK_MAX, no CR LF yet */
    assert_int_equal(scan("$2000000000\r\n"), -EPROTO);
    assert_int_equal(scan("$1048576"), 0);              /* RESP_BULK_MAX itself */
    assert_int_equal(scan("*300000"), -EPROTO);        /* > RESP_ELEMS_MAX */
    assert_int_equal(scan("$-2"), -EPROTO);
    assert_int_equal(scan("*-1"), 0);
    assert_int_equal(scan("$12a"), -EPROTO);
    assert_int_equal(scan(":1-"), -EPROTO);
    assert_int_equal(scan(":123456789012345678"), 0);   /* 18 digits */
    assert_int_equal(scan(":1234567890123456789"), -EPROTO);
    assert_int_equal(scan("$\r\n"), -EPROTO);
    assert_int_equal(scan(":-\r\n"), -EPROTO);
    assert_int_equal(scan("+ab\rc"), -EPROTO);
    assert_int_equal(scan("$3\r\nabcd"), -EPROTO);     /* no CR after the body */
    assert_int_equal(scan("$3\r\nabc\r"), 0);
    assert_int_equal(scan("$3\r\nabc\rx"), -EPROTO);
    assert_int_equal(scan("*1\r\n*1\r\n*1\r\n*1\r\n*"), -EPROTO);   /* depth, at the '*' */
    assert_int_equal(scan("*1\r\n*1\r\n*1\r\n*1\r\n:"), 0);
    /* nodes: the elements an array still owes count before they come */
    assert_int_equal(scan("*2\r\n*200000\r\n"), 0);
    assert_int_equal(scan("*2\r\n*200000\r\n*100000\r\n"), -EPROTO);
    assert_int_equal(scan("*2\r\n*200000\r\n*50000\r\n"), 0);

    /* a line: RESP_LINE_MAX bytes may wait for their CR, one more may not */
    char *line = malloc(RESP_LINE_MAX + 3);
    assert_non_null(line);
    memset(line, 'a', RESP_LINE_MAX + 3);
    line[0] = '+';
    struct resp_scan st = {0};
    assert_int_equal(resp_scan(&st, line, RESP_LINE_MAX + 1), 0);
    assert_int_equal(resp_scan(&st, line, RESP_LINE_MAX + 2), -EPROTO);
    free(line);

    /* the reply: a bulk that would pass RESP_REPLY_MAX is refused at its
     * header, before its body */
    size_t bulk = 1000000, nb = RESP_REPLY_MAX / bulk + 1;
    size_t cap = nb * (bulk + 32) + 32;
    char *big = malloc(cap);
    assert_non_null(big);
    size_t off = (size_t)snprintf(big, cap, "*%zu\r\n", nb);
    size_t last = 0;
    for (size_t i = 0; i < nb; i++) {
        last = off;
        off += (size_t)snprintf(big + off, cap - off, "$%zu\r\n", bulk);
        if (i + 1 < nb) {
            memset(big + off, 'x', bulk);
            off += bulk;
            memcpy(big + off, "\r\n", 2);
            off += 2;
        }
    }
    st = (struct resp_scan){0};
    assert_int_equal(resp_scan(&st, big, last), 0);
    assert_int_equal(resp_scan(&st, big, off), -EPROTO);
    free(big);
}

/* Feed msg in pieces of step bytes; check it completes and return the
 * bytes the scanner examined. */
static size_t work(const char *msg, size_t len, size_t step, struct resp **out)
{
    struct resp_scan s = {0};
    ssize_t k = 0;
    size_t n = 0;
    while (k == 0 && n < len) {
        n = n + step < len ? n + step : len;
        k = resp_scan(&s, msg, n);
    }
    assert_int_equal(k, (ssize_t)len);
    assert_int_equal(resp_tree(&s, msg, len, out), 0);
    return s.examined;
}

static void test_linear(void **state)
{
    /* 100,000 small values of every kind, in 7-byte pieces */
    size_t count = 100000, cap = count * 24 + 32;
    char *msg = malloc(cap);
    assert_non_null(msg);
    size_t len = (size_t)snprintf(msg, cap, "*%zu\r\n", count);
    for (size_t i = 0; i < count; i++) {
        switch (i % 4) {
        case 0: len += (size_t)snprintf(msg + len, cap - len, ":%zu\r\n", i); break;
        case 1: len += (size_t)snprintf(msg + len, cap - len, "$5\r\nv%04zu\r\n", i % 10000); break;
        case 2: len += (size_t)snprintf(msg + len, cap - len, "+s%zu\r\n", i); break;
        default: len += (size_t)snprintf(msg + len, cap - len, "*1\r\n$1\r\nx\r\n"); break;
        }
    }
    struct resp *r = NULL;
    size_t ex = work(msg, len, 7, &r);
    assert_true(ex <= len + 2 * (len / 7 + 1));   /* a type byte and a CR again per call */
    assert_int_equal(r->type, RESP_ARRAY);
    assert_int_equal(r->n, count);
    assert_int_equal(r->e[count - 4].i, (long long)(count - 4));
    assert_true(resp_is(&r->e[count - 3], "v9997"));
    assert_true(resp_is(&r->e[count - 2], "s99998"));
    assert_true(resp_is(&r->e[count - 1].e[0], "x"));
    free(r);
    /* fed whole, every byte is examined once at most */
    size_t whole = work(msg, len, len, &r);
    free(r);
    assert_true(whole <= len);
    free(msg);

    /* a long status line, a byte at a time */
    len = RESP_LINE_MAX - 10;
    msg = malloc(len);
    assert_non_null(msg);
    memset(msg, 's', len);
    msg[0] = '+';
    memcpy(msg + len - 2, "\r\n", 2);
    ex = work(msg, len, 1, &r);
    assert_true(ex <= 3 * len);
    assert_int_equal(r->n, len - 3);
    free(r);
    free(msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytewise),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_bounds_early),
        cmocka_unit_test(test_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
