/* The TFTP server unit (see server.h): requests on the listener, options
 * granted by policy, one engine (transfer.c) per transfer, one log line each. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/job.h"
#include "tftp/policy.h"
#include "tftp/root.h"
#include "tftp/transfer.h"

#define HASH_SIZE 1024                     /* single-port peer table */
#define RX_SLOT (IBX_TFTP_PKT_MAX + 1)     /* one more byte shows a cut */
#define RX_ROUNDS 4                        /* batches per wake-up (fairness) */
#define DALLY_MAX_MS 3000                  /* re-ACK a repeated last block */
#define SPIN_US 200                        /* busy-poll per wait (see below) */
#define SPIN_BUDGET_US 20000               /* busy-poll per wake-up */
#define STAMP_ROOM CMSG_SPACE(sizeof(struct timespec))   /* SO_TIMESTAMPNS */
#define LIMIT_LOG_US 1000000               /* one "limit reached" line per second */
#define REFUSE_LOG_BURST 5                 /* refusal lines logged in full a second */
#define REFUSE_LOG_MS 1000                 /* ... the rest summed up once a second */
#define REFUSE_CODES 9                     /* TFTP error codes 0..8 */

struct tftpd;

struct transfer {
    ibx_conn base;             /* first: a unit of the worker */
    struct tftpd *srv;
    struct transfer *hnext;    /* chain by peer address and port */
    struct transfer *anext;    /* chain by peer address (per-peer cap) */
    struct transfer *uv_prev, *uv_next;   /* unverified, oldest first */
    bool in_uv;
    ibx_io io;
    ibx_timer timer;
    ibx_defer free_later;
    struct tftp_tx x;
    struct root_upload up;
    struct ibx_job commit;     /* an upload's fsync + rename, off the loop */
    int commit_rc;
    bool upload, closing, dally, logged;
    uint64_t declared;         /* an octet upload's tsize (0 = none) */
    char peer[IBX_ADDRSTRLEN];
    char name[128];            /* printable copy for the log */
};

struct tftpd {
    ibx_conn base;
    ibx_io io;
    ibx_defer free_later;
    struct tftpd_cfg *cfg;
    ibx_worker *w;
    ibx_loop *loop;
    const ibx_log *log;
    int lfd;
    ibx_addr local;            /* the listener's address (port 0 for transfers) */
    struct tftp_tx_scratch scratch;
    uint8_t *rx;               /* TFTP_TX_BATCH slots of RX_SLOT */
    unsigned ntransfers;
    unsigned port_next;
    bool draining, finished;
    struct transfer *hash[HASH_SIZE];
    struct transfer *ahash[HASH_SIZE];    /* by address only */
    struct transfer *uv_head, *uv_tail;   /* peers not verified yet */
    uint64_t limit_log_t;                 /* last "limit reached" line */
    unsigned long limit_hits;             /* refusals since that line */
    unsigned long limit_evicted;          /* evictions since that line */
    ibx_log_gate refuse_gate;             /* refusal lines logged in full */
    ibx_timer refuse_log;                 /* armed while refusals are summed up */
    unsigned long refused[REFUSE_CODES];  /* held back since, by ERROR code */
    char refused_last[IBX_ADDRSTRLEN];    /* the last peer held back */
};

/* ---- helpers ----------------------------------------------------------- */

static unsigned peer_hash_mod(const struct sockaddr *sa)
{
    return peer_hash(sa) % HASH_SIZE;
}


/* A hash of the peer's address alone (its port zeroed). */
static unsigned addr_hash_mod(const struct sockaddr *sa)
{
    struct sockaddr_storage a;
    memcpy(&a, sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                             : sizeof(struct sockaddr_in));
    ibx_addr_set_port((struct sockaddr *)&a, 0);
    return peer_hash((struct sockaddr *)&a) % HASH_SIZE;
}

/* Same host, any port. */
static bool same_host(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
}

static void uv_unlink(struct tftpd *s, struct transfer *t)
{
    if (!t->in_uv)
        return;
    t->in_uv = false;
    if (t->uv_prev)
        t->uv_prev->uv_next = t->uv_next;
    else
        s->uv_head = t->uv_next;
    if (t->uv_next)
        t->uv_next->uv_prev = t->uv_prev;
    else
        s->uv_tail = t->uv_prev;
    t->uv_prev = t->uv_next = NULL;
}

static void uv_append(struct tftpd *s, struct transfer *t)
{
    t->in_uv = true;
    t->uv_next = NULL;
    t->uv_prev = s->uv_tail;
    if (s->uv_tail)
        s->uv_tail->uv_next = t;
    else
        s->uv_head = t;
    s->uv_tail = t;
}

static struct transfer *lookup(struct tftpd *s, const struct sockaddr *sa)
{
    for (struct transfer *t = s->hash[peer_hash_mod(sa)]; t; t = t->hnext)
        if (tftp_tx_same_addr(sa, (struct sockaddr *)&t->x.peer.ss))
            return t;
    return NULL;
}

static void unhash(struct tftpd *s, struct transfer *t)
{
    const struct sockaddr *sa = (struct sockaddr *)&t->x.peer.ss;
    struct transfer **pp = &s->hash[peer_hash_mod(sa)];
    for (; *pp; pp = &(*pp)->hnext)
        if (*pp == t) {
            *pp = t->hnext;
            break;
        }
    for (pp = &s->ahash[addr_hash_mod(sa)]; *pp; pp = &(*pp)->anext)
        if (*pp == t) {
            *pp = t->anext;
            break;
        }
    uv_unlink(s, t);
}

/* Kernel receive timestamps: when a datagram arrived, which tells an ACK
 * that answers what we sent from one sent before it (transfer.h). */
static void enable_stamps(int fd)
{
    int on = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
}

struct rx_ctl {
    uint8_t buf[TFTP_TX_BATCH][STAMP_ROOM];
    uint64_t mono;             /* tftp_tx_clock() after the receive */
    struct timespec real;      /* CLOCK_REALTIME then (the stamps' clock) */
};

static int rx_batch(struct tftpd *s, int fd, struct mmsghdr *m,
                    struct sockaddr_storage *from, struct iovec *iov,
                    struct rx_ctl *c)
{
    for (unsigned i = 0; i < TFTP_TX_BATCH; i++) {
        iov[i].iov_base = s->rx + (size_t)i * RX_SLOT;
        iov[i].iov_len = RX_SLOT;
        memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
        m[i].msg_hdr.msg_name = &from[i];
        m[i].msg_hdr.msg_namelen = sizeof from[i];
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
        m[i].msg_hdr.msg_control = c->buf[i];
        m[i].msg_hdr.msg_controllen = sizeof c->buf[i];
    }
    int n = recvmmsg(fd, m, TFTP_TX_BATCH, MSG_DONTWAIT, NULL);
    c->mono = tftp_tx_clock();
    clock_gettime(CLOCK_REALTIME, &c->real);
    return n;
}

/* When message h arrived, on tftp_tx_clock() (the read time if unstamped). */
static uint64_t rx_arrival(const struct msghdr *h, const struct rx_ctl *c)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR((struct msghdr *)h, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        int64_t ago = ((int64_t)c->real.tv_sec - ts.tv_sec) * 1000000 +
                      ((int64_t)c->real.tv_nsec - ts.tv_nsec) / 1000;
        if (ago > 0 && (uint64_t)ago < c->mono)
            return c->mono - (uint64_t)ago;
        return c->mono;
    }
    return c->mono;
}

/* ---- transfers --------------------------------------------------------- */

static void listener_finish(struct tftpd *s);

static void transfer_free(ibx_loop *loop, ibx_defer *d)
{
    struct transfer *t = d->data;
    ibx_conn_done(&t->base);
    free(t);
}

static void log_transfer(struct transfer *t)
{
    if (t->logged)
        return;
    t->logged = true;
    const struct tftp_tx *x = &t->x;
    uint64_t us = tftp_tx_clock() - x->start;
    double secs = us ? (double)us / 1e6 : 1e-6;
    bool ok = x->state == TFTP_TX_DONE;
    if (ok)
        ibx_info(t->srv->log, "msg=\"%s done\" op=%s peer=%s file=\"%s\" mode=%s "
                 "bytes=%llu blksize=%u windowsize=%u duration_ms=%llu rate=%.2fMB/s "
                 "retransmits=%llu result=ok", t->upload ? "put" : "get",
                 t->upload ? "put" : "get", t->peer, t->name, ibx_tftp_mode_name(x->mode),
                 (unsigned long long)x->bytes, x->blksize, x->window,
                 (unsigned long long)(us / 1000), (double)x->bytes / secs / 1e6,
                 (unsigned long long)x->retransmits);
    else
        ibx_warn(t->srv->log, "msg=\"%s failed\" op=%s peer=%s file=\"%s\" mode=%s "
                 "bytes=%llu blksize=%u windowsize=%u duration_ms=%llu rate=%.2fMB/s "
                 "retransmits=%llu result=failed reason=%s", t->upload ? "put" : "get",
                 t->upload ? "put" : "get", t->peer, t->name, ibx_tftp_mode_name(x->mode),
                 (unsigned long long)x->bytes, x->blksize, x->window,
                 (unsigned long long)(us / 1000), (double)x->bytes / secs / 1e6,
                 (unsigned long long)x->retransmits, x->why);
}

static void transfer_close(struct transfer *t)
{
    struct tftpd *s = t->srv;
    if (t->closing)
        return;
    t->closing = true;
    log_transfer(t);
    unhash(s, t);
    if (!s->cfg->single_port) {
        ibx_io_stop(s->loop, &t->io);
        close(t->x.sock);
    }
    ibx_timer_stop(s->loop, &t->timer);
    /* an abort during a commit waits for it: the thread owns t->up */
    ibx_job_fini(&t->commit, s->loop);
    if (t->upload)
        root_upload_abort(&t->up);   /* a no-op once committed */
    else if (t->x.file >= 0)
        close(t->x.file);
    tftp_tx_release(&t->x);
    s->ntransfers--;
    ibx_loop_defer(s->loop, &t->free_later, transfer_free, t);
    if (s->draining && !s->ntransfers)
        listener_finish(s);
}

static void on_transfer_timer(ibx_loop *loop, ibx_timer *tm);

/* On the job's thread: make the upload durable under its name. */
static void commit_work(struct ibx_job *j)
{
    struct transfer *t = j->data;
    t->commit_rc = root_upload_commit(&t->up);
}

/* Back on the loop: acknowledge the last block, or report the failure. */
static void commit_done(ibx_loop *loop, struct ibx_job *j)
{
    struct transfer *t = j->data;
    struct tftp_tx *x = &t->x;
    if (t->commit_rc < 0) {
        x->state = TFTP_TX_FAILED;
        snprintf(x->why, sizeof x->why, "commit: %s", strerror(-t->commit_rc));
        tftp_tx_send_error(x->sock, (struct sockaddr *)&x->peer.ss, x->peer.len,
                           IBX_TFTP_EUNDEF, "cannot store file");
        transfer_close(t);
        return;
    }
    log_transfer(t);   /* first, so the line exists once the peer knows */
    tftp_tx_ack_final(x, tftp_tx_clock());
    /* stay a little to re-ACK a repeated last block (lost final ACK) */
    t->dally = true;
    uint32_t d = x->rto_max * 2 < DALLY_MAX_MS ? x->rto_max * 2 : DALLY_MAX_MS;
    ibx_timer_start(loop, &t->timer, d, on_transfer_timer, t);
}

/* Bring the watchers in line with the engine after every call into it. */
static void transfer_sync(struct transfer *t)
{
    struct tftpd *s = t->srv;
    struct tftp_tx *x = &t->x;
    if (t->closing)
        return;
    if (t->in_uv && x->verified)
        uv_unlink(s, t);   /* it proved its address: never evicted */
    if (x->state == TFTP_TX_RUNNING) {
        /* the engine counts microseconds, the loop's timers milliseconds */
        uint64_t now = tftp_tx_clock();
        uint64_t wait = x->deadline > now ? (x->deadline - now + 999) / 1000 : 0;
        if ((x->want_write && s->cfg->single_port) || x->pace_wait)
            wait = wait > 1 ? 1 : wait;   /* shared socket: poll it by timer;
                                             or the next burst of a window */
        else if (!s->cfg->single_port)
            ibx_io_modify(s->loop, &t->io, IBX_EV_READ | (x->want_write ? IBX_EV_WRITE : 0));
        ibx_timer_start(s->loop, &t->timer, wait, on_transfer_timer, t);
        return;
    }
    if (x->state == TFTP_TX_DONE && t->upload && !t->dally && t->declared &&
        x->bytes != t->declared && !ibx_job_running(&t->commit)) {
        tftp_tx_send_error(x->sock, (struct sockaddr *)&x->peer.ss, x->peer.len,
                           IBX_TFTP_EUNDEF, "size differs from the declared tsize");
        x->state = TFTP_TX_FAILED;
        snprintf(x->why, sizeof x->why, "%llu bytes, declared tsize %llu: not stored",
                 (unsigned long long)x->bytes, (unsigned long long)t->declared);
    }
    if (x->state == TFTP_TX_DONE && t->upload && !t->dally) {
        /* fsync and rename block on the disk: on a thread of their own,
         * so other transfers on this loop go on meanwhile. Until the final
         * ACK, a repeated last block gets no answer (hold_final). */
        if (!ibx_job_running(&t->commit)) {
            ibx_debug(s->log, "msg=\"storing (fsync, rename)\" op=put peer=%s file=\"%s\"",
                      t->peer, t->name);
            ibx_timer_stop(s->loop, &t->timer);
            ibx_job_start(&t->commit, s->loop, commit_work, commit_done, t);
        }
        return;
    }
    if (!t->dally)
        transfer_close(t);
}

static void on_transfer_timer(ibx_loop *loop, ibx_timer *tm)
{
    struct transfer *t = tm->data;
    uint64_t now = tftp_tx_clock();
    (void)loop;
    if (t->dally) {
        transfer_close(t);
        return;
    }
    if (now >= t->x.deadline)
        tftp_tx_timeout(&t->x, now);
    else if (t->x.pace_wait)
        tftp_tx_pace(&t->x, now);
    else if (t->x.want_write)
        tftp_tx_writable(&t->x, now);
    transfer_sync(t);
}

/* Feed one datagram (single-port path: flush at once, the slot is reused). */
static void transfer_feed(struct transfer *t, const uint8_t *pkt, size_t len,
                          const struct sockaddr *from, socklen_t flen, uint64_t now,
                          uint64_t arrived)
{
    t->x.arrived = arrived;
    tftp_tx_input(&t->x, pkt, len, from, flen, now);
    t->x.arrived = 0;
    tftp_tx_flush(&t->x, now);
    transfer_sync(t);
}

/* Busy-poll for the peer's next packet instead of sleeping: where waking
 * an idle CPU costs hundreds of microseconds (virtual machines), lock-step
 * TFTP pays it on every round trip. Only while this is the only transfer,
 * its round trip is under a millisecond, SPIN_US at a time and at most
 * SPIN_BUDGET_US per wake-up, so timers and signals still run; and never
 * in `serve`, where other services share the loop (cfg->busy_poll). */
static bool should_spin(const struct transfer *t)
{
    const struct tftp_tx *x = &t->x;
    /* a paced burst is due within microseconds, whatever the round trip */
    return t->srv->cfg->busy_poll && t->srv->ntransfers == 1 &&
           x->state == TFTP_TX_RUNNING && !x->want_write &&
           (x->srtt8 < 8 * 1000 || x->pace_wait) && !t->closing;
}

/* What ended a spin_wait(). */
enum spin_end {
    SPIN_IDLE,        /* SPIN_US passed with none of the others */
    SPIN_READABLE,    /* the socket became readable */
    SPIN_PACE,        /* pace_at came: a paced burst is due */
    SPIN_DEADLINE,    /* the engine's deadline came */
};

/* Spin up to SPIN_US for the socket to become readable, until pace_at
 * (0: none), or until the engine's deadline, whichever comes first. */
static enum spin_end spin_wait(int fd, uint64_t pace_at, uint64_t deadline)
{
    struct pollfd p = {fd, POLLIN, 0};
    for (uint64_t t = tftp_tx_clock(), end = t + SPIN_US; t < end; t = tftp_tx_clock()) {
        if (pace_at && t >= pace_at)
            return SPIN_PACE;
        if (t >= deadline)
            return SPIN_DEADLINE;
        if (poll(&p, 1, 0) > 0)
            return SPIN_READABLE;
    }
    return SPIN_IDLE;
}

static void on_transfer_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct transfer *t = io->data;
    struct tftpd *s = t->srv;
    struct mmsghdr m[TFTP_TX_BATCH];
    struct sockaddr_storage from[TFTP_TX_BATCH];
    struct iovec iov[TFTP_TX_BATCH];
    struct rx_ctl rc;
    uint64_t now = tftp_tx_clock(), budget = now + SPIN_BUDGET_US;
    if (events & IBX_EV_WRITE)
        tftp_tx_writable(&t->x, now);
    uint64_t pace_at = 0;
    for (;;) {
        for (int round = 0; round < RX_ROUNDS && (events & (IBX_EV_READ | IBX_EV_ERROR)); round++) {
            int n = rx_batch(s, t->x.sock, m, from, iov, &rc);
            if (n <= 0)
                break;
            for (int i = 0; i < n; i++) {
                if (m[i].msg_hdr.msg_flags & MSG_TRUNC)
                    continue;
                t->x.arrived = t->x.verified ? 0 : rx_arrival(&m[i].msg_hdr, &rc);
                tftp_tx_input(&t->x, iov[i].iov_base, m[i].msg_len,
                              (struct sockaddr *)&from[i], m[i].msg_hdr.msg_namelen, now);
            }
            t->x.arrived = 0;
            tftp_tx_flush(&t->x, now);
            if (n < TFTP_TX_BATCH || t->x.state != TFTP_TX_RUNNING)
                break;
        }
        if (!t->x.pace_wait)
            pace_at = 0;
        else if (!pace_at)
            pace_at = tftp_tx_clock() + TFTP_TX_PACE_US;
        enum spin_end w = should_spin(t) && tftp_tx_clock() <= budget
                              ? spin_wait(t->x.sock, pace_at, t->x.deadline) : SPIN_IDLE;
        if (w == SPIN_IDLE)
            break;   /* a paced burst then waits for the timer (transfer_sync) */
        now = tftp_tx_clock();
        events = IBX_EV_READ;
        if (w == SPIN_PACE) {
            pace_at = 0;
            tftp_tx_pace(&t->x, now);
        } else if (w == SPIN_DEADLINE) {
            tftp_tx_timeout(&t->x, now);   /* a loss, found to the microsecond */
            if (t->x.state != TFTP_TX_RUNNING)
                break;
        }
    }
    ibx_loop_update_now(loop);   /* a spin may have taken milliseconds */
    transfer_sync(t);
}

static void transfer_drain(ibx_conn *c)
{
    (void)c;   /* let it finish; the grace timer aborts stragglers */
}

static void transfer_abort(ibx_conn *c)
{
    struct transfer *t = (struct transfer *)c;
    if (t->x.state == TFTP_TX_RUNNING)
        tftp_tx_abort(&t->x, IBX_TFTP_EUNDEF, "server shutting down");
    transfer_close(t);
}

/* In a fork/prefork child that inherited the transfer: close our copies of
 * its descriptors and free its memory; the upload stays the parent's (its
 * temporary file is not removed), the loop is not touched, and neither is
 * the unit (t->srv), which may have been released first. */
static void transfer_release(ibx_conn *c)
{
    struct transfer *t = (struct transfer *)c;
    if (!t->closing) {   /* else closed already, only its free was pending */
        if (t->io.active)   /* its own socket (not single-port mode) */
            close(t->x.sock);
        if (t->upload) {
            t->up.tmp[0] = 0;   /* nothing to unlink: only our descriptors close */
            root_upload_abort(&t->up);
        } else if (t->x.file >= 0) {
            close(t->x.file);
        }
        tftp_tx_release(&t->x);
    }
    free(t);
}

static const struct ibx_conn_ops transfer_ops = {
    .drain = transfer_drain, .abort = transfer_abort, .release = transfer_release};

/* A fresh socket for one transfer on the listener's address, from the
 * port range when one is set. Returns the fd or -errno. */
static int transfer_socket(struct tftpd *s)
{
    ibx_addr a = s->local;
    int fd = socket(a.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    unsigned lo = s->cfg->port_lo, n = lo ? s->cfg->port_hi - lo + 1u : 1;
    for (unsigned i = 0; i < n; i++) {
        unsigned port = lo ? lo + (s->port_next + i) % n : 0;
        ibx_addr_set_port((struct sockaddr *)&a.ss, (uint16_t)port);
        if (bind(fd, (struct sockaddr *)&a.ss, a.len) == 0) {
            /* the next search starts at a random port: a transfer's port
             * is the only secret of TFTP, so do not make it predictable */
            uint32_t r = 0;
            if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
                r = (uint32_t)tftp_tx_clock();
            s->port_next = r % n;
            enable_stamps(fd);
            return fd;
        }
        if (errno != EADDRINUSE)
            break;
    }
    int e = errno == EADDRINUSE ? -EADDRINUSE : -errno;
    close(fd);
    return e;
}

/* The refusals held back since the last line, summed up by ERROR code;
 * re-armed while requests keep being refused. */
static bool refuse_summary(struct tftpd *s)
{
    unsigned long n = ibx_log_gate_take(&s->refuse_gate);
    if (!n)
        return false;
    const unsigned long *c = s->refused;
    ibx_warn(s->log, "msg=\"%lu more refused requests not logged in the last second\" "
             "not-found=%lu access=%lu disk-full=%lu exists=%lu options=%lu other=%lu "
             "last_peer=%s", n, c[IBX_TFTP_ENOTFOUND], c[IBX_TFTP_EACCESS],
             c[IBX_TFTP_ENOSPACE], c[IBX_TFTP_EEXISTS], c[IBX_TFTP_EOPTNEG],
             c[IBX_TFTP_EUNDEF] + c[IBX_TFTP_EBADOP] + c[IBX_TFTP_EBADID] +
             c[IBX_TFTP_ENOUSER], s->refused_last);
    memset(s->refused, 0, sizeof s->refused);
    return true;
}

static void on_refuse_log(ibx_loop *loop, ibx_timer *t)
{
    struct tftpd *s = t->data;
    if (refuse_summary(s))
        ibx_timer_start(loop, t, REFUSE_LOG_MS, on_refuse_log, s);
}

/* Refuse a request of len bytes: an ERROR no larger than the request (an
 * answer to a forged source must not amplify), and a log line: the first
 * REFUSE_LOG_BURST of a second in full, the rest summed up once a second
 * (requests are 20-byte datagrams from any, perhaps forged, source: one
 * ~150-byte line each would let a flood fill the disk). Transfers that
 * ran keep their line each (log_transfer: the access log). */
static void refuse(struct tftpd *s, const struct ibx_tftp_pkt *p, const char *peer,
                   const struct sockaddr *from, socklen_t flen, uint16_t code,
                   const char *msg, size_t len)
{
    tftp_tx_send_error_fit(s->lfd, from, flen, code, msg, len);
    if (!ibx_log_gate_pass(&s->refuse_gate, ibx_loop_now(s->loop), NULL)) {
        s->refused[code < REFUSE_CODES ? code : IBX_TFTP_EUNDEF]++;
        snprintf(s->refused_last, sizeof s->refused_last, "%s", peer);
        if (!ibx_timer_active(&s->refuse_log))
            ibx_timer_start(s->loop, &s->refuse_log, REFUSE_LOG_MS, on_refuse_log, s);
        return;
    }
    char name[128];
    log_name(name, sizeof name, p->u.req.filename);
    ibx_warn(s->log, "msg=\"%s refused\" op=%s peer=%s file=\"%s\" mode=%s "
             "result=refused reason=%s", p->op == IBX_TFTP_WRQ ? "put" : "get",
             p->op == IBX_TFTP_WRQ ? "put" : "get", peer, name,
             ibx_tftp_mode_name(p->u.req.mode), msg);
}

/* A cap was hit (a request refused, or an unverified transfer evicted
 * for it): a log line, at most one per LIMIT_LOG_US, counting both since
 * the last one. A flood is one line a second, not one per request. */
static void limit_hit(struct tftpd *s, const char *what, unsigned limit,
                      const char *peer, bool evicted)
{
    if (evicted)
        s->limit_evicted++;
    else
        s->limit_hits++;
    uint64_t now = tftp_tx_clock();
    if (s->limit_log_t && now - s->limit_log_t < LIMIT_LOG_US)
        return;
    ibx_warn(s->log, "msg=\"limit reached (refused: ERROR 'server busy'; evicted: "
             "transfers whose peer never acknowledged data; one line per second)\" "
             "limit=%s value=%u peer=%s refused=%lu evicted=%lu",
             what, limit, peer, s->limit_hits, s->limit_evicted);
    s->limit_log_t = now;
    s->limit_hits = s->limit_evicted = 0;
}

static void evict(struct tftpd *s, struct transfer *t, const char *what,
                  unsigned limit)
{
    t->x.state = TFTP_TX_FAILED;
    snprintf(t->x.why, sizeof t->x.why, "evicted (%s)", what);
    ibx_debug(s->log, "msg=\"%s evicted\" op=%s peer=%s file=\"%s\" result=evicted "
              "reason=%s", t->upload ? "put" : "get", t->upload ? "put" : "get", t->peer,
              t->name, what);
    t->logged = true;    /* counted in the limit line instead */
    limit_hit(s, what, limit, t->peer, true);
    transfer_close(t);   /* nothing is sent: the peer may be forged */
}

/* Room for one more transfer from `from` under --max-per-peer and
 * --max-transfers. At a cap, the oldest transfer whose peer has not
 * proved that it receives (a forged request looks like that for ever)
 * makes room; a flood of forged requests churns among those and never
 * locks out a client that answers. Returns NULL, or the cap's name (and
 * *limit) when every transfer counted by it is verified. */
static const char *make_room(struct tftpd *s, const struct sockaddr *from,
                             unsigned *limit)
{
    const struct tftpd_cfg *cfg = s->cfg;
    if (cfg->max_per_peer) {
        unsigned n = 0;
        struct transfer *old = NULL;
        for (struct transfer *t = s->ahash[addr_hash_mod(from)]; t; t = t->anext) {
            if (!same_host(from, (struct sockaddr *)&t->x.peer.ss))
                continue;
            n++;
            if (t->in_uv && (!old || t->x.start < old->x.start))
                old = t;
        }
        if (n >= cfg->max_per_peer) {
            if (!old) {
                *limit = cfg->max_per_peer;
                return "max-per-peer";
            }
            evict(s, old, "max-per-peer", cfg->max_per_peer);
        }
    }
    if (cfg->max_transfers && s->ntransfers >= cfg->max_transfers) {
        if (!s->uv_head) {
            *limit = cfg->max_transfers;
            return "max-transfers";
        }
        evict(s, s->uv_head, "max-transfers", cfg->max_transfers);
    }
    return NULL;
}

/* Open the file of a request. Returns 0, or the -errno of the failure with
 * the TFTP error code to answer in *code and its text in *msg. */
static int open_file(struct tftpd *s, const struct ibx_tftp_pkt *p,
                     struct transfer *t, uint64_t *size, uint16_t *code, const char **msg)
{
    const struct tftpd_cfg *cfg = s->cfg;
    int r;
    if (t->upload) {
        r = root_upload_begin(&t->up, cfg->rootfd, p->u.req.filename, cfg->create,
                              cfg->overwrite);
        t->x.file = t->up.fd;
    } else {
        r = root_open_read(cfg->rootfd, p->u.req.filename, size);
        t->x.file = r;
    }
    if (r >= 0)
        return 0;
    t->x.file = -1;
    if (r == -ENOENT) {
        *code = IBX_TFTP_ENOTFOUND;
        *msg = "file not found";
    } else if (r == -EEXIST) {
        *code = IBX_TFTP_EEXISTS;
        *msg = "file already exists";
    } else if (r == -EACCES || r == -EPERM) {
        *code = IBX_TFTP_EACCESS;
        *msg = "access violation";
    } else {
        *code = IBX_TFTP_EUNDEF;
        *msg = strerror(-r);
    }
    return r;
}

/* Check, open, negotiate and start one request; refuse it on failure. */
static void start_transfer(struct tftpd *s, const struct ibx_tftp_pkt *p,
                           const struct sockaddr *from, socklen_t flen, size_t len,
                           uint64_t now)
{
    const struct tftpd_cfg *cfg = s->cfg;
    bool upload = p->op == IBX_TFTP_WRQ;
    char peer[IBX_ADDRSTRLEN];
    struct ibx_tftp_opts grant;
    const char *msg = NULL;
    uint16_t code = IBX_TFTP_EUNDEF;   /* the ERROR to answer when err < 0 */
    int err = 0, sock = -1;
    uint64_t size = 0;
    struct transfer *t = NULL;

    ibx_addr_format(from, flen, peer, sizeof peer);
    unsigned limit = 0;
    const char *cap = s->draining ? NULL : make_room(s, from, &limit);
    if (cap) {
        tftp_tx_send_error_fit(s->lfd, from, flen, IBX_TFTP_EUNDEF, "server busy", len);
        limit_hit(s, cap, limit, peer, false);
        return;
    }
    if (s->draining) {
        err = -ESHUTDOWN;
        msg = "server shutting down";
    } else if (upload && !cfg->create && !cfg->overwrite) {
        err = -EROFS;
        code = IBX_TFTP_EACCESS;
        msg = "server is read-only";
    } else if (!(t = calloc(1, sizeof *t))) {
        err = -ENOMEM;
        msg = "out of memory";
    }
    if (t) {
        t->srv = s;
        t->upload = upload;
        ibx_job_init(&t->commit);
        t->up.fd = t->up.dirfd = -1;
        t->x.file = -1;
        err = open_file(s, p, t, &size, &code, &msg);
    }
    if (!err)
        err = tftpd_negotiate(cfg, p, size, &grant, &t->x, &code, &msg);
    if (!err && upload && (grant.have & IBX_TFTP_OPT_TSIZE) && grant.tsize &&
        p->u.req.mode == IBX_TFTP_OCTET) {
        /* the declared size binds: more is refused as it comes, less is
         * not stored (transfer_sync); and it must fit on the disk now */
        struct statvfs fs;
        t->declared = grant.tsize;
        if (fstatvfs(t->up.fd, &fs) == 0 &&
            (uint64_t)fs.f_bavail * fs.f_frsize < grant.tsize) {
            err = -ENOSPC;
            code = IBX_TFTP_ENOSPACE;
            msg = "disk full";
        }
    }
    if (!err) {
        sock = cfg->single_port ? s->lfd : transfer_socket(s);
        if (sock < 0) {
            err = sock;
            msg = "no transfer port free";
        }
    }
    if (err) {
        if (t && upload)
            root_upload_abort(&t->up);
        else if (t && t->x.file >= 0)
            close(t->x.file);
        free(t);
        refuse(s, p, peer, from, flen, code, msg, len);
        return;
    }

    snprintf(t->peer, sizeof t->peer, "%s", peer);
    log_name(t->name, sizeof t->name, p->u.req.filename);
    struct tftp_tx *x = &t->x;
    x->sock = sock;
    memcpy(&x->peer.ss, from, flen);
    x->peer.len = flen;
    x->sending = !upload;
    x->mode = p->u.req.mode;
    x->giveup = cfg->giveup_ms > 3 * x->rto_max ? cfg->giveup_ms : 3 * x->rto_max;
    x->max_bytes = upload ? cfg->max_size : 0;
    if (t->declared && (!x->max_bytes || t->declared < x->max_bytes))
        x->max_bytes = t->declared;
    x->hold_final = upload;   /* ACK the last block once it is stored */
    x->scratch = &s->scratch;
    x->amp_limit = true;      /* the request's source may be forged */
    x->req_bytes = (uint32_t)len;
    if (grant.have) {
        int n = ibx_tftp_build_oack(x->ctl, sizeof x->ctl, &grant);
        x->ctl_len = n > 0 ? (size_t)n : 0;
    } else if (upload) {
        x->ctl_len = (size_t)ibx_tftp_build_ack(x->ctl, sizeof x->ctl, 0);
    }
    int r = 0;
    if (!cfg->single_port) {
        size_t need = (size_t)x->window * (x->blksize + 64) * 2;
        if (need > 208 * 1024)
            tftp_tx_sock_buffers(sock, need > (4u << 20) ? 4 << 20 : (int)need);
        r = ibx_io_start(s->loop, &t->io, sock, IBX_EV_READ, on_transfer_io, t);
    }
    /* by peer: single-port routes packets so, and in every mode a client
     * that repeats its request is recognised (on_datagram) */
    unsigned h = peer_hash_mod(from);
    t->hnext = s->hash[h];
    s->hash[h] = t;
    h = addr_hash_mod(from);
    t->anext = s->ahash[h];
    s->ahash[h] = t;
    uv_append(s, t);
    s->ntransfers++;
    ibx_conn_add(s->w, &t->base, &transfer_ops, true);
    if (!r)
        r = tftp_tx_begin(x, now);
    if (r < 0) {
        x->state = TFTP_TX_FAILED;
        snprintf(x->why, sizeof x->why, "cannot start: %s", strerror(-r));
        transfer_close(t);
        return;
    }
    transfer_sync(t);
}

/* ---- listener ---------------------------------------------------------- */

static void listener_free(ibx_loop *loop, ibx_defer *d)
{
    struct tftpd *s = d->data;
    ibx_conn_done(&s->base);
    tftp_tx_scratch_free(&s->scratch);
    free(s->rx);
    free(s);
}

static void listener_finish(struct tftpd *s)
{
    if (s->finished)
        return;
    s->finished = true;
    ibx_timer_stop(s->loop, &s->refuse_log);
    refuse_summary(s);   /* what the last second held back */
    if (s->io.active)
        ibx_io_stop(s->loop, &s->io);
    if (s->lfd >= 0)
        close(s->lfd);
    s->lfd = -1;
    ibx_loop_defer(s->loop, &s->free_later, listener_free, s);
}

static void on_datagram(struct tftpd *s, const uint8_t *pkt, size_t len,
                        const struct sockaddr *from, socklen_t flen, uint64_t now,
                        uint64_t arrived)
{
    struct ibx_tftp_pkt p;
    struct transfer *t = lookup(s, from);
    if (t) {
        int r = ibx_tftp_parse(pkt, len, &p);
        bool request = r == 0 && (p.op == IBX_TFTP_RRQ || p.op == IBX_TFTP_WRQ);
        if (s->cfg->single_port && !request) {
            transfer_feed(t, pkt, len, from, flen, now, arrived);
            return;
        }
        if (request && t->x.state == TFTP_TX_RUNNING && !t->closing) {
            /* the client repeated its request (our OACK or first packet
             * was lost or late): the running transfer resends its OACK
             * at once, or its data on its own timer; a second transfer
             * would answer from a second port, which clients take for a
             * stray packet (atftp aborts) */
            tftp_tx_request_again(&t->x, len, now);
            return;
        }
        if (request && s->cfg->single_port)
            transfer_close(t);   /* a new request after the last one ended */
    }
    int r = ibx_tftp_parse(pkt, len, &p);
    if (r == 0 && (p.op == IBX_TFTP_RRQ || p.op == IBX_TFTP_WRQ)) {
        start_transfer(s, &p, from, flen, len, now);
        return;
    }
    if (r == 0 && p.op == IBX_TFTP_ERROR)
        return;   /* never answer an error */
    if (t && !s->cfg->single_port)
        return;   /* a peer's packet to the wrong port: not worth an answer */
    /* never larger than what it answers: the source may be forged */
    if (r == 0)
        tftp_tx_send_error_fit(s->lfd, from, flen, IBX_TFTP_EBADID, "unknown transfer ID", len);
    else
        tftp_tx_send_error_fit(s->lfd, from, flen, IBX_TFTP_EBADOP, "illegal TFTP operation", len);
}

static void on_listener(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct tftpd *s = io->data;
    struct mmsghdr m[TFTP_TX_BATCH];
    struct sockaddr_storage from[TFTP_TX_BATCH];
    struct iovec iov[TFTP_TX_BATCH];
    struct rx_ctl rc;
    for (int round = 0; round < RX_ROUNDS && s->lfd >= 0; round++) {
        int n = rx_batch(s, s->lfd, m, from, iov, &rc);
        if (n <= 0)
            break;
        uint64_t now = rc.mono;
        for (int i = 0; i < n && s->lfd >= 0; i++) {
            if (m[i].msg_hdr.msg_flags & MSG_TRUNC)
                continue;
            on_datagram(s, iov[i].iov_base, m[i].msg_len, (struct sockaddr *)&from[i],
                        m[i].msg_hdr.msg_namelen, now, rx_arrival(&m[i].msg_hdr, &rc));
        }
        if (n < TFTP_TX_BATCH)
            break;
    }
}

/* Shutdown: stop taking requests; the unit ends with its last transfer
 * (they use its buffers). In single-port mode the socket stays open for
 * the running transfers and new requests are refused. */
static void listener_drain(ibx_conn *c)
{
    struct tftpd *s = (struct tftpd *)c;
    s->draining = true;
    if (!s->cfg->single_port && s->io.active) {
        ibx_io_stop(s->loop, &s->io);
        close(s->lfd);
        s->lfd = -1;
    }
    if (!s->ntransfers)
        listener_finish(s);
}

/* In a fork/prefork child (serve: the TCP services fork, the tftpd unit
 * comes along): close our copy of the socket and free the unit, without
 * touching the loop. */
static void listener_release(ibx_conn *c)
{
    struct tftpd *s = (struct tftpd *)c;
    if (s->lfd >= 0)
        close(s->lfd);
    tftp_tx_scratch_free(&s->scratch);
    free(s->rx);
    free(s);
}

static const struct ibx_conn_ops listener_ops = {
    .drain = listener_drain, .abort = listener_drain, .release = listener_release};

int tftpd_unit_start(ibx_worker *w, void *arg)
{
    struct tftpd_cfg *cfg = arg;
    struct tftpd *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->cfg = cfg;
    s->w = w;
    s->loop = ibx_worker_loop(w);
    s->log = ibx_worker_log(w);
    s->lfd = cfg->lfd;
    ibx_log_gate_init(&s->refuse_gate, REFUSE_LOG_BURST, REFUSE_LOG_MS);
    s->rx = malloc((size_t)TFTP_TX_BATCH * RX_SLOT);
    int r = s->rx ? tftp_tx_scratch_init(&s->scratch) : -ENOMEM;
    if (!r)
        r = ibx_sock_local(s->lfd, &s->local);
    enable_stamps(s->lfd);
    if (!r)
        r = ibx_io_start(s->loop, &s->io, s->lfd, IBX_EV_READ, on_listener, s);
    if (r < 0) {
        tftp_tx_scratch_free(&s->scratch);
        free(s->rx);
        free(s);
        return r;
    }
    cfg->lfd = -1;   /* the unit owns it now */
    ibx_conn_add(w, &s->base, &listener_ops, true);
    return 0;
}
