/* TFTP packet codec (RFC 1350, 2347, 2348, 2349, 7440): parse and build
 * every packet type. Pure: no I/O, no allocation. */
#include "ipcbox/tftp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Length of the NUL-terminated string at p within [p, end), or -1 when the
 * terminator is missing. */
static long cstr_len(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *z = memchr(p, 0, (size_t)(end - p));
    return z ? (long)(z - p) : -1;
}

/* Parse a decimal option value: 1..20 digits that fit in 64 bits. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static const struct {
    const char *name;
    unsigned bit;
} known_opts[] = {
    {"blksize", IBX_TFTP_OPT_BLKSIZE},
    {"timeout", IBX_TFTP_OPT_TIMEOUT},
    {"tsize", IBX_TFTP_OPT_TSIZE},
    {"windowsize", IBX_TFTP_OPT_WINDOWSIZE},
};

static uint64_t *opt_slot(struct ibx_tftp_opts *o, unsigned bit)
{
    switch (bit) {
    case IBX_TFTP_OPT_BLKSIZE: return &o->blksize;
    case IBX_TFTP_OPT_TIMEOUT: return &o->timeout;
    case IBX_TFTP_OPT_TSIZE: return &o->tsize;
    default: return &o->windowsize;
    }
}

static uint64_t opt_value(const struct ibx_tftp_opts *o, unsigned bit)
{
    return *opt_slot((struct ibx_tftp_opts *)o, bit);
}

/* Parse name\0value\0 pairs in [p, end). Trailing NUL padding after the
 * last pair is tolerated (some clients pad requests). */
static int parse_opts(const uint8_t *p, const uint8_t *end,
                      struct ibx_tftp_opts *o)
{
    memset(o, 0, sizeof *o);
    while (p < end) {
        if (*p == 0) {
            for (; p < end; p++)
                if (*p)
                    return -EINVAL;
            break;
        }
        long nl = cstr_len(p, end);
        if (nl < 0)
            return -EINVAL;
        const char *name = (const char *)p;
        p += nl + 1;
        if (p >= end)
            return -EINVAL;
        long vl = cstr_len(p, end);
        if (vl < 0)
            return -EINVAL;
        const char *value = (const char *)p;
        p += vl + 1;

        unsigned bit = 0;
        for (size_t i = 0; i < sizeof known_opts / sizeof known_opts[0]; i++)
            if (strcasecmp(name, known_opts[i].name) == 0)
                bit = known_opts[i].bit;
        if (!bit) {
            if (o->n_unknown < IBX_TFTP_MAX_UNKNOWN)
                o->unknown[o->n_unknown] = (struct ibx_tftp_kv){name, value};
            o->n_unknown++;
            continue;
        }
        if ((o->have | o->bad) & bit)
            return -EINVAL;   /* the same option twice is ambiguous */
        if (parse_u64(value, opt_slot(o, bit)) == 0)
            o->have |= bit;
        else
            o->bad |= bit;
    }
    return 0;
}

int ibx_tftp_parse(const void *buf, size_t len, struct ibx_tftp_pkt *out)
{
    const uint8_t *p = buf, *end = p + len;
    memset(out, 0, sizeof *out);
    if (len < 2)
        return -EINVAL;
    unsigned op = get16(p);
    p += 2;
    switch (op) {
    case IBX_TFTP_RRQ:
    case IBX_TFTP_WRQ: {
        long fl = cstr_len(p, end);
        if (fl <= 0)
            return -EINVAL;
        out->u.req.filename = (const char *)p;
        out->u.req.filename_len = (size_t)fl;
        p += fl + 1;
        long ml = cstr_len(p, end);
        if (ml <= 0)
            return -EINVAL;
        const char *mode = (const char *)p;
        if (strcasecmp(mode, "octet") == 0)
            out->u.req.mode = IBX_TFTP_OCTET;
        else if (strcasecmp(mode, "netascii") == 0)
            out->u.req.mode = IBX_TFTP_NETASCII;
        else
            return -EINVAL;
        p += ml + 1;
        if (parse_opts(p, end, &out->u.req.opts) < 0)
            return -EINVAL;
        break;
    }
    case IBX_TFTP_DATA:
        if (len < IBX_TFTP_HDR || len - IBX_TFTP_HDR > IBX_TFTP_BLKSIZE_MAX)
            return -EINVAL;
        out->u.data.block = get16(p);
        out->u.data.data = p + 2;
        out->u.data.len = len - IBX_TFTP_HDR;
        break;
    case IBX_TFTP_ACK:
        if (len < IBX_TFTP_HDR)
            return -EINVAL;
        out->u.ack.block = get16(p);
        break;
    case IBX_TFTP_ERROR: {
        if (len < IBX_TFTP_HDR)
            return -EINVAL;
        out->u.error.code = get16(p);
        p += 2;
        out->u.error.msg = cstr_len(p, end) >= 0 ? (const char *)p : "";
        break;
    }
    case IBX_TFTP_OACK:
        if (parse_opts(p, end, &out->u.oack) < 0)
            return -EINVAL;
        break;
    default:
        return -EPROTO;
    }
    out->op = (enum ibx_tftp_op)op;
    return 0;
}

/* Append s and its NUL at *pos; -ENOSPC if it does not fit. */
static int put_str(uint8_t *b, size_t cap, size_t *pos, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > cap - *pos)
        return -ENOSPC;
    memcpy(b + *pos, s, n);
    *pos += n;
    return 0;
}

static int put_opts(uint8_t *b, size_t cap, size_t *pos,
                    const struct ibx_tftp_opts *o)
{
    if (!o)
        return 0;
    for (size_t i = 0; i < sizeof known_opts / sizeof known_opts[0]; i++) {
        if (!(o->have & known_opts[i].bit))
            continue;
        char num[24];
        snprintf(num, sizeof num, "%llu",
                 (unsigned long long)opt_value(o, known_opts[i].bit));
        if (put_str(b, cap, pos, known_opts[i].name) < 0 ||
            put_str(b, cap, pos, num) < 0)
            return -ENOSPC;
    }
    return 0;
}

int ibx_tftp_build_req(void *buf, size_t cap, enum ibx_tftp_op op,
                       const char *filename, enum ibx_tftp_mode mode,
                       const struct ibx_tftp_opts *opts)
{
    uint8_t *b = buf;
    size_t pos = 2;
    if ((op != IBX_TFTP_RRQ && op != IBX_TFTP_WRQ) || !filename || !*filename)
        return -EINVAL;
    if (cap < 2)
        return -ENOSPC;
    put16(b, (uint16_t)op);
    if (put_str(b, cap, &pos, filename) < 0 ||
        put_str(b, cap, &pos, ibx_tftp_mode_name(mode)) < 0 ||
        put_opts(b, cap, &pos, opts) < 0)
        return -ENOSPC;
    return (int)pos;
}

int ibx_tftp_build_oack(void *buf, size_t cap, const struct ibx_tftp_opts *opts)
{
    uint8_t *b = buf;
    size_t pos = 2;
    if (cap < 2)
        return -ENOSPC;
    put16(b, IBX_TFTP_OACK);
    if (put_opts(b, cap, &pos, opts) < 0)
        return -ENOSPC;
    return (int)pos;
}

int ibx_tftp_put_data_hdr(void *buf, uint16_t block)
{
    uint8_t *b = buf;
    put16(b, IBX_TFTP_DATA);
    put16(b + 2, block);
    return IBX_TFTP_HDR;
}

int ibx_tftp_build_data(void *buf, size_t cap, uint16_t block,
                        const void *data, size_t len)
{
    if (len > IBX_TFTP_BLKSIZE_MAX || cap < IBX_TFTP_HDR + len)
        return -ENOSPC;
    ibx_tftp_put_data_hdr(buf, block);
    if (len)
        memcpy((uint8_t *)buf + IBX_TFTP_HDR, data, len);
    return (int)(IBX_TFTP_HDR + len);
}

int ibx_tftp_build_ack(void *buf, size_t cap, uint16_t block)
{
    uint8_t *b = buf;
    if (cap < IBX_TFTP_HDR)
        return -ENOSPC;
    put16(b, IBX_TFTP_ACK);
    put16(b + 2, block);
    return IBX_TFTP_HDR;
}

int ibx_tftp_build_error(void *buf, size_t cap, uint16_t code,
                         const char *msg)
{
    uint8_t *b = buf;
    if (cap < IBX_TFTP_HDR + 1)
        return -ENOSPC;
    put16(b, IBX_TFTP_ERROR);
    put16(b + 2, code);
    size_t n = msg ? strlen(msg) : 0;
    if (n > cap - IBX_TFTP_HDR - 1)
        n = cap - IBX_TFTP_HDR - 1;
    if (n)
        memcpy(b + IBX_TFTP_HDR, msg, n);
    b[IBX_TFTP_HDR + n] = 0;
    return (int)(IBX_TFTP_HDR + n + 1);
}

const char *ibx_tftp_op_name(unsigned op)
{
    static const char *const names[] = {"?", "RRQ", "WRQ", "DATA",
                                        "ACK", "ERROR", "OACK"};
    return op < sizeof names / sizeof names[0] ? names[op] : "?";
}

const char *ibx_tftp_mode_name(enum ibx_tftp_mode mode)
{
    return mode == IBX_TFTP_NETASCII ? "netascii" : "octet";
}

uint64_t ibx_tftp_block_index(uint64_t ref, uint16_t wire)
{
    int16_t delta = (int16_t)(uint16_t)(wire - (uint16_t)ref);
    if (delta < 0 && (uint64_t)(-(int32_t)delta) > ref)
        return ref + (uint16_t)delta;   /* would go below 0: wrap forward */
    return ref + (uint64_t)(int64_t)delta;
}

size_t ibx_netascii_encode(struct ibx_netascii *st, const uint8_t *in,
                           size_t inlen, size_t *consumed, uint8_t *out,
                           size_t outcap)
{
    size_t i = 0, o = 0;
    if (st->has_pending && o < outcap) {
        out[o++] = st->pending;
        st->has_pending = false;
    }
    while (i < inlen && o < outcap && !st->has_pending) {
        uint8_t c = in[i++];
        if (c == '\n' || c == '\r') {
            out[o++] = '\r';
            uint8_t second = c == '\n' ? '\n' : 0;
            if (o < outcap) {
                out[o++] = second;
            } else {
                st->pending = second;
                st->has_pending = true;
            }
        } else {
            out[o++] = c;
        }
    }
    *consumed = i;
    return o;
}

size_t ibx_netascii_decode(struct ibx_netascii *st, const uint8_t *in,
                           size_t inlen, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < inlen; i++) {
        uint8_t c = in[i];
        if (st->has_pending) {
            st->has_pending = false;
            if (c == '\n') {
                out[o++] = '\n';
                continue;
            }
            out[o++] = '\r';
            if (c == 0)
                continue;
        }
        if (c == '\r')
            st->has_pending = true;
        else
            out[o++] = c;
    }
    return o;
}

size_t ibx_netascii_decode_end(struct ibx_netascii *st, uint8_t *out)
{
    if (!st->has_pending)
        return 0;
    st->has_pending = false;
    out[0] = '\r';
    return 1;
}
