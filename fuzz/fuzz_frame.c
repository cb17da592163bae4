/* libFuzzer harness for the frame codec: the input is decoded whole and
 * again cut into pieces at positions taken from the input itself; both
 * runs must yield the same events. Every control payload goes through its
 * message decoder, and whatever decodes must re-encode to the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipcbox/frame.h"
#include "ipcbox/frame_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A running digest of the events (cheap to compare, covers every byte). */
struct trace {
    uint64_t h;
    size_t frames;
    int err;
};

/* tag 0 mixes bytes only, so DATA pieces hash the same however split */
static void mix(struct trace *t, const uint8_t *p, size_t n, uint64_t tag)
{
    if (tag)
        t->h = (t->h ^ tag) * 0x100000001b3ull;
    for (size_t i = 0; i < n; i++)
        t->h = (t->h ^ p[i]) * 0x100000001b3ull;
}

/* Oracle for the path check: whatever it accepts is relative, has no
 * "." or ".." component, no empty component and no control byte. */
static void check_path(const char *p, size_t n)
{
    if (ibx_frame_path_check(p, n) != 0)
        return;
    if (n == 0 || p[0] == '/' || p[n - 1] == '/')
        abort();
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && ((unsigned char)p[i] < 0x20 || p[i] == 0x7f))
            abort();
        if (i < n && p[i] != '/')
            continue;
        size_t len = i - start;
        if (len == 0 || (len == 1 && p[start] == '.') ||
            (len == 2 && p[start] == '.' && p[start + 1] == '.'))
            abort();
        start = i + 1;
    }
}

static void check_roundtrip(uint8_t type, const uint8_t *p, size_t n)
{
    uint8_t out[IBX_FRAME_HDR + IBX_FRAME_CTRL_MAX];
    ssize_t r = -1;
    switch (type) {
    case IBX_FT_HELLO: {
        struct ibx_msg_hello m;
        if (ibx_msg_hello_decode(p, n, &m) == 0)
            r = ibx_msg_hello_encode(out, sizeof out, &m);
        break;
    }
    case IBX_FT_OFFER:
    case IBX_FT_LIST: {
        struct ibx_msg_offer m;
        if (n == 0 && type == IBX_FT_LIST)
            r = ibx_msg_list_req_encode(out, sizeof out);
        else if (ibx_msg_offer_decode(p, n, &m) == 0) {
            check_path(m.path, m.path_len);
            r = ibx_msg_offer_encode(out, sizeof out, type, &m);
        }
        break;
    }
    case IBX_FT_RESUME: {
        struct ibx_msg_resume m;
        if (ibx_msg_resume_decode(p, n, &m) == 0)
            r = ibx_msg_resume_encode(out, sizeof out, &m);
        break;
    }
    case IBX_FT_END: {
        struct ibx_msg_end m;
        if (ibx_msg_end_decode(p, n, &m) == 0)
            r = ibx_msg_end_encode(out, sizeof out, &m);
        break;
    }
    case IBX_FT_ACK:
    case IBX_FT_ERROR: {
        struct ibx_msg_status m;
        if (ibx_msg_status_decode(p, n, &m) == 0) {
            char text[IBX_FRAME_TEXT_MAX + 1];
            memcpy(text, m.text, m.text_len);
            text[m.text_len] = '\0';
            /* a NUL inside the text ends it early: skip the comparison */
            if (strlen(text) != m.text_len)
                return;
            r = ibx_msg_status_encode(out, sizeof out, type, m.code, text);
        }
        break;
    }
    case IBX_FT_GET: {
        struct ibx_msg_get m;
        if (ibx_msg_get_decode(p, n, &m) == 0) {
            check_path(m.path, m.path_len);
            r = ibx_msg_get_encode(out, sizeof out, &m);
        }
        break;
    }
    case IBX_FT_CHALLENGE: {
        struct ibx_msg_challenge m;
        if (ibx_msg_challenge_decode(p, n, &m) == 0)
            r = ibx_msg_challenge_encode(out, sizeof out, &m);
        break;
    }
    case IBX_FT_PROOF: {
        struct ibx_msg_proof m;
        if (ibx_msg_proof_decode(p, n, &m) == 0)
            r = ibx_msg_proof_encode(out, sizeof out, &m);
        break;
    }
    default:
        break;
    }
    if (r < 0)
        return;
    if ((size_t)r != IBX_FRAME_HDR + n || memcmp(out + IBX_FRAME_HDR, p, n) != 0)
        abort();   /* decode and encode disagree */
}

static void run(const uint8_t *data, size_t size, const size_t *cuts,
                size_t ncuts, struct trace *t, int check)
{
    static struct ibx_frame_dec dec;   /* 8 KiB: keep it off the stack */
    ibx_frame_dec_init(&dec, 4096);
    memset(t, 0, sizeof *t);
    size_t prev = 0;
    for (size_t c = 0; c <= ncuts && !t->err; c++) {
        size_t end = c < ncuts ? cuts[c] : size;
        const uint8_t *p = data + prev;
        size_t n = end - prev;
        for (int guard = 0; guard < 1 << 20; guard++) {
            struct ibx_frame_ev ev;
            ssize_t r = ibx_frame_decode(&dec, p, n, &ev);
            if (r < 0) {
                t->err = (int)r;
                break;
            }
            if ((size_t)r > n)
                abort();
            p += r;
            n -= (size_t)r;
            if (ev.kind == IBX_FEV_FRAME) {
                mix(t, ev.data, ev.len, 0x100u + ev.type);
                t->frames++;
                if (check)
                    check_roundtrip(ev.type, ev.data, ev.len);
            } else if (ev.kind == IBX_FEV_DATA) {
                mix(t, ev.data, ev.len, 0);
            } else if (ev.kind == IBX_FEV_DATA_END) {
                mix(t, NULL, 0, 0x200);
                t->frames++;
            } else if (r == 0) {
                break;
            }
        }
        prev = end;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct trace whole, split;
    check_path((const char *)data, size < IBX_FRAME_PATH_MAX ? size : IBX_FRAME_PATH_MAX);
    run(data, size, NULL, 0, &whole, 1);
    size_t cuts[8], ncuts = 0;
    /* cut positions from the first bytes, sorted by construction */
    size_t pos = 0;
    for (size_t i = 0; i < 8 && i < size; i++) {
        pos += data[i] % 32;
        if (pos > size)
            break;
        cuts[ncuts++] = pos;
    }
    run(data, size, cuts, ncuts, &split, 0);
    if (whole.h != split.h || whole.frames != split.frames ||
        whole.err != split.err)
        abort();   /* splitting the stream changed what was decoded */
    return 0;
}
