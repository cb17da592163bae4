/* Directory listings: an HTML page with a parent link, directories first
 * then files, each sorted by name, with sizes and modification times.
 * Names are percent-encoded in links and HTML-escaped in text; dotfiles
 * are hidden unless --show-hidden, and so are names no URL can reach
 * (backslashes, control bytes, "%XX" that would read as double
 * encoding). The page is built per request and never cached; at most
 * --max-listing directory entries are read for it (hidden ones count: the
 * work is the bound), beyond which the page says it is truncated. A
 * listing ends the connection's pass (c->yield), so requests pipelined
 * behind it wait for the loop's next turn instead of holding it. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"

struct lent {
    char *name;
    bool dir;
    off_t size;
    time_t mtime;
};

size_t url_escape(char *dst, size_t cap, const char *src)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *src && o + 4 < cap; src++) {
        unsigned char ch = (unsigned char)*src;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
            ch == '~' || ch == '/') {
            dst[o++] = (char)ch;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[ch >> 4];
            dst[o++] = hex[ch & 15];
        }
    }
    dst[o] = '\0';
    return o;
}

size_t html_escape(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    for (; *src && o + 7 < cap; src++) {
        const char *rep = NULL;
        switch (*src) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep) {
            size_t n = strlen(rep);
            memcpy(dst + o, rep, n);
            o += n;
        } else {
            dst[o++] = *src;
        }
    }
    dst[o] = '\0';
    return o;
}

/* True if a request could name this file: the path decoder refuses
 * backslashes, control bytes and anything that looks double-encoded. */
static bool reachable(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '\\' || *p < 0x20 || *p == 0x7f)
            return false;
        if (*p == '%' && isxdigit(p[1]) && isxdigit(p[2]))
            return false;
    }
    return true;
}

static int lent_cmp(const void *a, const void *b)
{
    const struct lent *x = a, *y = b;
    if (x->dir != y->dir)
        return x->dir ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void human_size(char *buf, size_t cap, off_t size)
{
    static const char units[] = "KMGTP";
    if (size < 1024) {
        snprintf(buf, cap, "%lld", (long long)size);
        return;
    }
    double v = (double)size;
    int u = -1;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, "%.1f%c", v, units[u]);
}

/* Read the directory (at most cfg->max_listing entries: *truncated says
 * there were more); returns the count or -errno. */
static int read_entries(const struct httpd_cfg *cfg, int dfd, const char *dirpath,
                        struct lent **out, bool *truncated)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -errno;
    }
    struct lent *v = NULL;
    size_t n = 0, cap = 0, seen = 0;
    struct dirent *de;
    *truncated = false;
    while ((de = readdir(d))) {
        const char *name = de->d_name;
        if (seen++ == (size_t)cfg->max_listing + 2) {   /* + "." and ".." */
            *truncated = true;
            break;
        }
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
            continue;
        if (!fs_name_visible(cfg, name, strlen(name)) || !reachable(name))
            continue;
        struct stat st;
        if (fs_stat_entry(cfg, dirfd(d), dirpath, name, &st) < 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            struct lent *nv = realloc(v, cap * sizeof *nv);
            if (!nv)
                break;
            v = nv;
        }
        v[n].name = strdup(name);
        if (!v[n].name)
            break;
        v[n].dir = S_ISDIR(st.st_mode);
        v[n].size = st.st_size;
        v[n].mtime = st.st_mtim.tv_sec;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, n, sizeof *v, lent_cmp);
    *out = v;
    return (int)n;
}

void listing_serve(struct hconn *c, const char *path, bool head)
{
    int dfd = cache_open(c->hw->cache, path, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        resp_error(c, dfd == -ENOENT || dfd == -ENOTDIR ? 404 : 403);
        return;
    }
    struct lent *ents = NULL;
    bool truncated = false;
    c->yield = true;   /* costly: end the pass after this one */
    int n = read_entries(c->cfg, dfd, path, &ents, &truncated);
    if (n < 0) {
        resp_error(c, 403);
        return;
    }
    unsigned long held;
    if (truncated && ibx_log_enabled(c->cfg->log, IBX_LOG_INFO) &&
        hlog_due(c->cfg, HLOG_LISTING, &held)) {
        char host[IBX_ADDRSTRLEN];
        ibx_addr_format(&c->peer.sa, c->peerlen, host, sizeof host);
        ibx_info(c->cfg->log, "msg=\"max-listing reached, listing truncated\" peer=%s "
                 "path=%s max_listing=%u suppressed=%lu", host, path,
                 c->cfg->max_listing, held);
    }
    ibx_buf page = {0};
    char title[HTTPD_PATH_MAX * 6 + 1];
    html_escape(title, sizeof title, path);
    ibx_buf_printf(&page,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        "<title>Index of %s</title>\n<style>body{font-family:sans-serif}"
        "td{padding:0 1em}td.s{text-align:right}</style></head>\n"
        "<body><h1>Index of %s</h1>\n<table>\n"
        "<tr><th>Name</th><th>Size</th><th>Modified</th></tr>\n", title, title);
    if (strcmp(path, "/") != 0)
        ibx_buf_printf(&page, "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    for (int i = 0; i < n; i++) {
        char href[NAME_MAX * 3 + 8], text[NAME_MAX * 6 + 8], size[32], when[32];
        size_t hn = url_escape(href, sizeof href - 2, ents[i].name);
        html_escape(text, sizeof text - 2, ents[i].name);
        if (ents[i].dir) {
            href[hn] = '/';
            href[hn + 1] = '\0';
            strcat(text, "/");
            snprintf(size, sizeof size, "-");
        } else {
            human_size(size, sizeof size, ents[i].size);
        }
        struct tm tm;
        gmtime_r(&ents[i].mtime, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        ibx_buf_printf(&page,
                       "<tr><td><a href=\"%s\">%s</a></td><td class=\"s\">%s</td>"
                       "<td>%s</td></tr>\n", href, text, size, when);
        free(ents[i].name);
    }
    free(ents);
    if (truncated)
        ibx_buf_printf(&page, "</table>\n<p>Listing truncated at %u entries.</p>\n"
                       "<table>\n", c->cfg->max_listing);
    ibx_buf_printf(&page, "</table>\n<hr><address>" HTTPD_SERVER_NAME
                   "</address></body></html>\n");
    struct hresp r = {.status = 200, .head_only = head, .body_len = ibx_buf_used(&page)};
    resp_start(c, &r);
    resp_field(c, "Content-Type", "text/html; charset=utf-8");
    resp_field(c, "Cache-Control", "no-cache");
    resp_end(c, &r);
    if (!head)
        ibx_buf_append(conn_outbuf(c), ibx_buf_head(&page), ibx_buf_used(&page));
    resp_log(c, 200, head ? 0 : ibx_buf_used(&page));
    ibx_buf_free(&page);
}
