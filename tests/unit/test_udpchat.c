/* Unit tests for the udpchat datagram codec (ipcbox/udpchat.h): each type
 * round-trips with the documented byte layout; every malformed form is
 * refused with its error (size, magic, version, type, sender 0, nick
 * rules, text rules, body length, interval range); the encoder refuses
 * what the decoder would; the UTF-8 span stops at the first bad byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipcbox/udpchat.h"

static struct ibx_udpchat_pkt msg(const char *nick, const char *text)
{
    struct ibx_udpchat_pkt p = {
        .type = IBX_UDPCHAT_MESSAGE, .sender = 0x0102030405060708ull, .seq = 0x0a0b0c0d,
        .nick = nick, .nick_len = strlen(nick), .text = text, .text_len = strlen(text)};
    return p;
}

static void layout(void **state)
{
    unsigned char b[IBX_UDPCHAT_MAX];
    struct ibx_udpchat_pkt p = msg("alice", "hi"), q;
    int n = ibx_udpchat_encode(b, sizeof b, &p);
    assert_int_equal(n, IBX_UDPCHAT_HDR + 5 + 2);
    static const unsigned char want[] = {
        'U', 'C', 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 5,
        'a', 'l', 'i', 'c', 'e', 'h', 'i'};
    assert_memory_equal(b, want, sizeof want);
    assert_int_equal(ibx_udpchat_decode(b, (size_t)n, &q), 0);
    assert_int_equal(q.type, IBX_UDPCHAT_MESSAGE);
    assert_true(q.sender == p.sender);
    assert_int_equal(q.seq, p.seq);
    assert_int_equal(q.nick_len, 5);
    assert_memory_equal(q.nick, "alice", 5);
    assert_int_equal(q.text_len, 2);
    assert_memory_equal(q.text, "hi", 2);
    assert_ptr_equal(q.text, (const char *)b + IBX_UDPCHAT_HDR + 5);   /* points in */

    p.type = IBX_UDPCHAT_PRESENCE;
    p.interval_ms = 5000;
    n = ibx_udpchat_encode(b, sizeof b, &p);
    assert_int_equal(n, IBX_UDPCHAT_HDR + 5 + 4);
    assert_int_equal(b[3], 2);
    assert_memory_equal(b + IBX_UDPCHAT_HDR + 5, "\x00\x00\x13\x88", 4);
    assert_int_equal(ibx_udpchat_decode(b, (size_t)n, &q), 0);
    assert_int_equal(q.type, IBX_UDPCHAT_PRESENCE);
    assert_int_equal(q.interval_ms, 5000);
    assert_null(q.text);

    p.type = IBX_UDPCHAT_LEAVE;
    n = ibx_udpchat_encode(b, sizeof b, &p);
    assert_int_equal(n, IBX_UDPCHAT_HDR + 5);
    assert_int_equal(ibx_udpchat_decode(b, (size_t)n, &q), 0);
    assert_int_equal(q.type, IBX_UDPCHAT_LEAVE);
    assert_string_equal(ibx_udpchat_type_name(q.type), "leave");
    assert_string_equal(ibx_udpchat_type_name(9), "?");
}

static void limits(void **state)
{
    unsigned char b[IBX_UDPCHAT_MAX + 16];
    char nick[IBX_UDPCHAT_NICK_MAX + 2], text[IBX_UDPCHAT_TEXT_MAX + 2];
    memset(nick, 'n', sizeof nick - 1);
    nick[IBX_UDPCHAT_NICK_MAX] = '\0';
    memset(text, 't', sizeof text - 1);
    text[IBX_UDPCHAT_TEXT_MAX] = '\0';
    struct ibx_udpchat_pkt p = msg(nick, text), q;
    int n = ibx_udpchat_encode(b, sizeof b, &p);   /* the largest datagram */
    assert_true(n > 0 && n <= IBX_UDPCHAT_MAX);
    assert_int_equal(ibx_udpchat_decode(b, (size_t)n, &q), 0);
    assert_int_equal(ibx_udpchat_encode(b, (size_t)n - 1, &p), -ENOSPC);

    p.nick_len++;                                  /* 33-byte nick */
    nick[IBX_UDPCHAT_NICK_MAX] = 'n';
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);
    p = msg("a", text);
    p.text_len++;                                  /* 1025-byte text */
    text[IBX_UDPCHAT_TEXT_MAX] = 't';
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);

    /* over IBX_UDPCHAT_MAX: refused before anything else is looked at */
    memset(b, 0, sizeof b);
    assert_int_equal(ibx_udpchat_decode(b, IBX_UDPCHAT_MAX + 1, &q), -EMSGSIZE);
}

/* A valid message datagram in b; returns its length. */
static size_t good(unsigned char *b, const char *nick, const char *text)
{
    struct ibx_udpchat_pkt p = msg(nick, text);
    int n = ibx_udpchat_encode(b, IBX_UDPCHAT_MAX, &p);
    assert_true(n > 0);
    return (size_t)n;
}

static void malformed(void **state)
{
    unsigned char b[IBX_UDPCHAT_MAX];
    struct ibx_udpchat_pkt q;
    size_t n = good(b, "bob", "hello");
    assert_int_equal(ibx_udpchat_decode(b, n, &q), 0);
    for (size_t k = 0; k < IBX_UDPCHAT_HDR + 3; k++)      /* every truncation */
        assert_int_equal(ibx_udpchat_decode(b, k, &q), -EINVAL);

    b[0] = 'X';                                            /* magic */
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    n = good(b, "bob", "hello");
    b[2] = 2;                                              /* version */
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EPROTONOSUPPORT);
    n = good(b, "bob", "hello");
    b[3] = 0;                                              /* type */
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    b[3] = 4;
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    n = good(b, "bob", "hello");
    memset(b + 4, 0, 8);                                   /* sender 0 */
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    n = good(b, "bob", "hello");
    b[16] = 0;                                             /* empty nick */
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    b[16] = 200;                                           /* past the end */
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    n = good(b, "bob", "hello");
    b[16] = 8;                                             /* nick eats the text */
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    n = good(b, "bob", "hello");
    assert_int_equal(ibx_udpchat_decode(b, IBX_UDPCHAT_HDR + 3, &q), -EINVAL);   /* no text */

    /* text: NUL and malformed UTF-8 refused, controls allowed */
    n = good(b, "bob", "hello");
    b[n - 2] = '\0';
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    b[n - 2] = (char)0xc0;                                 /* overlong lead */
    assert_int_equal(ibx_udpchat_decode(b, n, &q), -EINVAL);
    n = good(b, "bob", "caf\xc3\xa9");
    assert_int_equal(ibx_udpchat_decode(b, n - 1, &q), -EINVAL);   /* cut UTF-8 */
    n = good(b, "bob", "\x1b[2J\r\n\x7f");
    assert_int_equal(ibx_udpchat_decode(b, n, &q), 0);

    /* presence body: 4 bytes in range; leave: empty */
    struct ibx_udpchat_pkt p = msg("bob", "x");
    p.type = IBX_UDPCHAT_PRESENCE;
    p.interval_ms = IBX_UDPCHAT_INTERVAL_MIN - 1;
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);
    p.interval_ms = IBX_UDPCHAT_INTERVAL_MAX + 1;
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);
    p.interval_ms = 1000;
    int m = ibx_udpchat_encode(b, sizeof b, &p);
    assert_int_equal(ibx_udpchat_decode(b, (size_t)m - 1, &q), -EINVAL);
    b[m] = 0;
    assert_int_equal(ibx_udpchat_decode(b, (size_t)m + 1, &q), -EINVAL);
    memset(b + m - 4, 0, 4);                               /* interval 0 */
    assert_int_equal(ibx_udpchat_decode(b, (size_t)m, &q), -EINVAL);
    memset(b + m - 4, 0xff, 4);
    assert_int_equal(ibx_udpchat_decode(b, (size_t)m, &q), -EINVAL);
    p.type = IBX_UDPCHAT_LEAVE;
    m = ibx_udpchat_encode(b, sizeof b, &p);
    b[m] = 'x';
    assert_int_equal(ibx_udpchat_decode(b, (size_t)m + 1, &q), -EINVAL);

    /* the encoder refuses what the decoder would */
    p = msg("bob", "x");
    p.sender = 0;
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);
    p = msg("bob", "");
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);
    p = msg("bob", "bad \xff byte");
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);
    p = msg("b b", "x");
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);
    p = msg("bob", "x");
    p.type = (enum ibx_udpchat_type)7;
    assert_int_equal(ibx_udpchat_encode(b, sizeof b, &p), -EINVAL);
}

static bool nick_ok(const char *s) { return ibx_udpchat_nick_valid(s, strlen(s)); }

static void nicks(void **state)
{
    assert_true(nick_ok("alice"));
    assert_true(nick_ok("Zoë_2"));
    assert_true(nick_ok("\xe6\x97\xa5\xe6\x9c\xac"));      /* 日本 */
    assert_true(nick_ok("a-b.c[d]{e}|f"));
    assert_true(nick_ok("12345678901234567890123456789012"));
    assert_false(nick_ok("123456789012345678901234567890123"));
    assert_false(nick_ok(""));
    assert_false(nick_ok("a b"));
    assert_false(nick_ok("a@b"));
    assert_false(nick_ok("a\tb"));
    assert_false(nick_ok("a\x1b[31m"));
    assert_false(nick_ok("a\x7f"));
    assert_false(nick_ok("a\xc2\x85"));                    /* C1 NEL */
    assert_false(nick_ok("a\xe2\x80\x8b"));                /* zero-width space */
    assert_false(nick_ok("a\xe2\x80\xae"));                /* RLO */
    assert_false(nick_ok("a\xe2\x81\xa6"));                /* LRI */
    assert_false(nick_ok("a\xe2\x80\xa8"));                /* line separator */
    assert_false(nick_ok("\xef\xbb\xbf" "a"));             /* BOM */
    assert_false(nick_ok("a\xff"));
    assert_false(nick_ok("\xc0\xaf"));                     /* overlong '/' */
    assert_false(nick_ok("\xed\xa0\x80"));                 /* surrogate */
    assert_false(nick_ok("\xf4\x90\x80\x80"));             /* past U+10FFFF */
    assert_false(ibx_udpchat_nick_valid("ab", 3));         /* the NUL */
    assert_false(ibx_udpchat_nick_valid(NULL, 0));
}

static void utf8(void **state)
{
    assert_int_equal(ibx_udpchat_utf8_span("abc", 3), 3);
    assert_int_equal(ibx_udpchat_utf8_span("ab\0c", 4), 2);
    assert_int_equal(ibx_udpchat_utf8_span("caf\xc3\xa9!", 6), 6);
    assert_int_equal(ibx_udpchat_utf8_span("caf\xc3", 4), 3);           /* cut */
    assert_int_equal(ibx_udpchat_utf8_span("x\xe2\x82", 3), 1);
    assert_int_equal(ibx_udpchat_utf8_span("\xf0\x9f\x98\x80x", 5), 5); /* emoji */
    assert_int_equal(ibx_udpchat_utf8_span("\xe0\x80\x80", 3), 0);      /* overlong */
    assert_int_equal(ibx_udpchat_utf8_span("a\x80", 2), 1);             /* lone cont. */
    assert_int_equal(ibx_udpchat_utf8_span("", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout),
        cmocka_unit_test(limits),
        cmocka_unit_test(malformed),
        cmocka_unit_test(nicks),
        cmocka_unit_test(utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
