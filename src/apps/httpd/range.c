/* Range requests (RFC 9110 14): one range as 206 with Content-Range,
 * several as multipart/byteranges, none satisfiable as 416. Overlapping
 * and adjacent ranges are coalesced; more than --max-ranges ranges, or
 * ranges adding up to more than the file, are ignored (200), so a Range
 * header can never amplify the response beyond a plain GET plus the part
 * headers of at most --max-ranges parts. Parts of large
 * files are sent one by one: each part's header is queued in memory, then
 * its bytes with sendfile(), then the next part (range_next_part). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"

/* The header of part i (with the CRLF that ends the previous part). */
static int part_head(char *buf, size_t cap, const char *boundary,
                     const char *mime, const struct ibx_http_range *r,
                     uint64_t size)
{
    return snprintf(buf, cap,
                    "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes "
                    "%llu-%llu/%llu\r\n\r\n",
                    boundary, mime, (unsigned long long)r->first,
                    (unsigned long long)r->last, (unsigned long long)size);
}

static void not_satisfiable(struct hconn *c, uint64_t size)
{
    static const char body[] =
        "<!DOCTYPE html>\n<html><body><h1>416 Range Not Satisfiable</h1></body></html>\n";
    char cr[64];
    snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
    struct hresp r = {.status = 416, .body_len = sizeof body - 1};
    resp_start(c, &r);
    resp_field(c, "Content-Type", "text/html; charset=utf-8");
    resp_field(c, "Content-Range", cr);
    resp_end(c, &r);
    ibx_buf_append(conn_outbuf(c), body, sizeof body - 1);
    resp_log(c, 416, sizeof body - 1);
}

/* One line for a Range header we ignored to protect ourselves (at most
 * one a second: loggate.c). */
static void range_log_ignored(struct hconn *c, const char *why, size_t ranges,
                              unsigned max)
{
    unsigned long held;
    if (!ibx_log_enabled(c->cfg->log, IBX_LOG_INFO) || !hlog_due(c->cfg, HLOG_RANGE, &held))
        return;
    char host[IBX_ADDRSTRLEN];
    ibx_addr_format(&c->peer.sa, c->peerlen, host, sizeof host);
    ibx_info(c->cfg->log,
             "msg=\"range header ignored, serving the whole file\" peer=%s reason=%s "
             "ranges=%zu max_ranges=%u suppressed=%lu", host, why, ranges, max, held);
}

bool range_serve(struct hconn *c, struct centry *e, bool head)
{
    struct hworker *hw = c->hw;
    const struct ibx_http_request *req = &hw->req;
    uint64_t size = (uint64_t)e->st.st_size;
    struct ibx_http_range rs[IBX_HTTP_MAX_RANGES];
    unsigned max = c->cfg->max_ranges;
    int status;
    int n = ibx_http_range_parse(req->range.p, req->range.n, size, rs, max, &status);
    if (status == 200) {
        /* ignored: bad syntax, or more than --max-ranges (counted here
         * by list elements, the only way the parser can refuse a list
         * that is longer than max) */
        size_t elems = 1;
        for (size_t i = 0; i < req->range.n; i++)
            elems += req->range.p[i] == ',';
        if (elems > max)
            range_log_ignored(c, "max-ranges", elems, max);
        return false;
    }
    if (status == 416) {
        not_satisfiable(c, size);
        return true;
    }
    /* Overlapping and adjacent ranges become one part; ranges that add
     * up to more than the file are answered with the whole file (200),
     * so no Range header makes us send more than a plain GET would. */
    int parts = ibx_http_range_plan(rs, (size_t)n, size);
    if (parts == 0) {
        range_log_ignored(c, "overlap", (size_t)n, max);
        return false;
    }
    n = parts;
    if (n == 1) {
        uint64_t len = rs[0].last - rs[0].first + 1;
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu",
                 (unsigned long long)rs[0].first, (unsigned long long)rs[0].last,
                 (unsigned long long)size);
        struct hresp r = {.status = 206, .head_only = head, .body_len = len};
        resp_start(c, &r);
        static_rep_fields(c, e);
        resp_field(c, "Content-Range", cr);
        resp_end(c, &r);
        if (!head)
            static_send_body(c, e, rs[0].first, len);
        resp_log(c, 206, head ? 0 : len);
        return true;
    }

    const char *mime = hw->range_orig ? hw->range_orig->mime : e->mime;
    char boundary[24];
    snprintf(boundary, sizeof boundary, "%016llx",
              (unsigned long long)((uint64_t)hw->date_sec * 2654435761u ^ ++hw->seq));
    uint64_t total = 0;
    char ph[512];
    for (int i = 0; i < n; i++)
        total += (uint64_t)part_head(ph, sizeof ph, boundary, mime, &rs[i], size) +
                 rs[i].last - rs[i].first + 1;
    int tail = snprintf(ph, sizeof ph, "\r\n--%s--\r\n", boundary);
    total += (uint64_t)tail;

    char ctype[96];
    snprintf(ctype, sizeof ctype, "multipart/byteranges; boundary=%s", boundary);
    struct hresp r = {.status = 206, .head_only = head, .body_len = total};
    resp_start(c, &r);
    resp_field(c, "Content-Type", ctype);
    resp_field(c, "Last-Modified", e->lastmod);
    resp_field(c, "ETag", e->etag);
    if (hw->range_gz)
        resp_field(c, "Content-Encoding", "gzip");
    if (hw->range_vary)
        resp_field(c, "Vary", "Accept-Encoding");
    resp_end(c, &r);
    resp_log(c, 206, head ? 0 : total);
    if (head)
        return true;
    if (e->body) {
        ibx_buf *b = conn_outbuf(c);
        for (int i = 0; i < n; i++) {
            int k = part_head(ph, sizeof ph, boundary, mime, &rs[i], size);
            ibx_buf_append(b, ph, (size_t)k);
            ibx_buf_append(b, e->body + rs[i].first, rs[i].last - rs[i].first + 1);
        }
        snprintf(ph, sizeof ph, "\r\n--%s--\r\n", boundary);
        ibx_buf_append(b, ph, (size_t)tail);
        return true;
    }
    struct hmulti *m = calloc(1, sizeof *m);
    int fd = m ? cache_dup_fd(c->hw->cache, e) : -1;
    if (fd < 0) {
        free(m);
        c->close_after = true;
        return true;
    }
    m->fd = fd;
    m->size = size;
    m->mime = mime;
    m->n = (unsigned)n;
    memcpy(m->r, rs, sizeof rs[0] * (size_t)n);
    memcpy(m->boundary, boundary, sizeof boundary);
    c->multi = m;
    range_next_part(c);
    return true;
}

bool range_next_part(struct hconn *c)
{
    struct hmulti *m = c->multi;
    if (!m)
        return false;
    char ph[512];
    if (m->next == m->n) {
        int k = snprintf(ph, sizeof ph, "\r\n--%s--\r\n", m->boundary);
        ibx_buf_append(conn_outbuf(c), ph, (size_t)k);
        range_free(c);
        return true;   /* the closing boundary is queued */
    }
    const struct ibx_http_range *r = &m->r[m->next++];
    int k = part_head(ph, sizeof ph, m->boundary, m->mime, r, m->size);
    ibx_buf_append(conn_outbuf(c), ph, (size_t)k);
    int fd = fcntl(m->fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        c->close_after = true;
        range_free(c);
        return false;
    }
    c->send.fd = fd;
    c->send.off = (off_t)r->first;
    c->send.end = (off_t)(r->last + 1);
    return true;
}

void range_free(struct hconn *c)
{
    if (!c->multi)
        return;
    close(c->multi->fd);
    free(c->multi);
    c->multi = NULL;
}
