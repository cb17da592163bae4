/* Range (RFC 9110 14.2), entity-tag comparison (8.8.3) and Accept-Encoding
 * (12.5.3) field parsing. */
#include "ipcbox/http_fields.h"

#include <string.h>
#include <strings.h>

static const char *skip_ows(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Parse 1*DIGIT at *p; false if none or overflow. */
static bool parse_u64(const char **p, const char *e, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    while (*p < e && **p >= '0' && **p <= '9') {
        if (*p - s >= 18)
            return false;
        v = v * 10 + (uint64_t)(**p - '0');
        (*p)++;
    }
    if (*p == s)
        return false;
    *out = v;
    return true;
}

/* The ranges of v resolved against size into out[max], *nout of them;
 * false when the header is to be ignored. */
static bool parse_ranges(const char *v, size_t n, uint64_t size,
                         struct ibx_http_range *out, size_t max, size_t *nout)
{
    const char *p = v, *e = v + n;
    p = skip_ows(p, e);
    if ((size_t)(e - p) < 6 || strncasecmp(p, "bytes=", 6) != 0)
        return false;
    p += 6;
    size_t count = 0, seen = 0;
    for (;;) {
        p = skip_ows(p, e);
        if (p < e && *p == ',') {   /* empty list elements are allowed */
            p++;
            continue;
        }
        if (p == e)
            break;
        uint64_t first = 0, last = 0;
        bool suffix = false, open = false;
        if (*p == '-') {
            p++;
            suffix = true;
            if (!parse_u64(&p, e, &last))
                return false;
        } else {
            if (!parse_u64(&p, e, &first) || p == e || *p != '-')
                return false;
            p++;
            if (p < e && *p >= '0' && *p <= '9') {
                if (!parse_u64(&p, e, &last) || last < first)
                    return false;
            } else {
                open = true;
            }
        }
        p = skip_ows(p, e);
        if (p < e && *p != ',')
            return false;
        if (++seen > max)
            return false;
        /* resolve against size; drop what cannot be satisfied */
        if (suffix) {
            if (last == 0 || size == 0)
                continue;
            first = last >= size ? 0 : size - last;
            last = size - 1;
        } else {
            if (first >= size)
                continue;
            if (open || last >= size)
                last = size - 1;
        }
        out[count].first = first;
        out[count].last = last;
        count++;
    }
    if (seen == 0)
        return false;
    *nout = count;
    return true;
}

int ibx_http_range_parse(const char *v, size_t n, uint64_t size,
                         struct ibx_http_range *out, size_t max, int *status)
{
    size_t count = 0;
    if (!parse_ranges(v, n, size, out, max, &count)) {
        *status = 200;
        return 0;
    }
    *status = count ? 206 : 416;
    return (int)count;
}

int ibx_http_range_plan(struct ibx_http_range *r, size_t n, uint64_t size)
{
    if (n == 0 || n > IBX_HTTP_MAX_RANGES)
        return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].first > r[i].last || r[i].last >= size)
            return 0;   /* not resolved against size: not ours to plan */
        uint64_t len = r[i].last - r[i].first + 1;   /* <= size */
        if (len > size - total)
            return 0;   /* total + len > size, without overflow */
        total += len;
    }
    /* sort (stably, by first) a copy tagged with the original position */
    struct { struct ibx_http_range r; size_t pos; } s[IBX_HTTP_MAX_RANGES], t;
    for (size_t i = 0; i < n; i++) {
        t.r = r[i];
        t.pos = i;
        size_t j = i;
        for (; j > 0 && s[j - 1].r.first > t.r.first; j--)
            s[j] = s[j - 1];
        s[j] = t;
    }
    /* merge overlapping or adjacent neighbours; a group keeps the earliest
     * position of its members */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && s[i].r.first <= s[m - 1].r.last + 1) {
            if (s[i].r.last > s[m - 1].r.last)
                s[m - 1].r.last = s[i].r.last;
            if (s[i].pos < s[m - 1].pos)
                s[m - 1].pos = s[i].pos;
        } else {
            s[m++] = s[i];
        }
    }
    /* back to the order of first appearance */
    for (size_t i = 1; i < m; i++) {
        t = s[i];
        size_t j = i;
        for (; j > 0 && s[j - 1].pos > t.pos; j--)
            s[j] = s[j - 1];
        s[j] = t;
    }
    for (size_t i = 0; i < m; i++)
        r[i] = s[i].r;
    return (int)m;
}

/* Next entity tag in a list: W/"x" or "x". Returns false on bad syntax. */
static bool next_etag(const char **pp, const char *e, const char **tag,
                      size_t *len, bool *weak)
{
    const char *p = *pp;
    *weak = false;
    if (e - p >= 2 && p[0] == 'W' && p[1] == '/') {
        *weak = true;
        p += 2;
    }
    if (p >= e || *p != '"')
        return false;
    const char *q = memchr(p + 1, '"', (size_t)(e - p - 1));
    if (!q)
        return false;
    *tag = p;
    *len = (size_t)(q + 1 - p);
    *pp = q + 1;
    return true;
}

bool ibx_http_etag_match(const char *v, size_t n, const char *etag,
                         size_t etag_len, bool weak)
{
    const char *p = v, *e = v + n;
    bool mine_weak = etag_len >= 2 && etag[0] == 'W' && etag[1] == '/';
    const char *mine = mine_weak ? etag + 2 : etag;
    size_t mine_len = mine_weak ? etag_len - 2 : etag_len;
    p = skip_ows(p, e);
    if (e - p >= 1 && *p == '*' && skip_ows(p + 1, e) == e)
        return true;
    while (p < e) {
        p = skip_ows(p, e);
        if (p < e && *p == ',') {
            p++;
            continue;
        }
        if (p == e)
            break;
        const char *tag;
        size_t len;
        bool tag_weak;
        if (!next_etag(&p, e, &tag, &len, &tag_weak))
            return false;
        if (len == mine_len && memcmp(tag, mine, len) == 0 &&
            (weak || (!tag_weak && !mine_weak)))
            return true;
    }
    return false;
}

/* q-value of the parameters after a coding: ";q=0", ";q=0.000" are zero. */
static bool q_is_zero(const char *p, const char *e)
{
    while (p < e) {
        p = skip_ows(p, e);
        if (p < e && *p == ';') {
            p = skip_ows(p + 1, e);
            if (e - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
                p += 2;
                if (p < e && *p == '0') {
                    p++;
                    if (p < e && *p == '.')
                        p++;
                    while (p < e && *p == '0')
                        p++;
                    p = skip_ows(p, e);
                    return p == e || *p == ';';
                }
                return false;
            }
        }
        while (p < e && *p != ';')
            p++;
    }
    return false;
}

bool ibx_http_accepts(const char *v, size_t n, const char *coding)
{
    size_t clen = strlen(coding);
    const char *p = v, *e = v + n;
    int by_name = -1, by_star = -1;
    while (p < e) {
        const char *comma = memchr(p, ',', (size_t)(e - p));
        const char *ie = comma ? comma : e;
        const char *s = skip_ows(p, ie);
        const char *te = s;
        while (te < ie && *te != ';' && *te != ' ' && *te != '\t')
            te++;
        bool zero = q_is_zero(te, ie);
        if ((size_t)(te - s) == clen && strncasecmp(s, coding, clen) == 0)
            by_name = !zero;
        else if (te - s == 1 && *s == '*')
            by_star = !zero;
        p = comma ? comma + 1 : e;
    }
    if (by_name >= 0)
        return by_name;
    return by_star > 0;
}
