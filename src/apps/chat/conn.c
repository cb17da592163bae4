/* The client's TCP connection: connect with a timeout, a line reader
 * bounded at CHAT_IN_MAX, an output queue written without blocking. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat.h"
#include "ipcbox/net.h"

/* Most output queued (a server that stops reading). */
#define OUT_MAX (1u << 20)

int chat_conn_open(struct chat_conn *c, const char *text, int timeout_ms,
                   char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    ibx_addr addr;
    int r = ibx_addr_resolve(text, "127.0.0.1", CHAT_PORT, SOCK_STREAM, &addr);
    if (r < 0) {
        snprintf(err, errlen, "cannot resolve '%s'", text);
        return r;
    }
    char a[IBX_ADDRSTRLEN];
    ibx_addr_format((struct sockaddr *)&addr.ss, addr.len, a, sizeof a);
    c->fd = ibx_tcp_connect_wait(&addr, timeout_ms);
    if (c->fd < 0) {
        r = c->fd;
        snprintf(err, errlen, "connect %s: %s", a, strerror(-r));
        return r;
    }
    ibx_fd_nonblock(c->fd, true);
    ibx_tcp_nodelay(c->fd, true);
    return 0;
}

int chat_conn_queue(struct chat_conn *c, const char *data, size_t len)
{
    if (c->outlen + len > OUT_MAX)
        return -ENOBUFS;
    if (c->outlen + len > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 1024;
        while (cap < c->outlen + len)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return -ENOMEM;
        c->out = p;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, data, len);
    c->outlen += len;
    return 0;
}

int chat_conn_printf(struct chat_conn *c, const char *fmt, ...)
{
    char buf[CHAT_LINE_MAX + 1];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n > sizeof buf - 3)          /* cut to the 512 bytes */
        n = (int)(sizeof buf - 3);
    memcpy(buf + n, "\r\n", 2);
    return chat_conn_queue(c, buf, (size_t)n + 2);
}

int chat_conn_flush(struct chat_conn *c)
{
    size_t off = 0;
    while (off < c->outlen) {
        ssize_t n = send(c->fd, c->out + off, c->outlen - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -errno;
        }
        off += (size_t)n;
    }
    memmove(c->out, c->out + off, c->outlen - off);
    c->outlen -= off;
    return 0;
}

int chat_conn_read(struct chat_conn *c)
{
    while (c->inlen < sizeof c->in) {   /* full: chat_conn_line cuts it */
        ssize_t n = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -errno;
        }
        if (n == 0) {
            c->eof = true;
            return 0;
        }
        c->inlen += (size_t)n;
        if (memchr(c->in + c->inlen - (size_t)n, '\n', (size_t)n))
            return 0;
    }
    return 0;
}

char *chat_conn_line(struct chat_conn *c)
{
    static char line[CHAT_IN_MAX + 1];
    for (;;) {
        char *nl = memchr(c->in, '\n', c->inlen);
        if (c->skipping) {                   /* the rest of a line already cut */
            if (!nl) {
                c->inlen = 0;
                return NULL;
            }
            c->inlen -= (size_t)(nl + 1 - c->in);
            memmove(c->in, nl + 1, c->inlen);
            c->skipping = false;
            continue;
        }
        size_t n, used;
        if (nl) {
            n = (size_t)(nl - c->in);
            used = n + 1;
        } else if (c->inlen == sizeof c->in) {   /* too long: cut, skip the rest */
            n = used = c->inlen;
            c->skipping = true;
        } else {
            return NULL;
        }
        memcpy(line, c->in, n);
        line[n] = '\0';
        c->inlen -= used;
        memmove(c->in, c->in + used, c->inlen);
        n = strnlen(line, n);                /* a NUL ends the line */
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        return line;
    }
}

void chat_conn_close(struct chat_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->out);
    c->out = NULL;
    c->outlen = c->outcap = 0;
}
