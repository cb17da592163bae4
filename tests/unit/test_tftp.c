/* Unit tests for the TFTP packet codec and the netascii translator. */
#include <errno.h>
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

#include "ipcbox/tftp.h"

/* Copy bytes so that they end exactly at a guard page: any read past the
 * end faults under every build, not only ASan. */
struct guarded {
    uint8_t *map;
    size_t maplen;
    uint8_t *p;
};

static struct guarded guard(const void *bytes, size_t len)
{
    struct guarded g;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (len + page - 1) / page + 1;
    g.maplen = pages * page;
    g.map = mmap(NULL, g.maplen, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g.map != MAP_FAILED);
    assert_int_equal(mprotect(g.map + (pages - 1) * page, page, PROT_NONE), 0);
    g.p = g.map + (pages - 1) * page - len;
    memcpy(g.p, bytes, len);
    return g;
}

static void unguard(struct guarded *g) { munmap(g->map, g->maplen); }

static int parse_guarded(const void *bytes, size_t len, struct ibx_tftp_pkt *pkt)
{
    struct guarded g = guard(bytes, len);
    int r = ibx_tftp_parse(g.p, len, pkt);
    unguard(&g);
    /* the guarded parse caught over-reads; parse the caller's bytes again
     * so the returned pointers stay valid */
    if (r == 0)
        r = ibx_tftp_parse(bytes, len, pkt);
    return r;
}

static void test_rrq_plain(void **state)
{
    static const uint8_t pkt[] = "\0\1boot/pxelinux.0\0octet";
    struct ibx_tftp_pkt p;
    assert_int_equal(parse_guarded(pkt, sizeof pkt, &p), 0);
    assert_int_equal(p.op, IBX_TFTP_RRQ);
    assert_string_equal(p.u.req.filename, "boot/pxelinux.0");
    assert_int_equal(p.u.req.filename_len, 15);
    assert_int_equal(p.u.req.mode, IBX_TFTP_OCTET);
    assert_int_equal(p.u.req.opts.have, 0);
    assert_int_equal(p.u.req.opts.n_unknown, 0);
}

static void test_wrq_options(void **state)
{
    static const uint8_t pkt[] =
        "\0\2f.txt\0NetASCII\0BLKSIZE\0001468\0tsize\0000\0"
        "windowsize\00016\0timeout\0003\0multicast\0\0";
    struct ibx_tftp_pkt p;
    assert_int_equal(parse_guarded(pkt, sizeof pkt - 1, &p), 0);
    assert_int_equal(p.op, IBX_TFTP_WRQ);
    assert_int_equal(p.u.req.mode, IBX_TFTP_NETASCII);
    const struct ibx_tftp_opts *o = &p.u.req.opts;
    assert_int_equal(o->have, IBX_TFTP_OPT_BLKSIZE | IBX_TFTP_OPT_TSIZE |
                                  IBX_TFTP_OPT_WINDOWSIZE | IBX_TFTP_OPT_TIMEOUT);
    assert_int_equal(o->blksize, 1468);
    assert_int_equal(o->tsize, 0);
    assert_int_equal(o->windowsize, 16);
    assert_int_equal(o->timeout, 3);
    assert_int_equal(o->n_unknown, 1);
    assert_string_equal(o->unknown[0].name, "multicast");
    assert_string_equal(o->unknown[0].value, "");
}

static void test_req_malformed(void **state)
{
    struct ibx_tftp_pkt p;
    /* no mode */
    assert_int_equal(ibx_tftp_parse("\0\1file\0", 7, &p), -EINVAL);
    /* mode not terminated */
    assert_int_equal(ibx_tftp_parse("\0\1file\0octet", 12, &p), -EINVAL);
    /* empty filename */
    assert_int_equal(ibx_tftp_parse("\0\1\0octet\0", 9, &p), -EINVAL);
    /* mail mode is obsolete */
    assert_int_equal(ibx_tftp_parse("\0\1f\0mail\0", 9, &p), -EINVAL);
    /* option name without value */
    assert_int_equal(ibx_tftp_parse("\0\1f\0octet\0blksize\0", 18, &p), -EINVAL);
    /* value not terminated */
    assert_int_equal(ibx_tftp_parse("\0\1f\0octet\0blksize\0001024", 22, &p),
                     -EINVAL);
    /* duplicate known option */
    static const uint8_t dup[] = "\0\1f\0octet\0blksize\0008\0BlkSize\0009\0";
    assert_int_equal(ibx_tftp_parse(dup, sizeof dup - 1, &p), -EINVAL);
    /* garbage after NUL padding */
    static const uint8_t pad[] = "\0\1f\0octet\0\0\0x\0";
    assert_int_equal(ibx_tftp_parse(pad, sizeof pad - 1, &p), -EINVAL);
    /* NUL padding alone is fine */
    static const uint8_t pad2[] = "\0\1f\0octet\0\0\0";
    assert_int_equal(ibx_tftp_parse(pad2, sizeof pad2 - 1, &p), 0);
    /* too short, unknown opcode */
    assert_int_equal(ibx_tftp_parse("\0", 1, &p), -EINVAL);
    assert_int_equal(ibx_tftp_parse("\0\7xx", 4, &p), -EPROTO);
    assert_int_equal(ibx_tftp_parse("\0\0", 2, &p), -EPROTO);
}

static void test_bad_option_values(void **state)
{
    static const uint8_t pkt[] =
        "\0\1f\0octet\0blksize\0abc\0windowsize\0\0tsize\000"
        "99999999999999999999999\0timeout\0" "18446744073709551615\0";
    struct ibx_tftp_pkt p;
    assert_int_equal(parse_guarded(pkt, sizeof pkt - 1, &p), 0);
    const struct ibx_tftp_opts *o = &p.u.req.opts;
    assert_int_equal(o->have, IBX_TFTP_OPT_TIMEOUT);
    assert_true(o->timeout == UINT64_MAX);
    assert_int_equal(o->bad, IBX_TFTP_OPT_BLKSIZE | IBX_TFTP_OPT_WINDOWSIZE |
                                 IBX_TFTP_OPT_TSIZE);
}

static void test_many_unknown_options(void **state)
{
    uint8_t pkt[512];
    size_t n = 0;
    memcpy(pkt, "\0\1f\0octet\0", 10);
    n = 10;
    for (int i = 0; i < 12; i++) {
        n += (size_t)sprintf((char *)pkt + n, "x%d", i) + 1;
        n += (size_t)sprintf((char *)pkt + n, "%d", i) + 1;
    }
    struct ibx_tftp_pkt p;
    assert_int_equal(parse_guarded(pkt, n, &p), 0);
    assert_int_equal(p.u.req.opts.n_unknown, 12);
    assert_string_equal(p.u.req.opts.unknown[7].name, "x7");
    assert_string_equal(p.u.req.opts.unknown[7].value, "7");
}

static void test_data_ack_error(void **state)
{
    struct ibx_tftp_pkt p;
    static const uint8_t data[] = {0, 3, 0xff, 0xfe, 'a', 'b', 'c'};
    assert_int_equal(parse_guarded(data, sizeof data, &p), 0);
    assert_int_equal(p.op, IBX_TFTP_DATA);
    assert_int_equal(p.u.data.block, 0xfffe);
    assert_int_equal(p.u.data.len, 3);
    assert_memory_equal(p.u.data.data, "abc", 3);

    static const uint8_t empty[] = {0, 3, 0, 7};
    assert_int_equal(parse_guarded(empty, sizeof empty, &p), 0);
    assert_int_equal(p.u.data.len, 0);
    assert_int_equal(ibx_tftp_parse(empty, 3, &p), -EINVAL);

    static const uint8_t ack[] = {0, 4, 1, 2};
    assert_int_equal(parse_guarded(ack, sizeof ack, &p), 0);
    assert_int_equal(p.op, IBX_TFTP_ACK);
    assert_int_equal(p.u.ack.block, 0x102);
    assert_int_equal(ibx_tftp_parse(ack, 3, &p), -EINVAL);

    static const uint8_t err[] = "\0\5\0\1no such file\0";
    assert_int_equal(parse_guarded(err, sizeof err - 1, &p), 0);
    assert_int_equal(p.op, IBX_TFTP_ERROR);
    assert_int_equal(p.u.error.code, 1);
    assert_string_equal(p.u.error.msg, "no such file");

    static const uint8_t err_noterm[] = {0, 5, 0, 2, 'x', 'y'};
    assert_int_equal(parse_guarded(err_noterm, sizeof err_noterm, &p), 0);
    assert_int_equal(p.u.error.code, 2);
    assert_string_equal(p.u.error.msg, "");

    /* a DATA packet larger than the largest block is malformed */
    static uint8_t big[IBX_TFTP_PKT_MAX + 1];
    big[1] = 3;
    assert_int_equal(ibx_tftp_parse(big, sizeof big, &p), -EINVAL);
    assert_int_equal(ibx_tftp_parse(big, sizeof big - 1, &p), 0);
    assert_int_equal(p.u.data.len, IBX_TFTP_BLKSIZE_MAX);
}

static void test_build_roundtrip(void **state)
{
    uint8_t buf[600];
    struct ibx_tftp_opts o = {0};
    o.have = IBX_TFTP_OPT_BLKSIZE | IBX_TFTP_OPT_TSIZE | IBX_TFTP_OPT_WINDOWSIZE;
    o.blksize = 65464;
    o.tsize = 5000000000ULL;
    o.windowsize = 64;
    int n = ibx_tftp_build_req(buf, sizeof buf, IBX_TFTP_WRQ, "dir/a b", IBX_TFTP_NETASCII, &o);
    static const char want[] = "\0\2dir/a b\0netascii\0blksize\00065464\0"
                               "tsize\0005000000000\0windowsize\00064\0";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(buf, want, sizeof want - 1);
    struct ibx_tftp_pkt p;
    assert_int_equal(ibx_tftp_parse(buf, (size_t)n, &p), 0);
    assert_int_equal(p.u.req.opts.have, o.have);
    assert_true(p.u.req.opts.tsize == o.tsize);

    n = ibx_tftp_build_oack(buf, sizeof buf, &o);
    assert_true(n > 2);
    assert_int_equal(ibx_tftp_parse(buf, (size_t)n, &p), 0);
    assert_int_equal(p.op, IBX_TFTP_OACK);
    assert_int_equal(p.u.oack.have, o.have);
    assert_int_equal(p.u.oack.blksize, 65464);
    assert_int_equal(p.u.oack.windowsize, 64);

    /* no space */
    assert_int_equal(ibx_tftp_build_req(buf, 10, IBX_TFTP_RRQ, "abcdefgh", IBX_TFTP_OCTET, NULL), -ENOSPC);
    assert_int_equal(ibx_tftp_build_oack(buf, 12, &o), -ENOSPC);
    assert_int_equal(ibx_tftp_build_req(buf, sizeof buf, IBX_TFTP_DATA, "a", IBX_TFTP_OCTET, NULL), -EINVAL);
    assert_int_equal(ibx_tftp_build_req(buf, sizeof buf, IBX_TFTP_RRQ, "", IBX_TFTP_OCTET, NULL), -EINVAL);

    n = ibx_tftp_build_data(buf, sizeof buf, 65535, "xyz", 3);
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "\0\3\377\377xyz", 7);
    assert_int_equal(ibx_tftp_build_data(buf, 6, 1, "xyz", 3), -ENOSPC);
    assert_int_equal(ibx_tftp_build_ack(buf, sizeof buf, 513), 4);
    assert_memory_equal(buf, "\0\4\2\1", 4);
    assert_int_equal(ibx_tftp_build_ack(buf, 3, 1), -ENOSPC);

    n = ibx_tftp_build_error(buf, sizeof buf, 1, "File not found");
    assert_int_equal(n, 4 + 15);
    assert_memory_equal(buf, "\0\5\0\1File not found\0", 19);
    n = ibx_tftp_build_error(buf, 8, 2, "truncated message");
    assert_int_equal(n, 8);
    assert_memory_equal(buf, "\0\5\0\2tru\0", 8);
    assert_int_equal(ibx_tftp_build_error(buf, 4, 0, "x"), -ENOSPC);
}

static void test_block_index(void **state)
{
    assert_int_equal(ibx_tftp_block_index(0, 1), 1);
    assert_int_equal(ibx_tftp_block_index(1, 0), 0);
    assert_int_equal(ibx_tftp_block_index(0, 65535), 65535);  /* never below 0 */
    assert_int_equal(ibx_tftp_block_index(65535, 0), 65536);  /* wraps to 0 */
    assert_int_equal(ibx_tftp_block_index(65536, 65535), 65535);
    assert_int_equal(ibx_tftp_block_index(65540, 3), 65539);
    assert_int_equal(ibx_tftp_block_index(3 * 65536ULL + 10, 20), 3 * 65536ULL + 20);
    assert_int_equal(ibx_tftp_block_index(3 * 65536ULL + 10, 65500), 2 * 65536ULL + 65500);
}

static void test_names(void **state)
{
    assert_string_equal(ibx_tftp_op_name(IBX_TFTP_OACK), "OACK");
    assert_string_equal(ibx_tftp_op_name(99), "?");
    assert_string_equal(ibx_tftp_mode_name(IBX_TFTP_NETASCII), "netascii");
}

/* Encode in awkward chunk sizes, decode in others; must round-trip. */
static void roundtrip(const uint8_t *text, size_t len, size_t inchunk, size_t outcap)
{
    uint8_t *enc = malloc(2 * len + 4), *dec = malloc(2 * len + 8);
    size_t elen = 0, i = 0;
    struct ibx_netascii st = {0};
    uint8_t tmp[64];
    assert_true(outcap <= sizeof tmp);
    for (int guard_iter = 0; guard_iter < 100000; guard_iter++) {
        size_t take = len - i < inchunk ? len - i : inchunk, used = 0;
        size_t w = ibx_netascii_encode(&st, text + i, take, &used, tmp, outcap);
        memcpy(enc + elen, tmp, w);
        elen += w;
        i += used;
        if (i == len && !st.has_pending)
            break;
    }
    assert_int_equal(i, len);
    /* every CR in the encoding is followed by LF or NUL */
    for (size_t k = 0; k < elen; k++)
        if (enc[k] == '\r')
            assert_true(k + 1 < elen && (enc[k + 1] == '\n' || enc[k + 1] == 0));

    struct ibx_netascii ds = {0};
    size_t dlen = 0;
    for (size_t k = 0; k < elen; k += 3) {
        size_t take = elen - k < 3 ? elen - k : 3;
        dlen += ibx_netascii_decode(&ds, enc + k, take, dec + dlen);
    }
    dlen += ibx_netascii_decode_end(&ds, dec + dlen);
    assert_int_equal(dlen, len);
    assert_memory_equal(dec, text, len);
    free(enc);
    free(dec);
}

static void test_netascii(void **state)
{
    static const uint8_t t[] = "line1\nline2\r\nbare\rcr\r\n\n\r\r\0nul\n";
    size_t len = sizeof t - 1;
    for (size_t in = 1; in < 8; in++)
        for (size_t out = 1; out < 8; out++)
            roundtrip(t, len, in, out);

    uint8_t out[64];
    size_t used;
    struct ibx_netascii st = {0};
    size_t w = ibx_netascii_encode(&st, (const uint8_t *)"a\nb\r", 4, &used, out, sizeof out);
    assert_int_equal(used, 4);
    assert_int_equal(w, 6);
    assert_memory_equal(out, "a\r\nb\r\0", 6);

    /* a split pair is finished first on the next call */
    st = (struct ibx_netascii){0};
    w = ibx_netascii_encode(&st, (const uint8_t *)"\nx", 2, &used, out, 1);
    assert_int_equal(w, 1);
    assert_int_equal(used, 1);
    assert_true(st.has_pending);
    w = ibx_netascii_encode(&st, (const uint8_t *)"x", 1, &used, out, 8);
    assert_int_equal(w, 2);
    assert_memory_equal(out, "\nx", 2);

    /* lenient decoding of a CR before another byte */
    struct ibx_netascii ds = {0};
    w = ibx_netascii_decode(&ds, (const uint8_t *)"a\rb\r", 4, out);
    assert_int_equal(w, 3);
    assert_memory_equal(out, "a\rb", 3);
    assert_true(ds.has_pending);
    w = ibx_netascii_decode(&ds, (const uint8_t *)"\n", 1, out);
    assert_int_equal(w, 1);
    assert_int_equal(out[0], '\n');
    assert_int_equal(ibx_netascii_decode_end(&ds, out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rrq_plain),
        cmocka_unit_test(test_wrq_options),
        cmocka_unit_test(test_req_malformed),
        cmocka_unit_test(test_bad_option_values),
        cmocka_unit_test(test_many_unknown_options),
        cmocka_unit_test(test_data_ack_error),
        cmocka_unit_test(test_build_roundtrip),
        cmocka_unit_test(test_block_index),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_netascii),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
