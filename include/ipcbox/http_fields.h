/* ipcbox HTTP field and target helpers: request-path decoding and
 * normalisation, Range, HTTP dates, entity-tag lists, Accept-Encoding.
 * All pure functions over bytes (RFC 9110). */
#ifndef IPCBOX_HTTP_FIELDS_H
#define IPCBOX_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ipcbox/http.h"

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Decode and normalise the path of a request-target into out (cap bytes,
 * NUL-terminated). Accepts origin-form ("/a/b?q") and absolute-form
 * ("http://host/a/b?q"). The path is %-decoded exactly once; "." segments
 * are dropped, ".." removes the previous segment, repeated slashes collapse
 * and a trailing slash is kept. Refused (-EINVAL): a target not starting
 * with '/', a malformed escape, an encoded '/' (%2f), NUL (%00) or other
 * control byte, a backslash (raw or encoded), an escape that decodes to
 * '%' followed by two hex digits (double encoding), and ".." above the
 * root. -ENAMETOOLONG when out is too small. On success returns the
 * length of out and, if query is not NULL, sets it to the query string
 * (without '?'; p == NULL when absent). */
int ibx_http_path_normalize(const char *target, size_t len, char *out,
                            size_t cap, struct ibx_http_str *query);

/* One byte range, inclusive, resolved against a representation size. */
struct ibx_http_range {
    uint64_t first, last;
};

/* Ranges accepted in one request; more makes the header ignored. */
#define IBX_HTTP_MAX_RANGES 16

/* Parse a Range field value ("bytes=0-99,200-,-50") for a representation
 * of size bytes into out[max]. *status gets the response the header asks
 * for: 206 with the satisfiable ranges in out (ranges that cannot be
 * satisfied are dropped; the rest keep their order), 200 when the header
 * must be ignored (not the bytes unit, bad syntax, more than max ranges),
 * 416 when no range is satisfiable. Returns the number of ranges in out
 * (0 unless *status is 206). */
int ibx_http_range_parse(const char *v, size_t n, uint64_t size,
                         struct ibx_http_range *out, size_t max, int *status);

/* Plan the parts of a range response from ranges r[0..n) as returned by
 * ibx_http_range_parse (resolved, first <= last < size). Overlapping and
 * adjacent ranges are merged, and the merged ranges are written back to
 * r in the order in which each first appeared (RFC 9110 15.3.7.2).
 * Returns the number of parts (>= 1), or 0 when the Range header is to be
 * ignored and the whole representation sent instead (200): n is 0 or more
 * than IBX_HTTP_MAX_RANGES, or the ranges add up to more bytes than the
 * representation (overlap amplification: 16 x "0-" would send the file
 * 16 times; nginx and Apache answer 200 too). O(n^2), n is small. */
int ibx_http_range_plan(struct ibx_http_range *r, size_t n, uint64_t size);

/* Length of an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
#define IBX_HTTP_DATE_LEN 29

/* Format t (seconds since the epoch, UTC) as IMF-fixdate into buf, which
 * must hold IBX_HTTP_DATE_LEN + 1 bytes. Returns IBX_HTTP_DATE_LEN. */
size_t ibx_http_date_format(int64_t t, char *buf);

/* Parse an HTTP-date: IMF-fixdate, or the obsolete RFC 850 and asctime
 * forms (RFC 9110 5.6.7). Returns 0 and *out, or -EINVAL. */
int ibx_http_date_parse(const char *s, size_t n, int64_t *out);

/* True if the entity-tag list in v (an If-None-Match or If-Match value:
 * "*" or a comma list of [W/]"opaque") matches etag (given with quotes,
 * optionally W/-prefixed). weak selects the weak comparison (If-None-Match)
 * instead of the strong one (If-Match, If-Range). */
bool ibx_http_etag_match(const char *v, size_t n, const char *etag,
                         size_t etag_len, bool weak);

/* True if an Accept-Encoding value accepts coding (e.g. "gzip"), either
 * by name or through "*", with a q-value above 0. */
bool ibx_http_accepts(const char *v, size_t n, const char *coding);

#pragma GCC visibility pop

#endif
