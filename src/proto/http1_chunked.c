/* Streaming decoder for the chunked transfer coding (RFC 9112 7.1).
 *
 * Framing is byte-at-a-time through a small state machine so input may be
 * split anywhere; data runs are handed back zero-copy. Line ends inside the
 * framing must be CRLF (a lone LF or CR is refused: lenient chunk parsing is
 * a known request-smuggling vector). Extensions and trailer fields are
 * checked for syntax and size and then ignored. */
#include "ipcbox/http.h"

enum {
    CH_SIZE0,      /* first hex digit of a chunk size */
    CH_SIZE,       /* more hex digits, or the end of the size */
    CH_EXT,        /* chunk extension up to CR */
    CH_SIZE_LF,    /* LF after the size line */
    CH_DATA,       /* chunk data */
    CH_DATA_CR,    /* CR after the data */
    CH_DATA_LF,    /* LF after the data */
    CH_TRAILER0,   /* start of a trailer line (CR here ends the body) */
    CH_TRAILER,    /* inside a trailer line */
    CH_TRAILER_LF, /* LF ending a trailer line */
    CH_END_LF,     /* LF ending the body */
    CH_DONE,
};

/* Largest trailer section accepted. */
#define TRAILER_MAX 16384

static int chunk_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool ibx_http_chunked_done(const struct ibx_http_chunked *d)
{
    return d->state == CH_DONE;
}

ssize_t ibx_http_chunked_step(struct ibx_http_chunked *d, const char *in,
                              size_t len, struct ibx_http_str *data)
{
    data->p = in;
    data->n = 0;
    size_t i = 0;
    while (i < len && d->state != CH_DONE) {
        unsigned char c = (unsigned char)in[i];
        int h;
        switch (d->state) {
        case CH_DATA: {
            size_t n = len - i;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            if (i > 0)
                return (ssize_t)i;   /* framing first, data on the next call */
            data->p = in;
            data->n = n;
            d->remaining -= n;
            if (d->remaining == 0)
                d->state = CH_DATA_CR;
            return (ssize_t)n;
        }
        case CH_SIZE0:
            if ((h = chunk_hexval(c)) < 0)
                return IBX_HTTP_ERROR;
            d->remaining = (uint64_t)h;
            d->digits = 1;
            d->ext_len = 0;
            d->state = CH_SIZE;
            break;
        case CH_SIZE:
            if ((h = chunk_hexval(c)) >= 0) {
                if (++d->digits > 15)
                    return IBX_HTTP_ERROR;   /* >= 2^60: refuse */
                d->remaining = d->remaining * 16 + (uint64_t)h;
            } else if (c == '\r') {
                d->state = CH_SIZE_LF;
            } else if (c == ';' || c == ' ' || c == '\t') {
                d->state = CH_EXT;
            } else {
                return IBX_HTTP_ERROR;
            }
            break;
        case CH_EXT:
            if (c == '\r') {
                d->state = CH_SIZE_LF;
            } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return IBX_HTTP_ERROR;
            } else if (++d->ext_len > IBX_HTTP_CHUNK_EXT_MAX) {
                return IBX_HTTP_ERROR;
            }
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                return IBX_HTTP_ERROR;
            d->state = d->remaining ? CH_DATA : CH_TRAILER0;
            break;
        case CH_DATA_CR:
            if (c != '\r')
                return IBX_HTTP_ERROR;
            d->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                return IBX_HTTP_ERROR;
            d->state = CH_SIZE0;
            break;
        case CH_TRAILER0:
            if (c == '\r') {
                d->state = CH_END_LF;
                break;
            }
            if (c == ' ' || c == '\t')
                return IBX_HTTP_ERROR;   /* obs-fold */
            d->state = CH_TRAILER;
            /* fall through */
        case CH_TRAILER:
            if (++d->trailer_len > TRAILER_MAX)
                return IBX_HTTP_ERROR;
            if (c == '\r')
                d->state = CH_TRAILER_LF;
            else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f)
                return IBX_HTTP_ERROR;
            break;
        case CH_TRAILER_LF:
            if (c != '\n')
                return IBX_HTTP_ERROR;
            d->state = CH_TRAILER0;
            break;
        case CH_END_LF:
            if (c != '\n')
                return IBX_HTTP_ERROR;
            d->state = CH_DONE;
            break;
        default:
            return IBX_HTTP_ERROR;
        }
        i++;
    }
    return (ssize_t)i;
}
