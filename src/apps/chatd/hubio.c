/* The records between chatd's core and its edges (see chatd.h, "the
 * hub"): one record is one message of a shared-memory ring (ibx_shmq),
 * written in place (reserve, commit) without a lock. A ring that is full
 * never blocks a loop: the records wait, in order, in a buffer of the
 * writer, and go in when the reader has made room (the writer retries on
 * a short timer and whenever its peer rings). The doorbell is one byte on
 * a socketpair; a full socket has rung already. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chatd.h"

/* Write one record into room the ring gave. */
static void fill(void *dst, const struct hub_rec *h, const void *a, size_t alen,
                 const void *b, size_t blen)
{
    char *p = dst;
    memcpy(p, h, sizeof *h);
    if (alen)
        memcpy(p + sizeof *h, a, alen);
    if (blen)
        memcpy(p + sizeof *h + alen, b, blen);
}

size_t hubtx_room(const struct hub_tx *t)
{
    return ibx_shmq_max_msg(t->q) - sizeof(struct hub_rec);
}

int hubtx_put(struct hub_tx *t, const struct hub_rec *h, const void *a, size_t alen,
              const void *b, size_t blen)
{
    size_t len = sizeof *h + alen + blen;
    if (len > ibx_shmq_max_msg(t->q))
        return -EMSGSIZE;
    if (!ibx_buf_used(&t->pend)) {
        void *dst;
        int r = ibx_shmq_reserve(t->q, len, &dst, 0);
        if (r == 0) {
            fill(dst, h, a, alen, b, blen);
            ibx_shmq_commit(t->q, len);
            t->committed = true;
            return 0;
        }
        if (r != -EAGAIN)
            return r;
    }
    uint32_t n = (uint32_t)len;
    if (ibx_buf_reserve(&t->pend, sizeof n + len) < 0)
        return -ENOMEM;
    char *p = ibx_buf_tail(&t->pend);
    memcpy(p, &n, sizeof n);
    fill(p + sizeof n, h, a, alen, b, blen);
    ibx_buf_commit(&t->pend, sizeof n + len);
    return 0;
}

int hubtx_flush(struct hub_tx *t)
{
    while (ibx_buf_used(&t->pend)) {
        const char *p = ibx_buf_head(&t->pend);
        uint32_t n;
        memcpy(&n, p, sizeof n);
        int r = ibx_shmq_try_send(t->q, p + sizeof n, n);
        if (r == -EAGAIN)
            return 0;
        if (r < 0)
            return r;
        t->committed = true;
        ibx_buf_consume(&t->pend, sizeof n + n);
    }
    ibx_buf_free(&t->pend);
    return 0;
}

int hubrx_next(ibx_shmq *q, const struct hub_rec **h, const void **p, size_t *n)
{
    const void *buf;
    size_t len;
    int r = ibx_shmq_peek(q, &buf, &len, 0);
    if (r == -EAGAIN)
        return 0;
    if (r < 0)
        return r;
    if (len < sizeof **h) {
        ibx_shmq_release(q);
        return -EPROTO;
    }
    *h = buf;   /* ring records are 8-byte aligned */
    *p = (const char *)buf + sizeof **h;
    *n = len - sizeof **h;
    return 1;
}

void hub_ring(int fd)
{
    char one = 1;
    ssize_t r = send(fd, &one, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)r;
}

int hub_bell_drain(int fd)
{
    char buf[256];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0)
            continue;
        if (r == 0)
            return -EPIPE;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN ? 0 : -EPIPE;
    }
}
