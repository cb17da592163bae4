/* Static files: path -> cache entry -> 200, 206/416 (range.c), 304/412,
 * 301 for a directory without its slash, index.html, listings
 * (listing.c), and a precompressed FILE.gz sibling for clients that
 * accept gzip. Conditionals follow the order of RFC 9110 13.2.2. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpd.h"

static int error_status(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        return 404;
    case EACCES:
    case EPERM:
    case EXDEV:
    case ELOOP:
        return 403;
    default:
        return 500;
    }
}

/* RFC 9110 13.2.2 steps 1-4. Returns 0 to go on, or 304 / 412. */
static int preconditions(const struct ibx_http_request *req,
                         const struct centry *e)
{
    int64_t t;
    if (req->if_match.p) {
        if (!ibx_http_etag_match(req->if_match.p, req->if_match.n, e->etag,
                                 e->etag_len, false))
            return 412;
    } else if (req->if_unmodified_since.p &&
               ibx_http_date_parse(req->if_unmodified_since.p,
                                   req->if_unmodified_since.n, &t) == 0 &&
               e->st.st_mtim.tv_sec > t) {
        return 412;
    }
    if (req->if_none_match.p) {
        if (ibx_http_etag_match(req->if_none_match.p, req->if_none_match.n,
                                e->etag, e->etag_len, true))
            return 304;
    } else if (req->if_modified_since.p &&
               ibx_http_date_parse(req->if_modified_since.p,
                                   req->if_modified_since.n, &t) == 0 &&
               e->st.st_mtim.tv_sec <= t) {
        return 304;
    }
    return 0;
}

/* If-Range (RFC 9110 13.1.5): true if the Range header applies. */
static bool if_range_ok(const struct ibx_http_request *req, const struct centry *e)
{
    struct ibx_http_str v = req->if_range;
    if (!v.p)
        return true;
    if (v.n && (v.p[0] == '"' || v.p[0] == 'W'))
        return ibx_http_etag_match(v.p, v.n, e->etag, e->etag_len, false);
    int64_t t;
    return ibx_http_date_parse(v.p, v.n, &t) == 0 && t == e->st.st_mtim.tv_sec;
}

/* Header lines describing the representation (gzip: type of the original,
 * validators of the .gz file). */
static void rep_fields(struct hconn *c, const struct centry *e,
                       const struct centry *orig, bool gz)
{
    ibx_buf *b = conn_outbuf(c);
    if (!gz && e->fields) {
        ibx_buf_append(b, e->fields, e->fields_len);
    } else {
        resp_field(c, "Content-Type", orig->mime);
        resp_field(c, "Last-Modified", e->lastmod);
        resp_field(c, "ETag", e->etag);
        resp_field(c, "Accept-Ranges", "bytes");
    }
    if (gz)
        resp_field(c, "Content-Encoding", "gzip");
}

void static_send_body(struct hconn *c, const struct centry *e, uint64_t off,
                      uint64_t len)
{
    if (!len)
        return;
    if (e->body) {
        ibx_buf_append(conn_outbuf(c), e->body + off, (size_t)len);
        return;
    }
    int fd = cache_dup_fd(c->hw->cache, e);
    if (fd < 0) {
        c->close_after = true;   /* the head went out: cut the body short */
        return;
    }
    c->send.fd = fd;
    c->send.off = (off_t)off;
    c->send.end = (off_t)(off + len);
}

static void serve_file(struct hconn *c, const char *path, struct centry *e)
{
    struct hworker *hw = c->hw;
    const struct ibx_http_request *req = &hw->req;
    bool head = req->meth == IBX_HTTP_HEAD;
    struct centry *orig = e;
    bool gz = false, vary = false;
    if (req->accept_encoding.p) {
        char gzpath[HTTPD_PATH_MAX + 4];
        size_t n = strlen(path);
        if (n + 4 <= sizeof gzpath) {
            memcpy(gzpath, path, n);
            memcpy(gzpath + n, ".gz", 4);
            struct centry *ge = cache_get(hw->cache, gzpath, hw->date_sec);
            e = cache_get(hw->cache, path, hw->date_sec);   /* ge may evict */
            orig = e;
            if (!e) {
                resp_error(c, 500);
                return;
            }
            if (ge && ge->kind == CE_FILE && ge != e) {
                vary = true;
                if (ibx_http_accepts(req->accept_encoding.p, req->accept_encoding.n,
                                     "gzip")) {
                    e = ge;
                    gz = true;
                }
            }
        }
    }
    int st = preconditions(req, e);
    if (st == 412) {
        resp_error(c, 412);
        return;
    }
    if (st == 304) {
        struct hresp r = {.status = 304, .head_only = true, .body_len = UINT64_MAX};
        resp_start(c, &r);
        resp_field(c, "ETag", e->etag);
        resp_field(c, "Last-Modified", e->lastmod);
        if (vary)
            resp_field(c, "Vary", "Accept-Encoding");
        resp_end(c, &r);
        resp_log(c, 304, 0);
        return;
    }
    if (req->range.p && req->meth == IBX_HTTP_GET && if_range_ok(req, e)) {
        c->hw->range_gz = gz;
        c->hw->range_vary = vary;
        c->hw->range_orig = orig;
        if (range_serve(c, e, head))
            return;
    }
    uint64_t size = (uint64_t)e->st.st_size;
    struct hresp r = {.status = 200, .head_only = head, .body_len = size};
    resp_start(c, &r);
    rep_fields(c, e, orig, gz);
    if (vary)
        resp_field(c, "Vary", "Accept-Encoding");
    resp_end(c, &r);
    if (!head)
        static_send_body(c, e, 0, size);
    resp_log(c, 200, head ? 0 : size);
}

void static_rep_fields(struct hconn *c, const struct centry *e)
{
    struct hworker *hw = c->hw;
    rep_fields(c, e, hw->range_orig ? hw->range_orig : e, hw->range_gz);
    if (hw->range_vary)
        resp_field(c, "Vary", "Accept-Encoding");
}

void static_serve(struct hconn *c, const char *path, struct ibx_http_str query)
{
    struct hworker *hw = c->hw;
    hworker_date(hw);
    hw->range_orig = NULL;
    hw->range_gz = hw->range_vary = false;
    struct centry *e = cache_get(hw->cache, path, hw->date_sec);
    if (!e) {
        resp_error(c, 500);
        return;
    }
    size_t n = strlen(path);
    switch (e->kind) {
    case CE_MISSING:
    case CE_OTHER:
        if (error_status(e->err) == 500) {
            /* at the descriptor limit every request would log: one line a
             * second, the access log has each 500 */
            unsigned long held;
            if (hlog_due(c->cfg, HLOG_STATIC_500, &held))
                ibx_warn(c->cfg->log, "msg=\"cannot open a file, answering 500\" "
                         "path=%s reason=%s suppressed=%lu", path, strerror(e->err), held);
        }
        resp_error(c, error_status(e->err));
        return;
    case CE_DIR: {
        if (path[n - 1] != '/') {
            /* the escaped path, '/', and the whole query, however long */
            size_t cap = n * 3 + query.n + 3;
            char *loc = malloc(cap);
            if (!loc) {
                resp_error(c, 500);
                return;
            }
            size_t o = url_escape(loc, cap, path);
            loc[o++] = '/';
            if (query.p) {
                loc[o++] = '?';
                memcpy(loc + o, query.p, query.n);
                o += query.n;
            }
            loc[o] = '\0';
            resp_redirect(c, 301, loc);
            free(loc);
            return;
        }
        char idx[HTTPD_PATH_MAX + 16];
        snprintf(idx, sizeof idx, "%sindex.html", path);
        struct centry *ie = cache_get(hw->cache, idx, hw->date_sec);
        if (ie && ie->kind == CE_FILE) {
            serve_file(c, idx, ie);
            return;
        }
        if (!c->cfg->listing) {
            resp_error(c, 403);
            return;
        }
        listing_serve(c, path, hw->req.meth == IBX_HTTP_HEAD);
        return;
    }
    case CE_FILE:
        if (path[n - 1] == '/') {
            resp_error(c, 404);
            return;
        }
        serve_file(c, path, e);
        return;
    }
}
