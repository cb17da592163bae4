/* ipcbox HTTP/1.1 message syntax (RFC 9112): a stateless, restartable
 * request-head parser and a streaming chunked-body decoder.
 *
 * Both are pure: bytes in, result out, no I/O and no allocation. The
 * request parser returns the number of bytes the head occupies, or
 * IBX_HTTP_ERROR (req->status says which response to send) or
 * IBX_HTTP_INCOMPLETE (call again with more bytes; pass the previous length
 * so the terminator search resumes where it stopped). Strings in the result
 * point into the caller's buffer. Field values for the lookups and the
 * iteration helpers below (range, dates, entity tags, paths) live in
 * ipcbox/http_fields.h. */
#ifndef IPCBOX_HTTP_H
#define IPCBOX_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Longest request line (method, target, version) before 414. */
#define IBX_HTTP_MAX_REQUEST_LINE 8192
/* Longest header section (the fields after the request line) before 431. */
#define IBX_HTTP_MAX_HEADER_BYTES 16384
/* Most header fields before 431. */
#define IBX_HTTP_MAX_HEADERS 100

/* Parser results besides a byte count. */
#define IBX_HTTP_ERROR (-1)
#define IBX_HTTP_INCOMPLETE (-2)

/* A byte span inside a caller's buffer (not NUL-terminated). */
struct ibx_http_str {
    const char *p;
    size_t n;
};

/* Request methods the parser recognises; anything else is UNKNOWN. */
enum ibx_http_method {
    IBX_HTTP_UNKNOWN = 0,
    IBX_HTTP_GET,
    IBX_HTTP_HEAD,
    IBX_HTTP_POST,
    IBX_HTTP_PUT,
    IBX_HTTP_DELETE,
    IBX_HTTP_CONNECT,
    IBX_HTTP_OPTIONS,
    IBX_HTTP_TRACE,
    IBX_HTTP_PATCH,
};

/* One header field as received (value without surrounding whitespace). */
struct ibx_http_header {
    struct ibx_http_str name, value;
};

/* Request flags set by the parser. */
enum {
    IBX_HTTP_F_CLOSE = 1 << 0,       /* Connection: close */
    IBX_HTTP_F_KEEPALIVE = 1 << 1,   /* Connection: keep-alive */
    IBX_HTTP_F_CHUNKED = 1 << 2,     /* Transfer-Encoding: chunked */
    IBX_HTTP_F_LENGTH = 1 << 3,      /* Content-Length present */
    IBX_HTTP_F_CONTINUE = 1 << 4,    /* Expect: 100-continue */
};

/* A parsed request head. The well-known fields are picked out while
 * parsing (empty span when absent); every field is also in headers[]. */
struct ibx_http_request {
    struct ibx_http_str method, target;
    enum ibx_http_method meth;
    int minor;                  /* HTTP/1.minor: 0 or 1 (1.x > 1 counts as 1) */
    unsigned flags;             /* IBX_HTTP_F_* */
    uint64_t content_length;    /* valid with IBX_HTTP_F_LENGTH */
    int status;                 /* after IBX_HTTP_ERROR: 400, 414, 431, 501, 505 */
    struct ibx_http_str host, range, if_modified_since, if_unmodified_since,
        if_none_match, if_match, if_range, accept_encoding, content_type,
        user_agent, referer, expect;
    size_t nheaders;
    struct ibx_http_header headers[IBX_HTTP_MAX_HEADERS];
};

/* Parse the request head at buf[0..len). prev_len is the length given on
 * the previous call for the same request (0 the first time); bytes before
 * it are not searched again for the end of the head. Returns the head's
 * length (body bytes follow), IBX_HTTP_INCOMPLETE, or IBX_HTTP_ERROR with
 * req->status set: 400 malformed (bare CR, obs-fold, bad field syntax,
 * Content-Length with Transfer-Encoding, duplicate or invalid
 * Content-Length, missing or duplicate Host on 1.1), 414 request line too
 * long, 431 header section too large or too many fields, 501 a transfer
 * coding other than chunked, 505 HTTP major version other than 1. Empty
 * lines before the request line are skipped. */
ssize_t ibx_http_parse_request(const char *buf, size_t len, size_t prev_len,
                               struct ibx_http_request *req);

/* True if the connection stays open after this request: HTTP/1.1 unless
 * "Connection: close", HTTP/1.0 only with "Connection: keep-alive". */
bool ibx_http_keep_alive(const struct ibx_http_request *req);

/* Case-insensitive comparison of a span with a NUL-terminated string. */
bool ibx_http_str_eq(struct ibx_http_str s, const char *lit);

/* Value of the first header named name (case-insensitive), or an empty
 * span with p == NULL. */
struct ibx_http_str ibx_http_header_get(const struct ibx_http_request *req,
                                        const char *name);

/* Reason phrase of a status code ("Not Found"); "Unknown" if unlisted. */
const char *ibx_http_reason(int status);

/* Streaming decoder for the chunked transfer coding. Zero-initialise. */
struct ibx_http_chunked {
    uint8_t state;
    uint8_t digits;        /* hex digits of the current size */
    uint16_t ext_len;      /* chunk-extension bytes seen */
    uint32_t trailer_len;  /* trailer-section bytes seen */
    uint64_t remaining;    /* data bytes left in the current chunk */
};

/* Longest chunk extension accepted on one chunk line. */
#define IBX_HTTP_CHUNK_EXT_MAX 4096

/* Feed in[0..len). Consumes framing bytes and/or one run of body data, which
 * is returned in *data (pointing into in; n may be 0). Returns bytes
 * consumed (call again with the rest; 0 only when len is 0 or decoding is
 * done) or IBX_HTTP_ERROR on malformed framing (bad size, overflow, bare
 * CR, missing CRLF after data, oversized extension or trailers). */
ssize_t ibx_http_chunked_step(struct ibx_http_chunked *d, const char *in,
                              size_t len, struct ibx_http_str *data);
/* True once the last chunk and its trailer section have been consumed. */
bool ibx_http_chunked_done(const struct ibx_http_chunked *d);

#pragma GCC visibility pop

#endif
