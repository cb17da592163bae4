/* chatd's output queues: a ring of references to shared messages, written
 * with writev, with the bytes still to write counted apart for bulk
 * replies (--sendq-bulk) and the rest (--sendq). Used by the
 * connections of the core (conn.c) and by those of the edges (edge.c). */
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "chatd.h"

#define OUTQ_IOV 64

/* The capacity is a power of two (8, 16 ...): an index wraps with a mask,
 * not a division (this runs once per member and message). */
#define AT(q, i) ((q)->q[((q)->head + (i)) & ((q)->cap - 1)])

int outq_push(struct outq *q, struct chat_msg *m, bool bulk)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        struct outq_ent *e = malloc(cap * sizeof *e);
        if (!e)
            return -ENOMEM;
        for (size_t i = 0; i < q->n; i++)
            e[i] = AT(q, i);
        free(q->q);
        q->q = e;
        q->cap = cap;
        q->head = 0;
    }
    AT(q, q->n) = (struct outq_ent){.m = msg_ref(m), .bulk = bulk};
    q->n++;
    q->queued += m->len;
    if (bulk)
        q->bulk_queued += m->len;
    return 0;
}

/* Forget the first `left` written bytes. */
static void consumed(struct outq *q, size_t left)
{
    q->queued -= left;
    while (left) {
        struct outq_ent *e = &q->q[q->head];
        size_t rest = e->m->len - q->off;
        if (e->bulk)
            q->bulk_queued -= left < rest ? left : rest;
        if (left < rest) {
            q->off += left;
            break;
        }
        left -= rest;
        msg_unref(e->m);
        q->off = 0;
        q->head = (q->head + 1) & (q->cap - 1);
        q->n--;
    }
}

int outq_write(struct outq *q, int fd)
{
    while (q->n) {
        struct iovec iov[OUTQ_IOV];
        size_t n = 0;
        for (; n < OUTQ_IOV && n < q->n; n++) {
            struct chat_msg *m = AT(q, n).m;
            size_t off = n ? 0 : q->off;
            iov[n] = (struct iovec){.iov_base = m->data + off, .iov_len = m->len - off};
        }
        ssize_t w = writev(fd, iov, (int)n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            return -errno;
        }
        consumed(q, (size_t)w);
    }
    free(q->q);   /* idle clients hold no queue */
    q->q = NULL;
    q->cap = q->head = 0;
    return 0;
}

void outq_drop(struct outq *q)
{
    for (size_t i = 0; i < q->n; i++)
        msg_unref(AT(q, i).m);
    free(q->q);
    *q = (struct outq){0};
}

void outq_keep_head(struct outq *q)
{
    if (!q->n)
        return;
    if (!q->off) {
        outq_drop(q);
        return;
    }
    struct chat_msg *head = msg_ref(q->q[q->head].m);
    bool bulk = q->q[q->head].bulk;
    size_t off = q->off;
    outq_drop(q);
    if (outq_push(q, head, bulk) == 0) {
        q->off = off;
        q->queued = head->len - off;
        q->bulk_queued = bulk ? q->queued : 0;
    }
    msg_unref(head);
}

bool linger_discard(int fd)
{
    char tmp[4096];
    for (int i = 0; i < 16; i++) {   /* 64 KiB a pass at most */
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n > 0)
            continue;
        return !(n < 0 && (errno == EAGAIN || errno == EINTR));
    }
    return false;
}
