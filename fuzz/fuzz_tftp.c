/* libFuzzer harness for the TFTP codec: parse any datagram; rebuild what
 * parsed and check it parses back to the same thing; run the netascii
 * translator over the input and check the round trip. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbox/tftp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Like assert(), but also active in release builds. */
#define CHECK(x) ((x) ? (void)0 : (fprintf(stderr, "check failed: %s\n", #x), abort()))

static void check_opts(const struct ibx_tftp_opts *a, const struct ibx_tftp_opts *b)
{
    CHECK(a->have == b->have);
    if (a->have & IBX_TFTP_OPT_BLKSIZE)
        CHECK(a->blksize == b->blksize);
    if (a->have & IBX_TFTP_OPT_TSIZE)
        CHECK(a->tsize == b->tsize);
    if (a->have & IBX_TFTP_OPT_TIMEOUT)
        CHECK(a->timeout == b->timeout);
    if (a->have & IBX_TFTP_OPT_WINDOWSIZE)
        CHECK(a->windowsize == b->windowsize);
}

static void roundtrip(const struct ibx_tftp_pkt *p)
{
    static uint8_t buf[IBX_TFTP_PKT_MAX + 1024];
    struct ibx_tftp_pkt q;
    int n;
    switch (p->op) {
    case IBX_TFTP_RRQ:
    case IBX_TFTP_WRQ:
        n = ibx_tftp_build_req(buf, sizeof buf, p->op, p->u.req.filename,
                               p->u.req.mode, &p->u.req.opts);
        CHECK(n > 0);
        CHECK(ibx_tftp_parse(buf, (size_t)n, &q) == 0);
        CHECK(q.op == p->op && q.u.req.mode == p->u.req.mode);
        CHECK(strcmp(q.u.req.filename, p->u.req.filename) == 0);
        check_opts(&p->u.req.opts, &q.u.req.opts);
        break;
    case IBX_TFTP_OACK:
        n = ibx_tftp_build_oack(buf, sizeof buf, &p->u.oack);
        CHECK(n >= 2);
        CHECK(ibx_tftp_parse(buf, (size_t)n, &q) == 0);
        check_opts(&p->u.oack, &q.u.oack);
        break;
    case IBX_TFTP_DATA:
        n = ibx_tftp_build_data(buf, sizeof buf, p->u.data.block,
                                p->u.data.data, p->u.data.len);
        CHECK(n == (int)p->u.data.len + IBX_TFTP_HDR);
        CHECK(ibx_tftp_parse(buf, (size_t)n, &q) == 0);
        CHECK(q.u.data.block == p->u.data.block && q.u.data.len == p->u.data.len);
        break;
    case IBX_TFTP_ACK:
        CHECK(ibx_tftp_build_ack(buf, sizeof buf, p->u.ack.block) == 4);
        CHECK(ibx_tftp_parse(buf, 4, &q) == 0 && q.u.ack.block == p->u.ack.block);
        break;
    case IBX_TFTP_ERROR:
        n = ibx_tftp_build_error(buf, sizeof buf, p->u.error.code, p->u.error.msg);
        CHECK(n >= 5);
        CHECK(ibx_tftp_parse(buf, (size_t)n, &q) == 0);
        CHECK(strcmp(q.u.error.msg, p->u.error.msg) == 0);
        break;
    }
}

static void netascii(const uint8_t *data, size_t size)
{
    if (size > 4096)
        size = 4096;
    uint8_t *enc = malloc(2 * size + 2), *dec = malloc(2 * size + 4);
    struct ibx_netascii st = {0};
    size_t elen = 0, i = 0, chunk = size ? (size_t)data[0] % 7 + 1 : 1;
    while (i < size || st.has_pending) {
        size_t used = 0, take = size - i < chunk ? size - i : chunk;
        elen += ibx_netascii_encode(&st, data + i, take, &used, enc + elen, chunk);
        i += used;
    }
    struct ibx_netascii ds = {0};
    size_t dlen = ibx_netascii_decode(&ds, enc, elen, dec);
    dlen += ibx_netascii_decode_end(&ds, dec + dlen);
    CHECK(dlen == size && memcmp(dec, data, size) == 0);
    /* decoding arbitrary bytes stays within its bound */
    struct ibx_netascii rs = {0};
    size_t r = ibx_netascii_decode(&rs, data, size, dec);
    CHECK(r <= size + 1);
    free(enc);
    free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ibx_tftp_pkt p;
    if (ibx_tftp_parse(data, size, &p) == 0)
        roundtrip(&p);
    (void)ibx_tftp_block_index(size * 40503u, (uint16_t)(size ? data[0] << 8 : 0));
    netascii(data, size);
    return 0;
}
