/* Growable byte buffer (see ipcbox/buf.h). */
#include "ipcbox/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int ibx_buf_reserve(ibx_buf *b, size_t n)
{
    if (ibx_buf_room(b) >= n)
        return 0;
    size_t used = ibx_buf_used(b);
    /* Compact when the read cursor frees enough space. */
    if (b->off && b->cap - used >= n) {
        memmove(b->data, b->data + b->off, used);
        b->off = 0;
        b->len = used;
        return 0;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - used < n) {
        if (cap > SIZE_MAX / 2)
            return -ENOMEM;
        cap *= 2;
    }
    char *p = malloc(cap);
    if (!p)
        return -ENOMEM;
    if (used)
        memcpy(p, b->data + b->off, used);
    free(b->data);
    b->data = p;
    b->off = 0;
    b->len = used;
    b->cap = cap;
    return 0;
}

int ibx_buf_append(ibx_buf *b, const void *p, size_t n)
{
    int r = ibx_buf_reserve(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int ibx_buf_printf(ibx_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->data ? ibx_buf_tail(b) : NULL, ibx_buf_room(b), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < ibx_buf_room(b)) {
        b->len += (size_t)n;
        return 0;
    }
    int r = ibx_buf_reserve(b, (size_t)n + 1);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf(ibx_buf_tail(b), ibx_buf_room(b), fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void ibx_buf_consume(ibx_buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len)
        b->off = b->len = 0;
}

void ibx_buf_free(ibx_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}

ssize_t ibx_buf_read_fd(ibx_buf *b, int fd, size_t max)
{
    int r = ibx_buf_reserve(b, max);
    if (r < 0)
        return r;
    ssize_t n;
    do
        n = read(fd, ibx_buf_tail(b), max);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    b->len += (size_t)n;
    return n;
}

ssize_t ibx_buf_write_fd(ibx_buf *b, int fd)
{
    size_t used = ibx_buf_used(b);
    if (!used)
        return 0;
    ssize_t n;
    do
        n = send(fd, ibx_buf_head(b), used, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ENOTSOCK) {
        do
            n = write(fd, ibx_buf_head(b), used);
        while (n < 0 && errno == EINTR);
    }
    if (n < 0)
        return -errno;
    ibx_buf_consume(b, (size_t)n);
    return n;
}
