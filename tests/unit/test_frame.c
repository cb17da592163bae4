/* Unit tests for the frame codec: header rules, the streaming decoder fed
 * a multi-frame stream split at every position (and every pair of
 * positions), size limits, and message round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ipcbox/frame.h"

/* ---- helpers ----------------------------------------------------------- */

struct stream {
    uint8_t b[4096];
    size_t n;
};

static void put(struct stream *s, ssize_t r)
{
    assert_true(r > 0);
    s->n += (size_t)r;
}

static void put_data(struct stream *s, const void *p, uint32_t n)
{
    ibx_frame_hdr_encode(s->b + s->n, IBX_FT_DATA, n);
    memcpy(s->b + s->n + IBX_FRAME_HDR, p, n);
    s->n += IBX_FRAME_HDR + n;
}

/* A session with every frame type, two DATA frames, one of them empty. */
static void build_session(struct stream *s)
{
    s->n = 0;
    struct ibx_msg_hello h = {IBX_FRAME_VERSION, 1u << 20, 0};
    put(s, ibx_msg_hello_encode(s->b + s->n, sizeof s->b - s->n, &h));
    struct ibx_msg_offer o = {11, 0644, 1700000000, 5, IBX_HASH_XXH3, 0,
                              "dir/hello.txt", 13};
    put(s, ibx_msg_offer_encode(s->b + s->n, sizeof s->b - s->n, IBX_FT_OFFER, &o));
    struct ibx_msg_resume rs = {0};
    rs.algo = IBX_HASH_XXH3;
    put(s, ibx_msg_resume_encode(s->b + s->n, sizeof s->b - s->n, &rs));
    put_data(s, "hello ", 6);
    put_data(s, "", 0);
    put_data(s, "world", 5);
    struct ibx_msg_end e = {IBX_HASH_XXH3, 16, {0}};
    for (int i = 0; i < 16; i++)
        e.hash[i] = (uint8_t)(0xa0 + i);
    put(s, ibx_msg_end_encode(s->b + s->n, sizeof s->b - s->n, &e));
    put(s, ibx_msg_status_encode(s->b + s->n, sizeof s->b - s->n, IBX_FT_ACK,
                                 IBX_XC_OK, "stored"));
    struct ibx_msg_get g = {0, IBX_HASH_SHA256, "a/b", 3};
    put(s, ibx_msg_get_encode(s->b + s->n, sizeof s->b - s->n, &g));
    put(s, ibx_msg_list_req_encode(s->b + s->n, sizeof s->b - s->n));
    put(s, ibx_msg_status_encode(s->b + s->n, sizeof s->b - s->n, IBX_FT_ERROR,
                                 IBX_XC_SHUTDOWN, "bye"));
}

/* The canonical log of what a decoder produced: control frames with their
 * payload, DATA frames with their reassembled payload. */
struct log {
    char s[16384];
    size_t n;
    uint8_t data[256];
    size_t data_n;
};

static void log_add(struct log *l, const char *tag, uint8_t type,
                    const uint8_t *p, size_t n)
{
    l->n += (size_t)snprintf(l->s + l->n, sizeof l->s - l->n, "%s%u:", tag, type);
    for (size_t i = 0; i < n; i++)
        l->n += (size_t)snprintf(l->s + l->n, sizeof l->s - l->n, "%02x", p[i]);
    l->n += (size_t)snprintf(l->s + l->n, sizeof l->s - l->n, ";");
    assert_true(l->n < sizeof l->s - 1);
}

/* Feed one piece, draining every event. Returns 0 or the decoder error. */
static int feed(struct ibx_frame_dec *d, struct log *l, const uint8_t *p,
                size_t n)
{
    for (int guard = 0; guard < 100000; guard++) {
        struct ibx_frame_ev ev;
        ssize_t r = ibx_frame_decode(d, p, n, &ev);
        if (r < 0)
            return (int)r;
        assert_true((size_t)r <= n);
        p += r;
        n -= (size_t)r;
        switch (ev.kind) {
        case IBX_FEV_FRAME:
            log_add(l, "F", ev.type, ev.data, ev.len);
            break;
        case IBX_FEV_DATA:
            assert_true(ev.len > 0);
            assert_true(l->data_n + ev.len <= sizeof l->data);
            memcpy(l->data + l->data_n, ev.data, ev.len);
            l->data_n += ev.len;
            break;
        case IBX_FEV_DATA_END:
            log_add(l, "D", ev.type, l->data, l->data_n);
            l->data_n = 0;
            break;
        case IBX_FEV_NONE:
            if (r == 0)
                return 0;
            break;
        }
    }
    fail_msg("decoder did not settle");
    return -1;
}

static void decode_pieces(const struct stream *s, const size_t *cuts,
                          size_t ncuts, struct log *l)
{
    struct ibx_frame_dec d;
    ibx_frame_dec_init(&d, 1u << 20);
    memset(l, 0, sizeof *l);
    size_t prev = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : s->n;
        /* copy the piece out so that reads past it are caught by ASan */
        uint8_t *piece = malloc(end - prev + 1);
        assert_non_null(piece);
        memcpy(piece, s->b + prev, end - prev);
        assert_int_equal(feed(&d, l, piece, end - prev), 0);
        free(piece);
        prev = end;
    }
    assert_true(ibx_frame_dec_idle(&d));
}

/* ---- tests ----------------------------------------------------------- */

static void test_every_split(void **state)
{
    (void)state;
    struct stream s;
    build_session(&s);
    struct log whole, l;
    decode_pieces(&s, NULL, 0, &whole);
    /* 8 control frames + 3 DATA frames, the DATA payload intact */
    size_t frames = 0;
    for (size_t i = 0; i < whole.n; i++)
        frames += whole.s[i] == ';';
    assert_int_equal(frames, 11);
    assert_non_null(strstr(whole.s, "D4:68656c6c6f20;D4:;D4:776f726c64;"));

    for (size_t a = 0; a <= s.n; a++) {
        size_t cut[1] = {a};
        decode_pieces(&s, cut, 1, &l);
        assert_string_equal(l.s, whole.s);
    }
    for (size_t a = 0; a <= s.n; a++)
        for (size_t b = a; b <= s.n; b++) {
            size_t cut[2] = {a, b};
            decode_pieces(&s, cut, 2, &l);
            assert_string_equal(l.s, whole.s);
        }
    /* one byte at a time */
    size_t *cuts = malloc(s.n * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t i = 0; i < s.n; i++)
        cuts[i] = i;
    decode_pieces(&s, cuts, s.n, &l);
    assert_string_equal(l.s, whole.s);
    free(cuts);
}

static void test_header_rules(void **state)
{
    (void)state;
    uint8_t h[IBX_FRAME_HDR];
    struct ibx_frame_hdr out;
    ibx_frame_hdr_encode(h, IBX_FT_OFFER, 42);
    assert_memory_equal(h, "\x02\x00\x00\x00\x00\x00\x00\x2a", 8);
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), 0);
    assert_int_equal(out.type, IBX_FT_OFFER);
    assert_int_equal(out.len, 42);
    h[1] = 1;   /* flags must be zero */
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), -EPROTO);
    h[1] = 0;
    h[3] = 1;   /* reserved must be zero */
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), -EPROTO);
    ibx_frame_hdr_encode(h, 0, 0);
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), -EPROTO);
    ibx_frame_hdr_encode(h, 0x0c, 0);   /* 0x0a, 0x0b: CHALLENGE, PROOF (v2) */
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), -EPROTO);
    /* limits: control frames at IBX_FRAME_CTRL_MAX, DATA at data_max */
    ibx_frame_hdr_encode(h, IBX_FT_ACK, IBX_FRAME_CTRL_MAX);
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), 0);
    ibx_frame_hdr_encode(h, IBX_FT_ACK, IBX_FRAME_CTRL_MAX + 1);
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), -EMSGSIZE);
    ibx_frame_hdr_encode(h, IBX_FT_DATA, 100);
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), 0);
    ibx_frame_hdr_encode(h, IBX_FT_DATA, 101);
    assert_int_equal(ibx_frame_hdr_decode(h, 100, &out), -EMSGSIZE);
    ibx_frame_hdr_encode(h, IBX_FT_DATA, 0xffffffffu);
    assert_int_equal(ibx_frame_hdr_decode(h, 0xffffffffu, &out), -EMSGSIZE);
}

static void test_decoder_limits_sticky(void **state)
{
    (void)state;
    struct ibx_frame_dec d;
    struct ibx_frame_ev ev;
    uint8_t h[IBX_FRAME_HDR];
    ibx_frame_dec_init(&d, 4096);
    ibx_frame_hdr_encode(h, IBX_FT_DATA, 4097);
    /* the error appears exactly when the last header byte arrives */
    assert_int_equal(ibx_frame_decode(&d, h, 7, &ev), 7);
    assert_int_equal(ev.kind, IBX_FEV_NONE);
    assert_int_equal(ibx_frame_decode(&d, h + 7, 1, &ev), -EMSGSIZE);
    /* and stays: the stream cannot be resynchronised */
    ibx_frame_hdr_encode(h, IBX_FT_LIST, 0);
    assert_int_equal(ibx_frame_decode(&d, h, 8, &ev), -EPROTO);
    assert_false(ibx_frame_dec_idle(&d));
    /* init caps data_max at the protocol maximum */
    ibx_frame_dec_init(&d, 0xffffffffu);
    assert_int_equal(d.data_max, IBX_FRAME_DATA_MAX);
}

static void test_decoder_skip(void **state)
{
    (void)state;
    struct ibx_frame_dec d;
    struct ibx_frame_ev ev;
    uint8_t b[64];
    ibx_frame_dec_init(&d, 1024);
    ibx_frame_hdr_encode(b, IBX_FT_DATA, 10);
    memcpy(b + 8, "0123456789", 10);
    ibx_frame_hdr_encode(b + 18, IBX_FT_LIST, 0);
    /* header plus 3 payload bytes arrive in memory ... */
    assert_int_equal(ibx_frame_decode(&d, b, 11, &ev), 11);
    assert_int_equal(ev.kind, IBX_FEV_DATA);
    assert_int_equal(ev.len, 3);
    assert_memory_equal(ev.data, "012", 3);
    assert_int_equal(ibx_frame_dec_data_left(&d), 7);
    /* ... the rest is spliced by the caller */
    assert_false(ibx_frame_dec_skip(&d, 6));
    assert_int_equal(ibx_frame_dec_data_left(&d), 1);
    assert_true(ibx_frame_dec_skip(&d, 5));   /* clamped to the frame */
    assert_true(ibx_frame_dec_idle(&d));
    assert_int_equal(ibx_frame_decode(&d, b + 18, 8, &ev), 8);
    assert_int_equal(ev.kind, IBX_FEV_FRAME);
    assert_int_equal(ev.type, IBX_FT_LIST);
    assert_int_equal(ev.len, 0);
    /* skip outside a DATA frame does nothing */
    assert_false(ibx_frame_dec_skip(&d, 3));
    assert_true(ibx_frame_dec_idle(&d));
}

static void test_messages_roundtrip(void **state)
{
    (void)state;
    uint8_t b[IBX_FRAME_HDR + IBX_FRAME_CTRL_MAX];
    ssize_t n;

    struct ibx_msg_hello h = {IBX_FRAME_VERSION, 123456, 0}, h2;
    n = ibx_msg_hello_encode(b, sizeof b, &h);
    assert_int_equal(n, 8 + 12);
    assert_int_equal(ibx_msg_hello_decode(b + 8, (size_t)n - 8, &h2), 0);
    assert_int_equal(h2.version, 1);
    assert_int_equal(h2.data_max, 123456);
    b[8] = 'X';
    assert_int_equal(ibx_msg_hello_decode(b + 8, (size_t)n - 8, &h2), -EPROTO);
    /* a DATA maximum below IBX_FRAME_DATA_MIN is refused */
    h.data_max = IBX_FRAME_DATA_MIN - 1;
    n = ibx_msg_hello_encode(b, sizeof b, &h);
    assert_int_equal(ibx_msg_hello_decode(b + 8, (size_t)n - 8, &h2), -EPROTO);
    h.data_max = IBX_FRAME_DATA_MIN;
    n = ibx_msg_hello_encode(b, sizeof b, &h);
    assert_int_equal(ibx_msg_hello_decode(b + 8, (size_t)n - 8, &h2), 0);

    struct ibx_msg_offer o = {(1ull << 40) + 7, 0755, -5, 999999999,
                              IBX_HASH_SHA256, IBX_OFFER_OVERWRITE, "x/y", 3}, o2;
    n = ibx_msg_offer_encode(b, sizeof b, IBX_FT_OFFER, &o);
    assert_true(n > 0);
    assert_int_equal(ibx_msg_offer_decode(b + 8, (size_t)n - 8, &o2), 0);
    assert_true(o2.size == o.size && o2.mode == 0755 && o2.mtime_sec == -5 &&
                o2.mtime_nsec == 999999999 && o2.algo == IBX_HASH_SHA256 &&
                o2.flags == IBX_OFFER_OVERWRITE && o2.path_len == 3);
    assert_memory_equal(o2.path, "x/y", 3);
    /* truncated and overlong payloads are refused */
    assert_int_equal(ibx_msg_offer_decode(b + 8, (size_t)n - 9, &o2), -EPROTO);
    assert_int_equal(ibx_msg_offer_decode(b + 8, (size_t)n - 7, &o2), -EPROTO);
    o.mode = 010000;
    assert_int_equal(ibx_msg_offer_encode(b, sizeof b, IBX_FT_OFFER, &o), -EINVAL);
    assert_int_equal(ibx_msg_offer_encode(b, 10, IBX_FT_LIST, &o), -EINVAL);
    o.mode = 0644;
    assert_int_equal(ibx_msg_offer_encode(b, 10, IBX_FT_LIST, &o), -ENOBUFS);

    struct ibx_msg_resume r = {77, IBX_RESUME_EXISTING, IBX_HASH_XXH3, 16, {0}}, r2;
    memset(r.hash, 0x5a, 16);
    n = ibx_msg_resume_encode(b, sizeof b, &r);
    assert_int_equal(ibx_msg_resume_decode(b + 8, (size_t)n - 8, &r2), 0);
    assert_true(r2.offset == 77 && r2.flags == IBX_RESUME_EXISTING &&
                r2.hash_len == 16);
    assert_memory_equal(r2.hash, r.hash, 16);
    r.hash_len = 32;   /* wrong digest length for XXH3 */
    assert_int_equal(ibx_msg_resume_encode(b, sizeof b, &r), -EINVAL);
    r.hash_len = 0;    /* an offset needs a prefix hash */
    n = ibx_msg_resume_encode(b, sizeof b, &r);
    assert_int_equal(ibx_msg_resume_decode(b + 8, (size_t)n - 8, &r2), -EPROTO);

    struct ibx_msg_end e = {IBX_HASH_SHA256, 32, {0}}, e2;
    memset(e.hash, 0xee, 32);
    n = ibx_msg_end_encode(b, sizeof b, &e);
    assert_int_equal(ibx_msg_end_decode(b + 8, (size_t)n - 8, &e2), 0);
    assert_memory_equal(e2.hash, e.hash, 32);
    e.algo = 9;
    assert_int_equal(ibx_msg_end_encode(b, sizeof b, &e), -EINVAL);

    struct ibx_msg_status st;
    n = ibx_msg_status_encode(b, sizeof b, IBX_FT_ERROR, IBX_XC_VERSION,
                              "bad\nline");
    assert_int_equal(ibx_msg_status_decode(b + 8, (size_t)n - 8, &st), 0);
    assert_int_equal(st.code, IBX_XC_VERSION);
    assert_int_equal(st.text_len, 8);
    assert_memory_equal(st.text, "bad?line", 8);   /* control chars masked */
    b[12] = '\n';
    assert_int_equal(ibx_msg_status_decode(b + 8, (size_t)n - 8, &st), -EPROTO);

    struct ibx_msg_get g = {IBX_OFFER_OVERWRITE, IBX_HASH_XXH3, "f", 1}, g2;
    n = ibx_msg_get_encode(b, sizeof b, &g);
    assert_int_equal(ibx_msg_get_decode(b + 8, (size_t)n - 8, &g2), 0);
    assert_true(g2.flags == IBX_OFFER_OVERWRITE && g2.path_len == 1 &&
                g2.path[0] == 'f');
}

static void test_path_check(void **state)
{
    (void)state;
    static const char *good[] = {"a", "a/b/c.txt", ".hidden", "..a", "a..",
                                 "a/.b", "x y", "\xc3\xa9t\xc3\xa9", "...",
                                 ".ibxpart", "a.ibxpart"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(ibx_frame_path_check(good[i], strlen(good[i])), 0);
    static const char *bad[] = {"", "/etc/passwd", "..", "../x", "a/../b",
                                "a/..", ".", "./a", "a/./b", "a//b", "a/",
                                "a\nb", "a\tb", "a\x7f", "\x1b[31m",
                                ".x.ibxpart", "d/.f.ibxpart"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ibx_frame_path_check(bad[i], strlen(bad[i])), -EINVAL);
    /* NUL inside the counted name */
    assert_int_equal(ibx_frame_path_check("a\0b", 3), -EINVAL);
    /* component and total length limits */
    char longc[IBX_FRAME_NAME_MAX + 2];
    memset(longc, 'x', sizeof longc);
    assert_int_equal(ibx_frame_path_check(longc, IBX_FRAME_NAME_MAX), 0);
    assert_int_equal(ibx_frame_path_check(longc, IBX_FRAME_NAME_MAX + 1), -EINVAL);
    char *longp = malloc(IBX_FRAME_PATH_MAX + 2);
    assert_non_null(longp);
    for (size_t i = 0; i < IBX_FRAME_PATH_MAX + 1; i++)
        longp[i] = i % 100 == 99 ? '/' : 'p';
    assert_int_equal(ibx_frame_path_check(longp, IBX_FRAME_PATH_MAX), 0);
    assert_int_equal(ibx_frame_path_check(longp, IBX_FRAME_PATH_MAX + 1), -EINVAL);
    free(longp);
}

static void test_algo_names(void **state)
{
    (void)state;
    assert_int_equal(ibx_hash_algo_parse("xxh3"), IBX_HASH_XXH3);
    assert_int_equal(ibx_hash_algo_parse("SHA256"), IBX_HASH_SHA256);
    assert_int_equal(ibx_hash_algo_parse("md5"), -EINVAL);
    assert_int_equal(ibx_hash_algo_len(IBX_HASH_XXH3), 16);
    assert_int_equal(ibx_hash_algo_len(IBX_HASH_SHA256), 32);
    assert_int_equal(ibx_hash_algo_len(0), 0);
    assert_string_equal(ibx_frame_code_name(IBX_XC_MISMATCH), "hash mismatch");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_header_rules),
        cmocka_unit_test(test_decoder_limits_sticky),
        cmocka_unit_test(test_decoder_skip),
        cmocka_unit_test(test_messages_roundtrip),
        cmocka_unit_test(test_path_check),
        cmocka_unit_test(test_algo_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
