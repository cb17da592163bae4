/* Frame header codec and the streaming frame decoder (see
 * include/ipcbox/frame.h and docs/frame-protocol.md). Pure: no I/O, no
 * allocation. */
#include "ipcbox/frame.h"

#include <errno.h>
#include <string.h>

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

void ibx_frame_hdr_encode(uint8_t out[IBX_FRAME_HDR], uint8_t type,
                          uint32_t len)
{
    out[0] = type;
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
    out[4] = (uint8_t)(len >> 24);
    out[5] = (uint8_t)(len >> 16);
    out[6] = (uint8_t)(len >> 8);
    out[7] = (uint8_t)len;
}

static bool known_type(uint8_t t)
{
    return t >= IBX_FT_HELLO && t <= IBX_FT_PROOF;
}

int ibx_frame_hdr_decode(const uint8_t in[IBX_FRAME_HDR], uint32_t data_max,
                         struct ibx_frame_hdr *out)
{
    if (in[1] || in[2] || in[3] || !known_type(in[0]))
        return -EPROTO;
    uint32_t len = get_be32(in + 4);
    if (data_max > IBX_FRAME_DATA_MAX)
        data_max = IBX_FRAME_DATA_MAX;
    uint32_t max = in[0] == IBX_FT_DATA ? data_max : IBX_FRAME_CTRL_MAX;
    if (len > max)
        return -EMSGSIZE;
    out->type = in[0];
    out->len = len;
    return 0;
}

void ibx_frame_dec_init(struct ibx_frame_dec *dec, uint32_t data_max)
{
    dec->data_max = data_max < IBX_FRAME_DATA_MAX ? data_max : IBX_FRAME_DATA_MAX;
    dec->hdr_have = 0;
    dec->in_payload = false;
    dec->failed = false;
    dec->cur.type = 0;
    dec->cur.len = 0;
    dec->have = 0;
}

uint32_t ibx_frame_dec_data_left(const struct ibx_frame_dec *dec)
{
    if (!dec->in_payload || dec->cur.type != IBX_FT_DATA)
        return 0;
    return dec->cur.len - dec->have;
}

bool ibx_frame_dec_idle(const struct ibx_frame_dec *dec)
{
    return !dec->failed && !dec->in_payload && dec->hdr_have == 0;
}

/* Leave the payload state: the next byte starts a header. */
static void frame_done(struct ibx_frame_dec *dec)
{
    dec->in_payload = false;
    dec->hdr_have = 0;
    dec->have = 0;
}

bool ibx_frame_dec_skip(struct ibx_frame_dec *dec, uint32_t n)
{
    uint32_t left = ibx_frame_dec_data_left(dec);
    if (n > left)
        n = left;   /* contract violation; never run past the frame */
    dec->have += n;
    if (dec->in_payload && dec->cur.type == IBX_FT_DATA &&
        dec->have == dec->cur.len) {
        frame_done(dec);
        return true;
    }
    return false;
}

ssize_t ibx_frame_decode(struct ibx_frame_dec *dec, const void *in, size_t n,
                         struct ibx_frame_ev *ev)
{
    const uint8_t *p = in;
    size_t used = 0;

    memset(ev, 0, sizeof *ev);
    if (dec->failed)
        return -EPROTO;

    if (!dec->in_payload) {
        size_t want = IBX_FRAME_HDR - dec->hdr_have;
        size_t take = n < want ? n : want;
        memcpy(dec->hdr + dec->hdr_have, p, take);
        dec->hdr_have = (uint8_t)(dec->hdr_have + take);
        used += take;
        if (dec->hdr_have < IBX_FRAME_HDR)
            return (ssize_t)used;
        int r = ibx_frame_hdr_decode(dec->hdr, dec->data_max, &dec->cur);
        if (r < 0) {
            dec->failed = true;
            return r;
        }
        dec->in_payload = true;
        dec->have = 0;
    }

    uint32_t left = dec->cur.len - dec->have;
    size_t avail = n - used;
    size_t take = avail < left ? avail : left;

    if (dec->cur.type == IBX_FT_DATA) {
        ev->type = IBX_FT_DATA;
        if (take > 0) {
            /* hand out the piece; the frame end comes as its own event */
            dec->have += (uint32_t)take;
            ev->kind = IBX_FEV_DATA;
            ev->data = p + used;
            ev->len = take;
            return (ssize_t)(used + take);
        }
        if (left == 0) {
            frame_done(dec);
            ev->kind = IBX_FEV_DATA_END;
        }
        return (ssize_t)used;
    }

    memcpy(dec->ctrl + dec->have, p + used, take);
    dec->have += (uint32_t)take;
    used += take;
    if (dec->have == dec->cur.len) {
        ev->kind = IBX_FEV_FRAME;
        ev->type = dec->cur.type;
        ev->data = dec->ctrl;
        ev->len = dec->cur.len;
        frame_done(dec);
    }
    return (ssize_t)used;
}
