/* CGI/1.1 meta-variables (RFC 3875 4.1): the environment a script gets,
 * built in the server before the spawn. Request header fields become
 * HTTP_* variables, except Proxy (the "httpoxy" hole), Content-Length and
 * Content-Type (they have their own variables) and names containing '_'
 * (which would be indistinguishable from '-'). A field repeated in the
 * request becomes one variable, its values joined with ", " ("; " for
 * Cookie), as RFC 3875 4.1.18 requires. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpd.h"

void cgi_env_free(struct cgi_env *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
}

int cgi_env_add(struct cgi_env *e, const char *name, const char *v, size_t vn)
{
    if (e->n + 2 > e->cap) {
        size_t nc = e->cap ? e->cap * 2 : 64;
        char **nv = realloc(e->v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        e->v = nv;
        e->cap = nc;
    }
    size_t nn = strlen(name);
    char *s = malloc(nn + vn + 2);
    if (!s)
        return -ENOMEM;
    memcpy(s, name, nn);
    s[nn] = '=';
    memcpy(s + nn + 1, v, vn);
    s[nn + 1 + vn] = '\0';
    e->v[e->n++] = s;
    e->v[e->n] = NULL;
    return 0;
}

static int env_str(struct cgi_env *e, const char *name, const char *v)
{
    return cgi_env_add(e, name, v, strlen(v));
}

static int env_span(struct cgi_env *e, const char *name, struct ibx_http_str v)
{
    return cgi_env_add(e, name, v.p ? v.p : "", v.p ? v.n : 0);
}

/* Append sep and v to the variable e->v[k] (a header field repeated in
 * the request); an empty value adds nothing. */
static int env_join(struct cgi_env *e, size_t k, const char *sep, struct ibx_http_str v)
{
    if (!v.n)
        return 0;
    size_t old = strlen(e->v[k]);
    if (!e->v[k][strcspn(e->v[k], "=") + 1])
        sep = "";   /* the first one was empty */
    size_t sn = strlen(sep);
    char *s = realloc(e->v[k], old + sn + v.n + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s + old, sep, sn);
    memcpy(s + old + sn, v.p, v.n);
    s[old + sn + v.n] = '\0';
    e->v[k] = s;
    return 0;
}

/* The host[:port] of an absolute-form target ("http://user@host:port/x"),
 * which RFC 9112 3.2.2 puts before Host; p is NULL for origin form. */
static struct ibx_http_str absolute_authority(struct ibx_http_str t)
{
    size_t skip = 0;
    if (t.n >= 7 && strncasecmp(t.p, "http://", 7) == 0)
        skip = 7;
    else if (t.n >= 8 && strncasecmp(t.p, "https://", 8) == 0)
        skip = 8;
    if (!skip)
        return (struct ibx_http_str){NULL, 0};
    const char *a = t.p + skip, *end = t.p + t.n, *ae = a;
    while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
        ae++;
    for (const char *q = a; q < ae; q++)
        if (*q == '@')
            a = q + 1;   /* userinfo is not part of the host */
    return (struct ibx_http_str){a, (size_t)(ae - a)};
}

int cgi_env_build(struct cgi_env *e, struct hconn *c, const char *script_name,
                  const char *path_info, struct ibx_http_str query)
{
    const struct httpd_cfg *cfg = c->cfg;
    const struct ibx_http_request *req = &c->hw->req;
    char buf[HTTPD_PATH_MAX + 512], host[IBX_ADDRSTRLEN];
    int r = 0;
    r |= env_str(e, "GATEWAY_INTERFACE", "CGI/1.1");
    r |= env_str(e, "SERVER_SOFTWARE", HTTPD_SERVER_NAME);
    r |= env_str(e, "SERVER_PROTOCOL", req->minor ? "HTTP/1.1" : "HTTP/1.0");
    r |= env_span(e, "REQUEST_METHOD", req->method);
    r |= env_span(e, "REQUEST_URI", req->target);
    r |= env_span(e, "QUERY_STRING", query);
    r |= env_str(e, "SCRIPT_NAME", script_name);
    snprintf(buf, sizeof buf, "%s%s", cfg->root_real, script_name);
    r |= env_str(e, "SCRIPT_FILENAME", buf);
    if (*path_info) {
        r |= env_str(e, "PATH_INFO", path_info);
        snprintf(buf, sizeof buf, "%s%s", cfg->root_real, path_info);
        r |= env_str(e, "PATH_TRANSLATED", buf);
    }
    r |= env_str(e, "DOCUMENT_ROOT", cfg->root_real);
    r |= env_str(e, "PATH", "/usr/local/bin:/usr/bin:/bin");
    r |= env_str(e, "REDIRECT_STATUS", "200");
    ibx_addr_format(&c->peer.sa, c->peerlen, host, sizeof host);
    char *colon = strrchr(host, ':');
    if (colon) {
        r |= env_str(e, "REMOTE_PORT", colon + 1);
        *colon = '\0';
    }
    char *h = host[0] == '[' ? host + 1 : host;
    if (h != host && h[strlen(h) - 1] == ']')
        h[strlen(h) - 1] = '\0';
    r |= env_str(e, "REMOTE_ADDR", h);
    ibx_addr local;
    if (ibx_sock_local(c->io.fd, &local) == 0) {
        snprintf(buf, sizeof buf, "%u", ibx_addr_port((struct sockaddr *)&local.ss));
        r |= env_str(e, "SERVER_PORT", buf);
        ibx_addr_format((struct sockaddr *)&local.ss, local.len, host, sizeof host);
        if ((colon = strrchr(host, ':')))
            *colon = '\0';
        /* the plain address, as REMOTE_ADDR ("::1", not "[::1]"); host
         * keeps the brackets for SERVER_NAME below (a URI host) */
        size_t hl = strlen(host);
        if (host[0] == '[' && hl > 1 && host[hl - 1] == ']')
            r |= cgi_env_add(e, "SERVER_ADDR", host + 1, hl - 2);
        else
            r |= env_str(e, "SERVER_ADDR", host);
    }
    struct ibx_http_str sn = absolute_authority(req->target);
    if (!sn.p)
        sn = req->host;
    if (sn.p && sn.n) {
        const char *end = sn.p + sn.n, *p = end;
        while (p > sn.p && p[-1] >= '0' && p[-1] <= '9')
            p--;
        if (p > sn.p && p[-1] == ':' && p != end)
            sn.n = (size_t)(p - 1 - sn.p);
        r |= env_span(e, "SERVER_NAME", sn);
    } else {
        r |= env_str(e, "SERVER_NAME", host);
    }
    if (req->content_type.p)
        r |= env_span(e, "CONTENT_TYPE", req->content_type);
    if (req->flags & IBX_HTTP_F_LENGTH) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)req->content_length);
        r |= env_str(e, "CONTENT_LENGTH", buf);
    }
    for (size_t i = 0; i < req->nheaders && !r; i++) {
        struct ibx_http_str nm = req->headers[i].name;
        if (ibx_http_str_eq(nm, "content-length") || ibx_http_str_eq(nm, "content-type") ||
            ibx_http_str_eq(nm, "proxy") || nm.n > 200 || memchr(nm.p, '_', nm.n))
            continue;   /* "Proxy" -> HTTP_PROXY would be httpoxy */
        char name[256] = "HTTP_";
        for (size_t k = 0; k < nm.n; k++) {
            char ch = nm.p[k];
            name[5 + k] = ch == '-' ? '_' : (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
        }
        name[5 + nm.n] = '\0';
        size_t k = 0;
        while (k < e->n && !(strncmp(e->v[k], name, 5 + nm.n) == 0 &&
                             e->v[k][5 + nm.n] == '='))
            k++;
        if (k < e->n)   /* repeated: one value of the same meaning (4.1.18) */
            r |= env_join(e, k, ibx_http_str_eq(nm, "cookie") ? "; " : ", ",
                          req->headers[i].value);
        else
            r |= env_span(e, name, req->headers[i].value);
    }
    return r ? -ENOMEM : 0;
}

