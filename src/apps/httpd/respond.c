/* Response heads, error pages, redirects and the access-log line. Heads
 * are assembled with memcpy into the connection's output buffer; only the
 * rare paths use printf. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"

ibx_buf *conn_outbuf(struct hconn *c)
{
    return ibx_buf_used(&c->out) ? &c->out : &c->hw->out;
}

static void put(ibx_buf *b, const char *s, size_t n)
{
    (void)ibx_buf_append(b, s, n);
}

#define PUTS(b, lit) put((b), (lit), sizeof(lit) - 1)

static void put_u64(ibx_buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(b, tmp + i, sizeof tmp - i);
}

void resp_start(struct hconn *c, struct hresp *r)
{
    ibx_buf *b = conn_outbuf(c);
    if (c->close_after || c->draining || ibx_worker_draining(c->base.worker))
        r->close = true;
    if (r->close)
        c->close_after = true;
    if (r->status == 200 && !r->reason) {
        PUTS(b, "HTTP/1.1 200 OK\r\nServer: " HTTPD_SERVER_NAME "\r\nDate: ");
    } else {
        char line[64];
        int n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", r->status,
                         r->reason ? r->reason : ibx_http_reason(r->status));
        put(b, line, (size_t)n);
        PUTS(b, "Server: " HTTPD_SERVER_NAME "\r\nDate: ");
    }
    put(b, hworker_date(c->hw), IBX_HTTP_DATE_LEN);
    PUTS(b, "\r\n");
    if (r->close)
        PUTS(b, "Connection: close\r\n");
    else if (c->minor == 0)
        PUTS(b, "Connection: keep-alive\r\n");
}

void resp_field(struct hconn *c, const char *name, const char *value)
{
    ibx_buf *b = conn_outbuf(c);
    put(b, name, strlen(name));
    PUTS(b, ": ");
    put(b, value, strlen(value));
    PUTS(b, "\r\n");
}

void resp_end(struct hconn *c, const struct hresp *r)
{
    ibx_buf *b = conn_outbuf(c);
    if (r->body_len != UINT64_MAX) {
        PUTS(b, "Content-Length: ");
        put_u64(b, r->body_len);
        PUTS(b, "\r\n");
    }
    PUTS(b, "\r\n");
}

uint64_t resp_error_page(struct hconn *c, int status)
{
    char body[256];
    const char *reason = ibx_http_reason(status);
    int n = snprintf(body, sizeof body,
                     "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                     "<body><h1>%d %s</h1></body></html>\n",
                     status, reason, status, reason);
    struct hresp r = {
        .status = status,
        .head_only = c->head_req,
        .close = status == 400 || status == 408 || status == 413 ||
                 status == 414 || status == 431 || status == 501 ||
                 status == 505 || status == 500,
        .body_len = (uint64_t)n,
    };
    resp_start(c, &r);
    resp_field(c, "Content-Type", "text/html; charset=utf-8");
    if (status == 405 || status == 501)
        resp_field(c, "Allow", c->cfg->cgi_prefix ? "GET, HEAD, OPTIONS, POST"
                                                  : "GET, HEAD, OPTIONS");
    resp_end(c, &r);
    if (!r.head_only)
        put(conn_outbuf(c), body, (size_t)n);
    return r.head_only ? 0 : (uint64_t)n;
}

void resp_error(struct hconn *c, int status)
{
    resp_log(c, status, resp_error_page(c, status));
}

void resp_redirect(struct hconn *c, int status, const char *location)
{
    char body[128];
    int n = snprintf(body, sizeof body,
                     "<!DOCTYPE html>\n<html><body><h1>%d %s</h1></body></html>\n",
                     status, ibx_http_reason(status));
    struct hresp r = {
        .status = status,
        .head_only = c->head_req,
        .body_len = (uint64_t)n,
    };
    resp_start(c, &r);
    resp_field(c, "Location", location);
    resp_field(c, "Content-Type", "text/html; charset=utf-8");
    resp_end(c, &r);
    if (!r.head_only)
        put(conn_outbuf(c), body, (size_t)n);
    resp_log(c, status, r.head_only ? 0 : (uint64_t)n);
}

/* Append s to the log line, escaping '"', '\\' and non-printable bytes
 * (the combined format quotes these fields). */
static size_t log_quoted(char *dst, size_t room, struct ibx_http_str s)
{
    size_t o = 0;
    if (!s.p) {
        if (room > 1)
            dst[o++] = '-';
        return o;
    }
    for (size_t i = 0; i < s.n && o + 4 < room; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
            o += (size_t)snprintf(dst + o, room - o, "\\x%02X", ch);
        } else {
            dst[o++] = (char)ch;
        }
    }
    return o;
}

uint64_t resp_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void resp_log(struct hconn *c, int status, uint64_t bytes)
{
    resp_log_req(c, &c->hw->req, status, bytes);
}

void resp_log_req(struct hconn *c, const struct ibx_http_request *req,
                  int status, uint64_t bytes)
{
    const struct httpd_cfg *cfg = c->cfg;
    uint64_t t0 = c->req_t0_us;
    c->req_t0_us = 0;   /* the next request starts its own clock */
    if (cfg->alog.fd < 0)
        return;
    uint64_t us = t0 ? resp_clock_us() - t0 : 0;
    char line[4096], host[IBX_ADDRSTRLEN], when[64];
    ibx_addr_format(&c->peer.sa, c->peerlen, host, sizeof host);
    /* the combined format wants the address without the port */
    char *colon = strrchr(host, ':');
    if (colon && colon > host) {
        *colon = '\0';
        if (host[0] == '[') {
            memmove(host, host + 1, strlen(host));
            host[strlen(host) - 1] = '\0';
        }
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S %z", &tm);
    size_t o = (size_t)snprintf(line, sizeof line, "%s - - [%s] \"", host, when);
    if (req->method.p) {
        o += log_quoted(line + o, sizeof line - o - 600, req->method);
        line[o++] = ' ';
        o += log_quoted(line + o, sizeof line - o - 600, req->target);
        o += (size_t)snprintf(line + o, sizeof line - o, " HTTP/1.%d", req->minor);
    } else {
        line[o++] = '-';
    }
    o += (size_t)snprintf(line + o, sizeof line - o, "\" %d %llu \"", status,
                          (unsigned long long)bytes);
    o += log_quoted(line + o, (sizeof line - o) / 2, req->referer);
    o += (size_t)snprintf(line + o, sizeof line - o, "\" \"");
    o += log_quoted(line + o, sizeof line - o - 24, req->user_agent);
    o += (size_t)snprintf(line + o, sizeof line - o, "\" %llu\n", (unsigned long long)us);
    ssize_t w = write(cfg->alog.fd, line, o);
    (void)w;
}
