/* Two minimal echo servers for the request/response benchmark
 * (bench/echo_uring.sh, load from bench/echo_rr.c): does io_uring used for
 * COMPLETIONS beat epoll readiness on this kernel? Not library code: one
 * thread, no limits, no logging, just what each design needs to echo
 * correctly (short sends, errors, EOF).
 *
 *   rr_servers epoll|uring[-fixed][-ms][-pf][-nodefer] HOST:PORT
 *
 * epoll        level-triggered epoll; readable: one recv() into the
 *              connection's buffer, then send() it back; what a short send
 *              leaves is written on EPOLLOUT before reading again.
 * uring        io_uring completions: multishot accept (re-armed single
 *              accepts where the kernel lacks it), then per connection
 *              RECV -> its completion queues a SEND -> its completion queues
 *              the next RECV (or the rest of a short send). Everything a
 *              pass queues goes to the kernel in the io_uring_submit_and_wait
 *              that waits for the next completions: one io_uring_enter a pass.
 *              The ring is SINGLE_ISSUER|DEFER_TASKRUN where the kernel has
 *              them (else COOP_TASKRUN, else plain).
 *   -fixed     registered descriptors: accepted sockets go straight into the
 *              ring's file table (accept_direct, IOSQE_FIXED_FILE, close_direct)
 *              and the ring's own fd is registered.
 *   -ms        multishot RECV from a ring of provided buffers: one RECV a
 *              connection stays armed; each completion names the buffer, which
 *              is sent back and returned to the ring when fully sent.
 *   -pf        RECV with IORING_RECVSEND_POLL_FIRST: no first attempt that
 *              fails (the answer was just sent: the next request is not there
 *              yet), the ring's internal poll is armed at once.
 *   -nodefer   no SINGLE_ISSUER|DEFER_TASKRUN (COOP_TASKRUN instead).
 *
 * Both read up to 16 KiB at once, as the ipcbox echo applet does; neither
 * sets TCP_NODELAY (the applet does not either). SIGTERM or SIGINT: exit 0. */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipcbox/net.h"

#define BUF_SIZE 16384   /* a connection's receive buffer (the echo applet's) */
#define MAX_EVENTS 256   /* events a pass, as src/lib/loop_epoll.c */
#define RING_ENTRIES 4096
#define MS_BUFS 4096     /* -ms: provided buffers (a power of two) */
#define MS_BUF_SIZE 4096 /* -ms: bytes each */
#define MS_GROUP 1       /* -ms: the buffer group id */

/* One connection (both servers; the uring fields are unused by epoll). */
struct conn {
    int fd;             /* descriptor, or registered index with -fixed */
    uint32_t off, len;  /* bytes of buf sent / held */
    char *buf;          /* BUF_SIZE bytes (not with -ms) */
    bool recv_armed;    /* a RECV is in flight */
    bool send_busy;     /* a SEND is in flight */
    bool eof;           /* the peer closed: send what is queued, then close */
    bool failed;        /* an error: drop what is queued, close */
    bool cancelling;    /* -ms: the RECV's cancellation is on its way */
    int head, tail;     /* -ms: queued buffer ids, -1 when none */
    struct conn *next_wait; /* -ms: on the list waiting for free buffers */
};

/* Connections indexed by descriptor (or registered index). */
struct table {
    struct conn **c;
    size_t n;
};

static int table_init(struct table *t)
{
    struct rlimit rl;
    t->n = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
               ? (size_t)rl.rlim_cur : 65536;
    t->c = calloc(t->n, sizeof *t->c);
    return t->c ? 0 : -ENOMEM;
}

static struct conn *conn_new(struct table *t, int fd, bool with_buf)
{
    if (fd < 0 || (size_t)fd >= t->n)
        return NULL;
    struct conn *c = calloc(1, sizeof *c);
    if (c && with_buf && !(c->buf = malloc(BUF_SIZE))) {
        free(c);
        c = NULL;
    }
    if (c) {
        c->fd = fd;
        c->head = c->tail = -1;
        t->c[fd] = c;
    }
    return c;
}

static void conn_free(struct table *t, struct conn *c)
{
    t->c[c->fd] = NULL;
    free(c->buf);
    free(c);
}

/* At exit: the connections still open (their descriptors go with the
 * process) and the table. */
static void table_free(struct table *t)
{
    for (size_t i = 0; t->c && i < t->n; i++)
        if (t->c[i])
            conn_free(t, t->c[i]);
    free(t->c);
}

/* A signalfd for SIGTERM and SIGINT (blocked): the servers wait on it. */
static int stop_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* ---- epoll: readiness ------------------------------------------------- */

static void e_close(struct table *t, struct conn *c)
{
    close(c->fd);
    conn_free(t, c);
}

static void e_watch(int ep, int op, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.fd = fd};
    epoll_ctl(ep, op, fd, &ev);
}

/* The connection is ready: finish a short send, or read and echo. */
static void e_ready(int ep, struct table *t, struct conn *c)
{
    if (c->off < c->len) {
        ssize_t w = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            e_close(t, c);
            return;
        }
        c->off += w > 0 ? (uint32_t)w : 0;
        if (c->off == c->len) {
            c->off = c->len = 0;
            e_watch(ep, EPOLL_CTL_MOD, c->fd, EPOLLIN);
        }
        return;
    }
    ssize_t r = recv(c->fd, c->buf, BUF_SIZE, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        e_close(t, c);
        return;
    }
    ssize_t w = send(c->fd, c->buf, (size_t)r, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
        e_close(t, c);
        return;
    }
    if (w < r) {   /* the rest goes out on EPOLLOUT; reading waits */
        c->off = w > 0 ? (uint32_t)w : 0;
        c->len = (uint32_t)r;
        e_watch(ep, EPOLL_CTL_MOD, c->fd, EPOLLOUT);
    }
}

static int run_epoll(int lfd, int sfd)
{
    struct table t;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || table_init(&t) < 0)
        return 1;
    e_watch(ep, EPOLL_CTL_ADD, lfd, EPOLLIN);
    e_watch(ep, EPOLL_CTL_ADD, sfd, EPOLLIN);
    struct epoll_event evs[MAX_EVENTS];
    int status = -1;
    while (status < 0) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) {
            perror("rr_servers: epoll_wait");
            status = 1;
        }
        for (int i = 0; i < n && status < 0; i++) {
            int fd = evs[i].data.fd;
            if (fd == sfd) {
                status = 0;
                break;
            }
            if (fd != lfd) {
                if (t.c[fd])
                    e_ready(ep, &t, t.c[fd]);
                continue;
            }
            int cfd;
            while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                if (!conn_new(&t, cfd, true)) {
                    close(cfd);
                    continue;
                }
                e_watch(ep, EPOLL_CTL_ADD, cfd, EPOLLIN);
            }
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
                perror("rr_servers: accept");
                status = 1;   /* (EMFILE and the like: a bench program just stops) */
            }
        }
    }
    table_free(&t);
    close(ep);
    return status;
}

/* ---- io_uring: completions -------------------------------------------- */

enum { OP_ACCEPT, OP_RECV, OP_SEND, OP_CLOSE, OP_CANCEL, OP_STOP };
#define UD(fd, op) ((uint64_t)(uint32_t)(fd) << 8 | (op))

struct usrv {
    struct io_uring ring;
    struct table t;
    int lfd;
    bool fixed, ms, pf, ms_accept;
    bool have_ring;          /* the ring was set up */
    /* -ms */
    struct io_uring_buf_ring *br;
    char *bufs;
    int *next;               /* next queued buffer id of the same connection */
    uint32_t *blen;          /* bytes held by each queued buffer */
    struct conn *waiting;    /* connections whose RECV ended for want of buffers */
};

/* A free submission entry; submits first when the ring is full. */
static struct io_uring_sqe *sqe_get(struct usrv *s)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
    if (!sqe) {
        io_uring_submit(&s->ring);
        sqe = io_uring_get_sqe(&s->ring);
    }
    if (!sqe) {   /* cannot happen after a submit: RING_ENTRIES is free */
        fprintf(stderr, "rr_servers: no submission entry\n");
        exit(1);
    }
    return sqe;
}

static void u_fd_op(struct usrv *s, struct io_uring_sqe *sqe, int fd, int op)
{
    if (s->fixed && (op == OP_RECV || op == OP_SEND))
        sqe->flags |= IOSQE_FIXED_FILE;
    io_uring_sqe_set_data64(sqe, UD(fd, op));
}

static void u_accept(struct usrv *s)
{
    struct io_uring_sqe *sqe = sqe_get(s);
    /* (a registered descriptor has no close-on-exec flag to set) */
    if (s->ms_accept && s->fixed)
        io_uring_prep_multishot_accept_direct(sqe, s->lfd, NULL, NULL, 0);
    else if (s->ms_accept)
        io_uring_prep_multishot_accept(sqe, s->lfd, NULL, NULL, SOCK_CLOEXEC);
    else if (s->fixed)
        io_uring_prep_accept_direct(sqe, s->lfd, NULL, NULL, 0, IORING_FILE_INDEX_ALLOC - 1);
    else
        io_uring_prep_accept(sqe, s->lfd, NULL, NULL, SOCK_CLOEXEC);
    u_fd_op(s, sqe, s->lfd, OP_ACCEPT);
}

static void u_recv(struct usrv *s, struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get(s);
    if (s->ms) {
        io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = MS_GROUP;
    } else {
        io_uring_prep_recv(sqe, c->fd, c->buf, BUF_SIZE, 0);
    }
    if (s->pf)
        sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
    u_fd_op(s, sqe, c->fd, OP_RECV);
    c->recv_armed = true;
}

/* Send the rest of buf[off, len) (-ms: of the first queued buffer). */
static void u_send(struct usrv *s, struct conn *c)
{
    const char *p = s->ms ? s->bufs + (size_t)c->head * MS_BUF_SIZE : c->buf;
    uint32_t len = s->ms ? s->blen[c->head] : c->len;
    struct io_uring_sqe *sqe = sqe_get(s);
    io_uring_prep_send(sqe, c->fd, p + c->off, len - c->off, MSG_NOSIGNAL);
    u_fd_op(s, sqe, c->fd, OP_SEND);
    c->send_busy = true;
}

/* -ms: give buffer bid back to the kernel; wake a connection waiting for one. */
static void ms_recycle(struct usrv *s, int bid)
{
    io_uring_buf_ring_add(s->br, s->bufs + (size_t)bid * MS_BUF_SIZE, MS_BUF_SIZE,
                          (unsigned short)bid, io_uring_buf_ring_mask(MS_BUFS), 0);
    io_uring_buf_ring_advance(s->br, 1);
    struct conn *w = s->waiting;
    if (w) {
        s->waiting = w->next_wait;
        w->next_wait = NULL;
        u_recv(s, w);
    }
}

/* Close c once it is done: failed, or at EOF with nothing left to send;
 * and only when nothing of it is in flight (-ms: its RECV is cancelled
 * first, the final completion of that RECV comes back before the close). */
static void u_maybe_close(struct usrv *s, struct conn *c)
{
    if (!c->failed && !(c->eof && c->head < 0 && !c->send_busy))
        return;
    if (c->recv_armed) {
        if (!c->cancelling) {
            struct io_uring_sqe *sqe = sqe_get(s);
            io_uring_prep_cancel64(sqe, UD(c->fd, OP_RECV), 0);
            u_fd_op(s, sqe, c->fd, OP_CANCEL);
            c->cancelling = true;
        }
        return;
    }
    if (c->send_busy)
        return;
    for (struct conn **p = &s->waiting; *p; p = &(*p)->next_wait)
        if (*p == c) {
            *p = c->next_wait;
            break;
        }
    while (c->head >= 0) {
        int bid = c->head;
        c->head = s->next[bid];
        ms_recycle(s, bid);
    }
    struct io_uring_sqe *sqe = sqe_get(s);
    if (s->fixed)
        io_uring_prep_close_direct(sqe, (unsigned)c->fd);
    else
        io_uring_prep_close(sqe, c->fd);
    u_fd_op(s, sqe, c->fd, OP_CLOSE);
    conn_free(&s->t, c);
}

static void u_recv_done(struct usrv *s, struct conn *c, int res, uint32_t flags)
{
    bool more = flags & IORING_CQE_F_MORE;
    if (!s->ms || !more)
        c->recv_armed = false;
    if (res == 0)
        c->eof = true;
    else if (res < 0 && !(s->ms && res == -ENOBUFS))
        c->failed = true;
    if (res == -ENOBUFS && !c->failed) {   /* -ms: RECV again once a buffer is back */
        c->next_wait = s->waiting;
        s->waiting = c;
    }
    if (res <= 0) {
        u_maybe_close(s, c);
        return;
    }
    if (!s->ms) {
        c->off = 0;
        c->len = (uint32_t)res;
        u_send(s, c);
        return;
    }
    int bid = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
    if (c->failed) {
        ms_recycle(s, bid);
    } else {
        s->blen[bid] = (uint32_t)res;
        s->next[bid] = -1;
        if (c->tail >= 0)
            s->next[c->tail] = bid;
        else
            c->head = bid;
        c->tail = bid;
        if (!c->send_busy)
            u_send(s, c);
        if (!more)   /* the multishot RECV ended (the kernel may end it) */
            u_recv(s, c);
    }
    u_maybe_close(s, c);
}

static void u_send_done(struct usrv *s, struct conn *c, int res)
{
    c->send_busy = false;
    if (res <= 0) {
        c->failed = true;
        u_maybe_close(s, c);
        return;
    }
    c->off += (uint32_t)res;
    if (!s->ms) {
        if (c->off < c->len)
            u_send(s, c);   /* short send: the rest */
        else
            u_recv(s, c);
        return;
    }
    if (c->off < s->blen[c->head]) {
        u_send(s, c);
        return;
    }
    int bid = c->head;
    c->head = s->next[bid];
    if (c->head < 0)
        c->tail = -1;
    c->off = 0;
    ms_recycle(s, bid);
    if (c->head >= 0 && !c->failed)
        u_send(s, c);
    u_maybe_close(s, c);
}

/* Returns false on an error that stops the server. */
static bool u_accept_done(struct usrv *s, int res, uint32_t flags)
{
    if (res >= 0) {
        struct conn *c = conn_new(&s->t, res, !s->ms);
        if (c) {
            u_recv(s, c);
        } else {
            struct io_uring_sqe *sqe = sqe_get(s);
            if (s->fixed)
                io_uring_prep_close_direct(sqe, (unsigned)res);
            else
                io_uring_prep_close(sqe, res);
            u_fd_op(s, sqe, res, OP_CLOSE);
        }
    } else if (res == -EINVAL && s->ms_accept) {
        s->ms_accept = false;   /* a kernel without multishot accept */
    } else if (res != -ECONNABORTED && res != -EINTR) {
        fprintf(stderr, "rr_servers: accept: %s\n", strerror(-res));
        return false;   /* (EMFILE and the like: a bench program just stops) */
    }
    if (!(flags & IORING_CQE_F_MORE))
        u_accept(s);
    return true;
}

/* One completion; returns 0 to go on, -1 on the stop signal, 1 on an
 * accept error. */
static int u_complete(struct usrv *s, const struct io_uring_cqe *cqe)
{
    int op = (int)(cqe->user_data & 0xff);
    int fd = (int)(cqe->user_data >> 8);
    struct conn *c = op == OP_RECV || op == OP_SEND ? s->t.c[fd] : NULL;
    if (op == OP_STOP)
        return -1;
    if (op == OP_ACCEPT && !u_accept_done(s, cqe->res, cqe->flags))
        return 1;
    if (op == OP_RECV && c)
        u_recv_done(s, c, cqe->res, cqe->flags);
    else if (op == OP_SEND && c)
        u_send_done(s, c, cqe->res);
    return 0;   /* OP_CLOSE, OP_CANCEL: nothing to do */
}

/* The ring, with the flags the kernel takes; returns 0 or -errno. */
static int u_setup(struct usrv *s, bool nodefer)
{
    static const struct {
        unsigned flags;
        const char *name;
    } tries[] = {
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "SINGLE_ISSUER|DEFER_TASKRUN"},
        {IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN"},
        {0, "no setup flags"},
    };
    int r = -EINVAL;
    for (size_t i = nodefer ? 1 : 0; i < sizeof tries / sizeof *tries && r == -EINVAL; i++) {
        struct io_uring_params p = {.flags = tries[i].flags};
        r = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
        s->have_ring = r == 0;
        if (r == 0)
            fprintf(stderr, "rr_servers: io_uring with %s%s%s%s\n", tries[i].name,
                    s->fixed ? ", registered files" : "",
                    s->ms ? ", multishot recv, provided buffers" : "",
                    s->pf ? ", recv poll first" : "");
    }
    if (r < 0)
        return r;
    if (s->fixed && ((r = io_uring_register_files_sparse(&s->ring, (unsigned)s->t.n)) < 0 ||
                     (r = io_uring_register_ring_fd(&s->ring)) < 0))
        return r;
    if (!s->ms)
        return 0;
    void *br;
    if (posix_memalign(&br, (size_t)sysconf(_SC_PAGESIZE), MS_BUFS * sizeof(struct io_uring_buf)))
        return -ENOMEM;
    s->br = br;
    s->bufs = malloc((size_t)MS_BUFS * MS_BUF_SIZE);
    s->next = malloc(MS_BUFS * sizeof *s->next);
    s->blen = malloc(MS_BUFS * sizeof *s->blen);
    if (!s->bufs || !s->next || !s->blen)
        return -ENOMEM;
    struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)br, .ring_entries = MS_BUFS,
                                   .bgid = MS_GROUP};
    if ((r = io_uring_register_buf_ring(&s->ring, &reg, 0)) < 0)
        return r;
    io_uring_buf_ring_init(s->br);
    for (int i = 0; i < MS_BUFS; i++)
        io_uring_buf_ring_add(s->br, s->bufs + (size_t)i * MS_BUF_SIZE, MS_BUF_SIZE,
                              (unsigned short)i, io_uring_buf_ring_mask(MS_BUFS), i);
    io_uring_buf_ring_advance(s->br, MS_BUFS);
    return 0;
}

static void u_free(struct usrv *s)
{
    if (s->have_ring)
        io_uring_queue_exit(&s->ring);
    table_free(&s->t);
    free(s->br);
    free(s->bufs);
    free(s->next);
    free(s->blen);
}

static int run_uring(int lfd, int sfd, bool fixed, bool ms, bool pf, bool nodefer)
{
    struct usrv s = {.lfd = lfd, .fixed = fixed, .ms = ms, .pf = pf, .ms_accept = true};
    int r = table_init(&s.t);
    if (r == 0)
        r = u_setup(&s, nodefer);
    if (r < 0) {
        fprintf(stderr, "rr_servers: io_uring: %s\n", strerror(-r));
        u_free(&s);
        return 1;
    }
    /* a blocking listener: io_uring waits for connections itself (an
     * O_NONBLOCK one would have its accepts end with -EAGAIN) */
    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) & ~O_NONBLOCK);
    struct io_uring_sqe *sqe = sqe_get(&s);
    io_uring_prep_poll_add(sqe, sfd, POLLIN);
    u_fd_op(&s, sqe, sfd, OP_STOP);
    u_accept(&s);
    int stop = 0;
    while (!stop) {
        r = io_uring_submit_and_wait(&s.ring, 1);
        if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
            fprintf(stderr, "rr_servers: io_uring_enter: %s\n", strerror(-r));
            stop = 1;
        }
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&s.ring, head, cqe) {
            n++;
            if (!stop)
                stop = u_complete(&s, cqe);
        }
        io_uring_cq_advance(&s.ring, n);
    }
    u_free(&s);
    return stop > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    bool uring = false, fixed = false, ms = false, pf = false, nodefer = false, ok = argc == 3;
    if (ok && !strncmp(argv[1], "uring", 5) && (argv[1][5] == '\0' || argv[1][5] == '-')) {
        uring = true;
        char variant[64];
        snprintf(variant, sizeof variant, "%s", argv[1] + 5);
        for (char *save, *w = strtok_r(variant, "-", &save); w; w = strtok_r(NULL, "-", &save)) {
            if (!strcmp(w, "fixed"))
                fixed = true;
            else if (!strcmp(w, "ms"))
                ms = true;
            else if (!strcmp(w, "pf"))
                pf = true;
            else if (!strcmp(w, "nodefer"))
                nodefer = true;
            else
                ok = false;
        }
    } else if (ok && strcmp(argv[1], "epoll")) {
        ok = false;
    }
    ibx_addr addr;
    if (!ok || ibx_addr_parse(argv[2], "127.0.0.1", 7007, &addr) < 0) {
        fprintf(stderr, "usage: rr_servers epoll|uring[-fixed][-ms][-pf][-nodefer] HOST:PORT\n");
        return 2;
    }
    int lfd = ibx_tcp_listen(&addr, 0, 0);
    if (lfd < 0) {
        fprintf(stderr, "rr_servers: listen %s: %s\n", argv[2], strerror(-lfd));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    int sfd = stop_fd();
    if (sfd < 0) {
        perror("signalfd");
        return 1;
    }
    return uring ? run_uring(lfd, sfd, fixed, ms, pf, nodefer) : run_epoll(lfd, sfd);
}
