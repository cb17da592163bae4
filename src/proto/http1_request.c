/* HTTP/1.1 request-head parser (RFC 9112 sections 2-3, 5-6).
 *
 * Stateless and restartable: each call first looks for the end of the head
 * (resuming the search near prev_len) and only parses once the whole head
 * is present, so a slow client costs a short memchr per read, not a
 * re-parse. Anything a request-smuggling attack relies on is refused:
 * bare CR, obs-fold, whitespace before the colon, Content-Length together
 * with Transfer-Encoding, duplicate or non-decimal Content-Length, a
 * transfer coding list that does not end in exactly one "chunked". */
#include "ipcbox/http.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 5.6.2): the characters of a token. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* A byte allowed in a field value: HTAB, SP, VCHAR, obs-text. */
static inline bool value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* A byte allowed in a request-target: VCHAR or obs-text (no SP, no CTL). */
static inline bool target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

bool ibx_http_str_eq(struct ibx_http_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

static bool name_is(const struct ibx_http_str *name, const char *lit, size_t n)
{
    return name->n == n && strncasecmp(name->p, lit, n) == 0;
}

struct ibx_http_str ibx_http_header_get(const struct ibx_http_request *req,
                                        const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (name_is(&req->headers[i].name, name, n))
            return req->headers[i].value;
    return (struct ibx_http_str){NULL, 0};
}

bool ibx_http_keep_alive(const struct ibx_http_request *req)
{
    if (req->flags & IBX_HTTP_F_CLOSE)
        return false;
    return req->minor >= 1 || (req->flags & IBX_HTTP_F_KEEPALIVE);
}

/* Next element of a comma-separated list at *p..end, trimmed of OWS.
 * Returns false at the end of the list. Empty elements are returned as
 * empty spans (the caller decides whether they matter). */
static bool list_next(const char **p, const char *end, struct ibx_http_str *out)
{
    const char *s = *p;
    if (s >= end)
        return false;
    const char *comma = memchr(s, ',', (size_t)(end - s));
    const char *e = comma ? comma : end;
    *p = comma ? comma + 1 : end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    out->p = s;
    out->n = (size_t)(e - s);
    return true;
}

static int set_once(struct ibx_http_str *slot, struct ibx_http_str v)
{
    if (slot->p)
        return 400;   /* a field that must appear once appeared twice */
    *slot = v;
    return 0;
}

/* Host: uri-host [ ":" port ]; refuse what could never be one. */
static bool host_valid(struct ibx_http_str v)
{
    if (v.n == 0 || v.n > 255)
        return v.n == 0;   /* empty Host is allowed (RFC 9110 7.2) */
    for (size_t i = 0; i < v.n; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (!(tchar[c] || c == ':' || c == '[' || c == ']') || c == '|' ||
            c == '`' || c == '^' || c == '#')
            return false;
    }
    return true;
}

static int parse_content_length(struct ibx_http_request *req,
                                struct ibx_http_str v)
{
    if (req->flags & IBX_HTTP_F_LENGTH)
        return 400;   /* duplicate, even with the same value */
    if (v.n == 0 || v.n > 18)
        return 400;
    uint64_t n = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return 400;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    req->content_length = n;
    req->flags |= IBX_HTTP_F_LENGTH;
    return 0;
}

static int parse_transfer_encoding(struct ibx_http_request *req,
                                   struct ibx_http_str v)
{
    const char *p = v.p, *end = v.p + v.n;
    struct ibx_http_str coding;
    bool any = false;
    while (list_next(&p, end, &coding)) {
        if (coding.n == 0)
            continue;
        any = true;
        if (req->flags & IBX_HTTP_F_CHUNKED)
            return 400;   /* chunked must be the last coding, once */
        if (ibx_http_str_eq(coding, "chunked"))
            req->flags |= IBX_HTTP_F_CHUNKED;
        else
            return 501;   /* gzip, deflate ...: not implemented */
    }
    return any ? 0 : 400;
}

static void parse_connection(struct ibx_http_request *req, struct ibx_http_str v)
{
    const char *p = v.p, *end = v.p + v.n;
    struct ibx_http_str opt;
    while (list_next(&p, end, &opt)) {
        if (ibx_http_str_eq(opt, "close"))
            req->flags |= IBX_HTTP_F_CLOSE;
        else if (ibx_http_str_eq(opt, "keep-alive"))
            req->flags |= IBX_HTTP_F_KEEPALIVE;
    }
}

/* Pick out the fields the server acts on. Returns 0 or an error status. */
static int known_field(struct ibx_http_request *req, struct ibx_http_str name,
                       struct ibx_http_str v)
{
    switch (name.n) {
    case 4:
        if (name_is(&name, "host", 4)) {
            if (!host_valid(v))
                return 400;
            if (req->host.p)
                return 400;
            req->host = v;
        }
        break;
    case 5:
        if (name_is(&name, "range", 5))
            return set_once(&req->range, v);
        break;
    case 6:
        if (name_is(&name, "expect", 6)) {
            req->expect = v;
            if (ibx_http_str_eq(v, "100-continue"))
                req->flags |= IBX_HTTP_F_CONTINUE;
        }
        break;
    case 7:
        if (name_is(&name, "referer", 7) && !req->referer.p)
            req->referer = v;
        break;
    case 8:
        if (name_is(&name, "if-match", 8))
            return set_once(&req->if_match, v);
        if (name_is(&name, "if-range", 8))
            return set_once(&req->if_range, v);
        break;
    case 10:
        if (name_is(&name, "connection", 10))
            parse_connection(req, v);
        else if (name_is(&name, "user-agent", 10) && !req->user_agent.p)
            req->user_agent = v;
        break;
    case 12:
        if (name_is(&name, "content-type", 12))
            return set_once(&req->content_type, v);
        break;
    case 13:
        if (name_is(&name, "if-none-match", 13))
            return set_once(&req->if_none_match, v);
        break;
    case 14:
        if (name_is(&name, "content-length", 14))
            return parse_content_length(req, v);
        break;
    case 15:
        if (name_is(&name, "accept-encoding", 15) && !req->accept_encoding.p)
            req->accept_encoding = v;
        break;
    case 17:
        if (name_is(&name, "transfer-encoding", 17))
            return parse_transfer_encoding(req, v);
        if (name_is(&name, "if-modified-since", 17))
            return set_once(&req->if_modified_since, v);
        break;
    case 19:
        if (name_is(&name, "if-unmodified-since", 19))
            return set_once(&req->if_unmodified_since, v);
        break;
    default:
        break;
    }
    return 0;
}

static enum ibx_http_method method_of(const char *p, size_t n)
{
    static const struct { const char *s; size_t n; enum ibx_http_method m; } tab[] = {
        {"GET", 3, IBX_HTTP_GET},         {"HEAD", 4, IBX_HTTP_HEAD},
        {"POST", 4, IBX_HTTP_POST},       {"PUT", 3, IBX_HTTP_PUT},
        {"DELETE", 6, IBX_HTTP_DELETE},   {"CONNECT", 7, IBX_HTTP_CONNECT},
        {"OPTIONS", 7, IBX_HTTP_OPTIONS}, {"TRACE", 5, IBX_HTTP_TRACE},
        {"PATCH", 5, IBX_HTTP_PATCH},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].n == n && memcmp(tab[i].s, p, n) == 0)
            return tab[i].m;
    return IBX_HTTP_UNKNOWN;
}

/* End of a line whose LF is at lf: strip the CR before it. A CR anywhere
 * else in [s, lf) is a bare CR. Returns the content end or NULL. */
static const char *line_end(const char *s, const char *lf)
{
    const char *e = (lf > s && lf[-1] == '\r') ? lf - 1 : lf;
    if (memchr(s, '\r', (size_t)(e - s)))
        return NULL;
    return e;
}

/* method SP request-target SP HTTP-version */
static int parse_request_line(struct ibx_http_request *req, const char *s,
                              const char *e)
{
    const char *p = s;
    while (p < e && tchar[(unsigned char)*p])
        p++;
    if (p == s || p == e || *p != ' ')
        return 400;
    req->method = (struct ibx_http_str){s, (size_t)(p - s)};
    req->meth = method_of(s, (size_t)(p - s));
    const char *t = ++p;
    while (p < e && target_char((unsigned char)*p))
        p++;
    if (p == t || p == e || *p != ' ')
        return 400;
    req->target = (struct ibx_http_str){t, (size_t)(p - t)};
    p++;
    if (e - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
        p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
        return 400;
    if (p[5] != '1')
        return 505;
    req->minor = p[7] == '0' ? 0 : 1;
    return 0;
}

/* Parse the header lines in [s, end) (end is just past the final empty
 * line). Returns 0 or an error status. */
static int parse_fields(struct ibx_http_request *req, const char *s,
                        const char *end)
{
    while (s < end) {
        const char *lf = memchr(s, '\n', (size_t)(end - s));
        const char *e = line_end(s, lf);
        if (!e)
            return 400;   /* bare CR */
        if (e == s)
            return 0;     /* the empty line ending the head */
        if (*s == ' ' || *s == '\t')
            return 400;   /* obs-fold (or whitespace before a name) */
        const char *p = s;
        while (p < e && tchar[(unsigned char)*p])
            p++;
        if (p == s || p == e || *p != ':')
            return 400;   /* empty name, bad byte, or space before colon */
        struct ibx_http_str name = {s, (size_t)(p - s)};
        p++;
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        const char *ve = e;
        while (ve > p && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *q = p; q < ve; q++)
            if (!value_char((unsigned char)*q))
                return 400;
        struct ibx_http_str value = {p, (size_t)(ve - p)};
        if (req->nheaders == IBX_HTTP_MAX_HEADERS)
            return 431;
        req->headers[req->nheaders].name = name;
        req->headers[req->nheaders].value = value;
        req->nheaders++;
        int st = known_field(req, name, value);
        if (st)
            return st;
        s = lf + 1;
    }
    return 0;
}

/* What the search for the end of the head found. */
enum head_end { HEAD_MORE, HEAD_FOUND, HEAD_BARE_CR };

/* Find the end of the head: an LF followed by LF or CRLF, searching from
 * from. HEAD_FOUND with *end just past it; HEAD_MORE when not present
 * yet; HEAD_BARE_CR for a line starting with a bare CR (it could never
 * end). */
static enum head_end find_head_end(const char *buf, size_t len, size_t from,
                                   size_t *end)
{
    while (from < len) {
        const char *lf = memchr(buf + from, '\n', len - from);
        if (!lf)
            return HEAD_MORE;
        size_t i = (size_t)(lf - buf);
        if (i + 1 < len && buf[i + 1] == '\n') {
            *end = i + 2;
            return HEAD_FOUND;
        }
        if (i + 2 < len && buf[i + 1] == '\r') {
            if (buf[i + 2] != '\n')
                return HEAD_BARE_CR;
            *end = i + 3;
            return HEAD_FOUND;
        }
        from = i + 1;
    }
    return HEAD_MORE;
}

static ssize_t fail(struct ibx_http_request *req, int status)
{
    req->status = status;
    return IBX_HTTP_ERROR;
}

ssize_t ibx_http_parse_request(const char *buf, size_t len, size_t prev_len,
                               struct ibx_http_request *req)
{
    memset(req, 0, offsetof(struct ibx_http_request, headers));

    /* RFC 9112 2.2: ignore empty lines before the request line */
    size_t start = 0;
    while (start < len && (buf[start] == '\r' || buf[start] == '\n')) {
        if (buf[start] == '\r') {
            if (start + 1 == len)
                return IBX_HTTP_INCOMPLETE;
            if (buf[start + 1] != '\n')
                return fail(req, 400);
            start++;
        }
        start++;
        if (start > 64)
            return fail(req, 400);
    }
    if (start == len)
        return IBX_HTTP_INCOMPLETE;

    size_t avail = len - start;
    size_t scan = avail < IBX_HTTP_MAX_REQUEST_LINE + 2 ? avail
                                                        : IBX_HTTP_MAX_REQUEST_LINE + 2;
    const char *lf = memchr(buf + start, '\n', scan);
    if (!lf)
        return avail > IBX_HTTP_MAX_REQUEST_LINE + 1 ? fail(req, 414)
                                                     : IBX_HTTP_INCOMPLETE;
    const char *rl_end = line_end(buf + start, lf);
    if (!rl_end)
        return fail(req, 400);
    if ((size_t)(rl_end - (buf + start)) > IBX_HTTP_MAX_REQUEST_LINE)
        return fail(req, 414);

    size_t fields = (size_t)(lf - buf) + 1;   /* first header line */
    size_t from = fields - 1;
    if (prev_len > from + 3)
        from = prev_len - 3;
    size_t end = 0;
    enum head_end he = find_head_end(buf, len, from, &end);
    if (he == HEAD_MORE) {
        /* the terminator adds at most 2 bytes to the allowed section */
        if (len - fields > IBX_HTTP_MAX_HEADER_BYTES + 2)
            return fail(req, 431);
        return IBX_HTTP_INCOMPLETE;
    }
    if (he == HEAD_BARE_CR)
        return fail(req, 400);
    if (end - fields > IBX_HTTP_MAX_HEADER_BYTES + 2)
        return fail(req, 431);

    int st = parse_request_line(req, buf + start, rl_end);
    if (st)
        return fail(req, st);
    req->nheaders = 0;
    st = parse_fields(req, buf + fields, buf + end);
    if (st)
        return fail(req, st);

    if (req->flags & IBX_HTTP_F_CHUNKED) {
        if (req->flags & IBX_HTTP_F_LENGTH)
            return fail(req, 400);   /* CL + TE: the classic smuggling pair */
        if (req->minor == 0)
            return fail(req, 400);   /* RFC 9112 6.1: TE in 1.0 is faulty */
    }
    if (req->minor >= 1 && !req->host.p)
        return fail(req, 400);
    return (ssize_t)end;
}

const char *ibx_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}
