/* One connection to Redis on an ibx_loop (see resp.h): a non-blocking
 * connect with a deadline, commands written in batches (everything queued
 * in a loop pass goes out in one write), replies matched to their
 * commands in order, and the push messages of a subscribed connection
 * ("message", and the subscribe confirmations) handed to on_push. The
 * input waiting for a complete reply is bounded (RESP_REPLY_MAX), the
 * output by RCONN_OUT_MAX. The reply at the head of the input is framed
 * as its bytes come (rc->scan resumes where the last read left it), so a
 * server that trickles a big reply costs work linear in its size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "resp.h"

static void on_io(ibx_loop *loop, ibx_io *io, uint32_t events);

static bool is_open(const struct rconn *rc) { return rc->io.active; }

static void arm(struct rconn *rc)
{
    if (!is_open(rc))
        return;
    uint32_t ev = rc->up ? IBX_EV_READ : IBX_EV_WRITE;
    if (rc->up && ibx_buf_used(&rc->out))
        ev |= IBX_EV_WRITE;
    ibx_io_modify(rc->loop, &rc->io, ev);
}

/* Close the socket; the waiting commands' callbacks get NULL. */
static void shut(struct rconn *rc)
{
    if (!is_open(rc))
        return;
    int fd = rc->io.fd;
    if (!rc->forked) {   /* a fork child closed it already, and the loop is the parent's */
        ibx_io_stop(rc->loop, &rc->io);
        close(fd);
        ibx_timer_stop(rc->loop, &rc->connect_t);
    }
    rc->io.active = false;
    ibx_buf_free(&rc->in);
    ibx_buf_free(&rc->out);
    rc->scan = (struct resp_scan){0};
    rc->up = rc->subscribed = false;
    struct rconn_pend *p = rc->pend;
    size_t head = rc->phead, n = rc->pn, cap = rc->pcap;
    rc->pend = NULL;
    rc->phead = rc->pn = rc->pcap = 0;
    for (size_t i = 0; i < n; i++) {
        struct rconn_pend *e = &p[(head + i) % cap];
        if (e->cb)
            e->cb(rc, NULL, e->arg);
    }
    free(p);
}

static void fail(struct rconn *rc, int err)
{
    shut(rc);
    if (rc->on_state)
        rc->on_state(rc, err, rc->arg);
}

void rconn_close(struct rconn *rc) { shut(rc); }

void rconn_forked(struct rconn *rc)
{
    if (!is_open(rc) || rc->forked)
        return;
    rc->forked = true;
    close(rc->io.fd);
}

static void on_connect_timeout(ibx_loop *loop, ibx_timer *t) { fail(t->data, -ETIMEDOUT); }

int rconn_open(struct rconn *rc, const ibx_addr *addr)
{
    int fd = ibx_tcp_connect(addr);
    if (fd < 0)
        return fd;
    int r = ibx_io_start(rc->loop, &rc->io, fd, IBX_EV_WRITE, on_io, rc);
    if (r < 0) {
        close(fd);
        return r;
    }
    ibx_tcp_nodelay(fd, true);
    rc->up = rc->subscribed = false;
    rc->scan = (struct resp_scan){0};
    ibx_timer_start(rc->loop, &rc->connect_t, RCONN_CONNECT_MS, on_connect_timeout, rc);
    return 0;
}

static int expect(struct rconn *rc, rconn_reply_cb cb, void *arg)
{
    if (rc->pn == rc->pcap) {
        size_t cap = rc->pcap ? rc->pcap * 2 : 16;
        struct rconn_pend *p = malloc(cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        for (size_t i = 0; i < rc->pn; i++)
            p[i] = rc->pend[(rc->phead + i) % rc->pcap];
        free(rc->pend);
        rc->pend = p;
        rc->pcap = cap;
        rc->phead = 0;
    }
    rc->pend[(rc->phead + rc->pn++) % rc->pcap] = (struct rconn_pend){cb, arg};
    return 0;
}

int rconn_cmd(struct rconn *rc, rconn_reply_cb cb, void *arg, int argc,
              const char *const *argv, const size_t *lens)
{
    if (!is_open(rc))
        return -ENOTCONN;
    if (ibx_buf_used(&rc->out) > RCONN_OUT_MAX)
        return -ENOBUFS;
    bool sub = !strcasecmp(argv[0], "SUBSCRIBE") || !strcasecmp(argv[0], "UNSUBSCRIBE");
    if (!sub && expect(rc, cb, arg) < 0)
        return -ENOMEM;
    if (resp_cmd(&rc->out, argc, argv, lens) < 0) {
        if (!sub)
            rc->pn--;
        return -ENOMEM;
    }
    if (sub)
        rc->subscribed = true;   /* its confirmations come as pushes */
    arm(rc);
    return 0;
}

/* Is r a push of a subscribed connection? */
static bool is_push(const struct rconn *rc, const struct resp *r)
{
    if (!rc->subscribed || r->type != RESP_ARRAY || r->n < 1)
        return false;
    static const char *const kinds[] = {"message", "subscribe", "unsubscribe", "pmessage",
                                        "psubscribe", "punsubscribe"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (resp_is(&r->e[0], kinds[i]))
            return true;
    return false;
}

/* Hand out every complete reply; false when rc closed meanwhile. */
static bool dispatch(struct rconn *rc)
{
    while (ibx_buf_used(&rc->in)) {
        struct resp *r = NULL;
        const char *p = ibx_buf_head(&rc->in);
        ssize_t k = resp_scan(&rc->scan, p, ibx_buf_used(&rc->in));
        if (k == 0)
            break;
        if (k > 0) {
            int e = resp_tree(&rc->scan, p, (size_t)k, &r);
            rc->scan = (struct resp_scan){0};
            if (e < 0)
                k = e;
        }
        if (k < 0) {
            fail(rc, k == -ENOMEM ? -ENOMEM : -EPROTO);
            return false;
        }
        ibx_buf_consume(&rc->in, (size_t)k);
        if (is_push(rc, r)) {
            if (rc->on_push)
                rc->on_push(rc, r, rc->arg);
        } else if (!rc->pn) {
            free(r);
            fail(rc, -EPROTO);   /* a reply nobody asked for */
            return false;
        } else {
            struct rconn_pend e = rc->pend[rc->phead];
            rc->phead = (rc->phead + 1) % rc->pcap;
            rc->pn--;
            if (e.cb)
                e.cb(rc, r, e.arg);
        }
        free(r);
        if (!is_open(rc))
            return false;
    }
    if (!ibx_buf_used(&rc->in))
        ibx_buf_free(&rc->in);
    return true;
}

static void on_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct rconn *rc = io->data;
    if (!rc->up) {
        int err = ibx_sock_error(io->fd);
        if (err < 0 || (events & (IBX_EV_ERROR | IBX_EV_HUP))) {
            fail(rc, err < 0 ? err : -ECONNREFUSED);
            return;
        }
        if (!(events & IBX_EV_WRITE))
            return;
        ibx_timer_stop(loop, &rc->connect_t);
        rc->up = true;
        arm(rc);
        if (rc->on_state)
            rc->on_state(rc, 0, rc->arg);
        return;
    }
    if (events & (IBX_EV_READ | IBX_EV_HUP | IBX_EV_ERROR | IBX_EV_RDHUP)) {
        for (int round = 0; round < 16; round++) {
            ssize_t n = ibx_buf_read_fd(&rc->in, io->fd, 65536);
            if (n == -EAGAIN)
                break;
            if (n <= 0) {
                fail(rc, n == 0 ? -ECONNRESET : (int)n);
                return;
            }
            if (ibx_buf_used(&rc->in) > RESP_REPLY_MAX + 65536) {
                fail(rc, -EPROTO);
                return;
            }
            if (!dispatch(rc))
                return;
        }
    }
    if ((events & IBX_EV_WRITE) && ibx_buf_used(&rc->out)) {
        ssize_t w = ibx_buf_write_fd(&rc->out, io->fd);
        if (w < 0 && w != -EAGAIN && w != -EINTR) {
            fail(rc, (int)w);
            return;
        }
        if (!ibx_buf_used(&rc->out))
            ibx_buf_free(&rc->out);
    }
    arm(rc);
}
