/* Message payloads of the frame protocol (HELLO, OFFER, RESUME, END, ACK,
 * GET, LIST, ERROR) and the transfer path check. Pure: bytes in, struct
 * out, and back. All integers are big-endian. */
#include "ipcbox/frame.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* ---- little byte writer/reader ------------------------------------- */

struct wr {
    uint8_t *p;
    size_t cap, len;
    bool over;
};

static void wr_bytes(struct wr *w, const void *b, size_t n)
{
    if (w->over || w->cap - w->len < n) {
        w->over = true;
        return;
    }
    if (n)
        memcpy(w->p + w->len, b, n);
    w->len += n;
}

static void wr_u8(struct wr *w, uint8_t v) { wr_bytes(w, &v, 1); }

static void wr_be(struct wr *w, uint64_t v, unsigned size)
{
    uint8_t b[8];
    for (unsigned i = 0; i < size; i++)
        b[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
    wr_bytes(w, b, size);
}

/* Start a frame: room for the header, filled in by wr_finish. */
static void wr_start(struct wr *w, void *out, size_t cap)
{
    w->p = out;
    w->cap = cap;
    w->len = 0;
    w->over = cap < IBX_FRAME_HDR;
    if (!w->over)
        w->len = IBX_FRAME_HDR;
}

static ssize_t wr_finish(struct wr *w, uint8_t type)
{
    if (w->over)
        return -ENOBUFS;
    size_t plen = w->len - IBX_FRAME_HDR;
    if (plen > IBX_FRAME_CTRL_MAX)
        return -EINVAL;
    ibx_frame_hdr_encode(w->p, type, (uint32_t)plen);
    return (ssize_t)w->len;
}

struct rd {
    const uint8_t *p;
    size_t n, off;
    bool bad;
};

static const uint8_t *rd_bytes(struct rd *r, size_t n)
{
    if (r->bad || r->n - r->off < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *b = r->p + r->off;
    r->off += n;
    return b;
}

static uint64_t rd_be(struct rd *r, unsigned size)
{
    const uint8_t *b = rd_bytes(r, size);
    uint64_t v = 0;
    if (!b)
        return 0;
    for (unsigned i = 0; i < size; i++)
        v = v << 8 | b[i];
    return v;
}

/* The whole payload was read and nothing was short. */
static int rd_end(const struct rd *r)
{
    return r->bad || r->off != r->n ? -EPROTO : 0;
}

/* ---- algorithms and codes ------------------------------------------ */

size_t ibx_hash_algo_len(int algo)
{
    switch (algo) {
    case IBX_HASH_XXH3: return 16;
    case IBX_HASH_SHA256: return 32;
    default: return 0;
    }
}

const char *ibx_hash_algo_name(int algo)
{
    switch (algo) {
    case IBX_HASH_XXH3: return "xxh3";
    case IBX_HASH_SHA256: return "sha256";
    default: return NULL;
    }
}

int ibx_hash_algo_parse(const char *s)
{
    if (!strcasecmp(s, "xxh3") || !strcasecmp(s, "xxh128") ||
        !strcasecmp(s, "xxh3-128"))
        return IBX_HASH_XXH3;
    if (!strcasecmp(s, "sha256") || !strcasecmp(s, "sha-256"))
        return IBX_HASH_SHA256;
    return -EINVAL;
}

const char *ibx_frame_code_name(int code)
{
    switch (code) {
    case IBX_XC_OK: return "ok";
    case IBX_XC_UNCHANGED: return "unchanged";
    case IBX_XC_BAD_NAME: return "bad name";
    case IBX_XC_EXISTS: return "exists";
    case IBX_XC_TOO_BIG: return "too big";
    case IBX_XC_MISMATCH: return "hash mismatch";
    case IBX_XC_IO: return "i/o error";
    case IBX_XC_BUSY: return "busy";
    case IBX_XC_NOT_FOUND: return "not found";
    case IBX_XC_NOT_REGULAR: return "not a regular file";
    case IBX_XC_PROTOCOL: return "protocol error";
    case IBX_XC_VERSION: return "unsupported version";
    case IBX_XC_SHUTDOWN: return "shutting down";
    case IBX_XC_FRAME_SIZE: return "frame too big";
    case IBX_XC_HASH_ALGO: return "unsupported hash";
    case IBX_XC_AUTH: return "authentication";
    default: return "unknown error";
    }
}

/* ---- HELLO ----------------------------------------------------------- */

ssize_t ibx_msg_hello_encode(void *out, size_t cap,
                             const struct ibx_msg_hello *m)
{
    if ((m->flags & ~IBX_HELLO_AUTH) ||
        (m->flags && m->version < IBX_FRAME_VERSION_AUTH))
        return -EINVAL;
    struct wr w;
    wr_start(&w, out, cap);
    wr_bytes(&w, IBX_FRAME_MAGIC, 4);
    wr_be(&w, m->version, 2);
    wr_be(&w, m->flags, 2);
    wr_be(&w, m->data_max, 4);
    return wr_finish(&w, IBX_FT_HELLO);
}

int ibx_msg_hello_decode(const uint8_t *p, size_t n, struct ibx_msg_hello *m)
{
    struct rd r = {p, n, 0, false};
    const uint8_t *magic = rd_bytes(&r, 4);
    if (!magic || memcmp(magic, IBX_FRAME_MAGIC, 4) != 0)
        return -EPROTO;
    m->version = (uint16_t)rd_be(&r, 2);
    m->flags = (uint16_t)rd_be(&r, 2);
    m->data_max = (uint32_t)rd_be(&r, 4);
    if (rd_end(&r) < 0 || m->data_max < IBX_FRAME_DATA_MIN || (m->flags & ~IBX_HELLO_AUTH) ||
        (m->flags && m->version < IBX_FRAME_VERSION_AUTH))
        return -EPROTO;
    return 0;
}

/* ---- OFFER / LIST entry -------------------------------------------- */

ssize_t ibx_msg_offer_encode(void *out, size_t cap, uint8_t type,
                             const struct ibx_msg_offer *m)
{
    if ((type != IBX_FT_OFFER && type != IBX_FT_LIST) ||
        m->path_len > IBX_FRAME_PATH_MAX || m->mode > 07777 ||
        m->mtime_nsec >= 1000000000u)
        return -EINVAL;
    struct wr w;
    wr_start(&w, out, cap);
    wr_be(&w, m->size, 8);
    wr_be(&w, m->mode, 4);
    wr_be(&w, (uint64_t)m->mtime_sec, 8);
    wr_be(&w, m->mtime_nsec, 4);
    wr_u8(&w, m->algo);
    wr_u8(&w, m->flags);
    wr_be(&w, m->path_len, 2);
    wr_bytes(&w, m->path, m->path_len);
    return wr_finish(&w, type);
}

int ibx_msg_offer_decode(const uint8_t *p, size_t n, struct ibx_msg_offer *m)
{
    struct rd r = {p, n, 0, false};
    m->size = rd_be(&r, 8);
    m->mode = (uint32_t)rd_be(&r, 4);
    m->mtime_sec = (int64_t)rd_be(&r, 8);
    m->mtime_nsec = (uint32_t)rd_be(&r, 4);
    m->algo = (uint8_t)rd_be(&r, 1);
    m->flags = (uint8_t)rd_be(&r, 1);
    m->path_len = (uint16_t)rd_be(&r, 2);
    m->path = (const char *)rd_bytes(&r, m->path_len);
    if (rd_end(&r) < 0 || m->mode > 07777 || m->mtime_nsec >= 1000000000u ||
        m->path_len > IBX_FRAME_PATH_MAX || (m->size >> 63) != 0)
        return -EPROTO;
    return 0;
}

/* ---- RESUME and END ------------------------------------------------ */

static bool digest_ok(uint8_t algo, uint8_t len, bool allow_empty)
{
    if (allow_empty && len == 0)
        return true;
    size_t want = ibx_hash_algo_len(algo);
    return want != 0 && want == len;
}

ssize_t ibx_msg_resume_encode(void *out, size_t cap,
                              const struct ibx_msg_resume *m)
{
    if (!digest_ok(m->algo, m->hash_len, true))
        return -EINVAL;
    struct wr w;
    wr_start(&w, out, cap);
    wr_be(&w, m->offset, 8);
    wr_u8(&w, m->flags);
    wr_u8(&w, m->algo);
    wr_u8(&w, m->hash_len);
    wr_bytes(&w, m->hash, m->hash_len);
    return wr_finish(&w, IBX_FT_RESUME);
}

int ibx_msg_resume_decode(const uint8_t *p, size_t n, struct ibx_msg_resume *m)
{
    struct rd r = {p, n, 0, false};
    m->offset = rd_be(&r, 8);
    m->flags = (uint8_t)rd_be(&r, 1);
    m->algo = (uint8_t)rd_be(&r, 1);
    m->hash_len = (uint8_t)rd_be(&r, 1);
    if (r.bad || m->hash_len > IBX_FRAME_HASH_MAX)
        return -EPROTO;
    const uint8_t *h = rd_bytes(&r, m->hash_len);
    if (rd_end(&r) < 0 || !digest_ok(m->algo, m->hash_len, true) ||
        (m->offset > 0 && m->hash_len == 0) || (m->offset >> 63) != 0)
        return -EPROTO;
    memcpy(m->hash, h, m->hash_len);
    return 0;
}

ssize_t ibx_msg_end_encode(void *out, size_t cap, const struct ibx_msg_end *m)
{
    if (!digest_ok(m->algo, m->hash_len, false))
        return -EINVAL;
    struct wr w;
    wr_start(&w, out, cap);
    wr_u8(&w, m->algo);
    wr_u8(&w, m->hash_len);
    wr_bytes(&w, m->hash, m->hash_len);
    return wr_finish(&w, IBX_FT_END);
}

int ibx_msg_end_decode(const uint8_t *p, size_t n, struct ibx_msg_end *m)
{
    struct rd r = {p, n, 0, false};
    m->algo = (uint8_t)rd_be(&r, 1);
    m->hash_len = (uint8_t)rd_be(&r, 1);
    if (r.bad || m->hash_len > IBX_FRAME_HASH_MAX)
        return -EPROTO;
    const uint8_t *h = rd_bytes(&r, m->hash_len);
    if (rd_end(&r) < 0 || !digest_ok(m->algo, m->hash_len, false))
        return -EPROTO;
    memcpy(m->hash, h, m->hash_len);
    return 0;
}

/* ---- ACK / ERROR ----------------------------------------------------- */

ssize_t ibx_msg_status_encode(void *out, size_t cap, uint8_t type,
                              uint16_t code, const char *text)
{
    if (type != IBX_FT_ACK && type != IBX_FT_ERROR)
        return -EINVAL;
    size_t tl = text ? strnlen(text, IBX_FRAME_TEXT_MAX) : 0;
    struct wr w;
    wr_start(&w, out, cap);
    wr_be(&w, code, 2);
    wr_be(&w, tl, 2);
    /* control characters would reach a terminal at the other end */
    for (size_t i = 0; i < tl; i++) {
        uint8_t c = (uint8_t)text[i];
        wr_u8(&w, c < 0x20 || c == 0x7f ? '?' : c);
    }
    return wr_finish(&w, type);
}

int ibx_msg_status_decode(const uint8_t *p, size_t n, struct ibx_msg_status *m)
{
    struct rd r = {p, n, 0, false};
    m->code = (uint16_t)rd_be(&r, 2);
    m->text_len = (uint16_t)rd_be(&r, 2);
    m->text = (const char *)rd_bytes(&r, m->text_len);
    if (rd_end(&r) < 0 || m->text_len > IBX_FRAME_TEXT_MAX)
        return -EPROTO;
    for (size_t i = 0; i < m->text_len; i++) {
        uint8_t c = (uint8_t)m->text[i];
        if (c < 0x20 || c == 0x7f)
            return -EPROTO;
    }
    return 0;
}

/* ---- GET / LIST request -------------------------------------------- */

ssize_t ibx_msg_get_encode(void *out, size_t cap, const struct ibx_msg_get *m)
{
    if (m->path_len > IBX_FRAME_PATH_MAX)
        return -EINVAL;
    struct wr w;
    wr_start(&w, out, cap);
    wr_u8(&w, m->flags);
    wr_u8(&w, m->algo);
    wr_be(&w, m->path_len, 2);
    wr_bytes(&w, m->path, m->path_len);
    return wr_finish(&w, IBX_FT_GET);
}

int ibx_msg_get_decode(const uint8_t *p, size_t n, struct ibx_msg_get *m)
{
    struct rd r = {p, n, 0, false};
    m->flags = (uint8_t)rd_be(&r, 1);
    m->algo = (uint8_t)rd_be(&r, 1);
    m->path_len = (uint16_t)rd_be(&r, 2);
    m->path = (const char *)rd_bytes(&r, m->path_len);
    if (rd_end(&r) < 0 || m->path_len > IBX_FRAME_PATH_MAX)
        return -EPROTO;
    return 0;
}

ssize_t ibx_msg_list_req_encode(void *out, size_t cap)
{
    struct wr w;
    wr_start(&w, out, cap);
    return wr_finish(&w, IBX_FT_LIST);
}

/* ---- path check ------------------------------------------------------ */

int ibx_frame_path_check(const char *path, size_t len)
{
    if (!path || len == 0 || len > IBX_FRAME_PATH_MAX || path[0] == '/')
        return -EINVAL;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            uint8_t c = (uint8_t)path[i];
            if (c < 0x20 || c == 0x7f)
                return -EINVAL;
            if (c != '/')
                continue;
        }
        size_t clen = i - start;
        const char *comp = path + start;
        if (clen == 0 || clen > IBX_FRAME_NAME_MAX)
            return -EINVAL;
        if ((clen == 1 && comp[0] == '.') ||
            (clen == 2 && comp[0] == '.' && comp[1] == '.'))
            return -EINVAL;
        /* ".NAME.ibxpart" is the receivers' temporary name: reserved */
        if (clen > 9 && comp[0] == '.' &&
            memcmp(comp + clen - 8, ".ibxpart", 8) == 0)
            return -EINVAL;
        start = i + 1;
    }
    return 0;
}
