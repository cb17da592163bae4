/* echo: RFC 862 echo over TCP (every server model) and UDP.
 *
 * TCP: a connection reads into a stack buffer and writes straight back;
 * only what the peer does not take at once is kept (bounded: reading
 * pauses above ECHO_HIGH bytes pending), and IBX_EV_WRITE is armed only then.
 * Idle connections are closed after --idle seconds. Under the coroutine
 * model the same is written as blocking-style code (echo_co.c). UDP: each datagram
 * (up to 65507 bytes) goes back to its sender, in bounded batches, unless
 * the guard (echo_guard.h) drops it: from our own port, from a port below
 * 1024, or over the per-source rate (--udp-rate, --udp-burst). A reply is
 * never larger than its datagram: it is the datagram. */
//applet: echo RFC 862 echo server over TCP and UDP
//service: echo
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "echo_co.h"
#include "echo_guard.h"
#include "ipcbox/buf.h"
#include "logsink.h"
#include "service.h"

#define ECHO_PORT 7007
#define ECHO_HIGH ((size_t)256 * 1024)   /* pending bytes that pause reading */

/* Drops are logged at once, then summed up at most once a second. */
#define ECHO_DROP_LOG_MS 1000

struct echo_conn {
    ibx_conn base;           /* first: ibx_conn* <-> echo_conn* */
    ibx_io io;
    ibx_timer idle;
    ibx_defer free_later;
    ibx_buf out;             /* bytes read but not yet written back */
    const struct echo_cfg *cfg;
    uint64_t bytes;          /* echoed (received) */
    uint64_t opened_ms;      /* loop clock */
    bool eof, closing;
    char peer[IBX_ADDRSTRLEN];   /* for the log lines; "" below debug */
};

static void echo_free(ibx_loop *loop, ibx_defer *d)
{
    struct echo_conn *c = d->data;
    ibx_buf_free(&c->out);
    ibx_conn_done(&c->base);
    free(c);
}

/* Close c; reason (eof, idle, error, shutdown) goes in its log line. */
static void echo_close(struct echo_conn *c, const char *reason)
{
    if (c->closing)
        return;
    c->closing = true;
    ibx_loop *loop = ibx_worker_loop(c->base.worker);
    ibx_log as;
    ibx_debug(ibx_log_as(ibx_worker_log(c->base.worker), "echo", &as),
              "msg=\"connection closed\" peer=%s bytes=%llu duration_ms=%llu reason=%s",
              c->peer, (unsigned long long)c->bytes,
              (unsigned long long)(ibx_loop_now(loop) - c->opened_ms), reason);
    int fd = c->io.fd;
    ibx_io_stop(loop, &c->io);
    ibx_timer_stop(loop, &c->idle);
    close(fd);
    ibx_loop_defer(loop, &c->free_later, echo_free, c);
}

/* Write pending bytes; returns false if the connection failed. */
static bool echo_flush(struct echo_conn *c)
{
    while (ibx_buf_used(&c->out)) {
        ssize_t n = ibx_buf_write_fd(&c->out, c->io.fd);
        if (n == -EAGAIN)
            return true;
        if (n < 0)
            return false;
    }
    ibx_buf_free(&c->out);   /* idle connections hold no buffer */
    return true;
}

/* Read what is ready and echo it; returns false if the connection failed. */
static bool echo_read(struct echo_conn *c)
{
    char tmp[16384];
    while (!c->eof && ibx_buf_used(&c->out) < ECHO_HIGH) {
        ssize_t n = recv(c->io.fd, tmp, sizeof tmp, 0);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        if (n == 0) {
            c->eof = true;
            break;
        }
        c->bytes += (uint64_t)n;
        size_t off = 0;
        if (!ibx_buf_used(&c->out)) {   /* write first */
            ssize_t w = send(c->io.fd, tmp, (size_t)n, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN)
                return false;
            off = w > 0 ? (size_t)w : 0;
        }
        if (off < (size_t)n && ibx_buf_append(&c->out, tmp + off, (size_t)n - off) < 0)
            return false;
        if ((size_t)n < sizeof tmp)
            break;   /* drained the socket for now */
    }
    return true;
}

static void echo_update(struct echo_conn *c)
{
    bool stop_reading = c->eof || ibx_worker_draining(c->base.worker);
    if (stop_reading && !ibx_buf_used(&c->out)) {
        echo_close(c, c->eof ? "eof" : "shutdown");
        return;
    }
    uint32_t ev = 0;
    if (!stop_reading && ibx_buf_used(&c->out) < ECHO_HIGH)
        ev |= IBX_EV_READ | IBX_EV_RDHUP;
    if (ibx_buf_used(&c->out))
        ev |= IBX_EV_WRITE;
    if (ibx_io_modify(ibx_worker_loop(c->base.worker), &c->io, ev) < 0)
        echo_close(c, "error");
}

static void on_idle(ibx_loop *loop, ibx_timer *t)
{
    echo_close(t->data, "idle");
}

static void on_echo_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct echo_conn *c = io->data;
    if ((events & IBX_EV_ERROR) || ((events & IBX_EV_WRITE) && !echo_flush(c))) {
        echo_close(c, "error");
        return;
    }
    if ((events & (IBX_EV_READ | IBX_EV_RDHUP | IBX_EV_HUP)) && !ibx_worker_draining(c->base.worker)) {
        if (!echo_read(c)) {
            echo_close(c, "error");
            return;
        }
        if (c->cfg->idle_ms)
            ibx_timer_start(loop, &c->idle, c->cfg->idle_ms, on_idle, c);
    }
    echo_update(c);
}

static void echo_drain(ibx_conn *base)
{
    struct echo_conn *c = (struct echo_conn *)base;
    if (!c->closing)
        echo_update(c);   /* stops reading; closes once flushed */
}

static void echo_abort(ibx_conn *base)
{
    echo_close((struct echo_conn *)base, "shutdown");
}

static const struct ibx_conn_ops echo_ops = {.drain = echo_drain, .abort = echo_abort};

static int echo_open(ibx_worker *w, int fd, const struct sockaddr *peer,
                     socklen_t peerlen, void *ctx)
{
    struct echo_conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->cfg = ctx;
    ibx_loop *loop = ibx_worker_loop(w);
    int r = ibx_io_start(loop, &c->io, fd, IBX_EV_READ | IBX_EV_RDHUP, on_echo_io, c);
    if (r < 0) {
        close(fd);
        free(c);
        return r;
    }
    if (c->cfg->idle_ms)
        ibx_timer_start(loop, &c->idle, c->cfg->idle_ms, on_idle, c);
    ibx_conn_add(w, &c->base, &echo_ops, false);
    c->opened_ms = ibx_loop_now(loop);
    ibx_log as;
    const ibx_log *log = ibx_log_as(ibx_worker_log(w), "echo", &as);
    if (ibx_log_enabled(log, IBX_LOG_DEBUG)) {
        ibx_addr_format(peer, peerlen, c->peer, sizeof c->peer);
        ibx_debug(log, "msg=\"connection opened\" peer=%s", c->peer);
    }
    return 0;
}

/* Both handlers: the state machine above, the coroutine one (echo_co.c)
 * for the coroutine model. */
static const struct ibx_proto echo_proto = {
    .name = "echo",
    .open = echo_open,
    .serve = echo_co_serve,
};

/* ---- UDP ----------------------------------------------------------------- */

struct echo_udp {
    ibx_conn base;
    ibx_io io;
    ibx_defer free_later;
    ibx_timer drop_log;      /* armed while drops are being summed up */
    int fd;
    const ibx_log *log;
    ibx_log log_as;          /* the server's logger, tagged "echo" */
    struct echo_guard *guard;
    uint64_t dropped[ECHO_DROP_KINDS];  /* since the last log line */
    char last_src[IBX_ADDRSTRLEN];
    char pkt[65536];
};

static void udp_free(ibx_loop *loop, ibx_defer *d)
{
    struct echo_udp *u = d->data;
    echo_guard_free(u->guard);
    ibx_conn_done(&u->base);
    free(u);
}

/* The drops summed up since the last line, if any; re-armed while
 * datagrams keep being dropped. */
static void on_drop_log(ibx_loop *loop, ibx_timer *t)
{
    struct echo_udp *u = t->data;
    uint64_t n = 0;
    for (int k = 1; k < ECHO_DROP_KINDS; k++)
        n += u->dropped[k];
    if (!n)
        return;
    ibx_warn(u->log, "msg=\"dropped %llu more datagrams in the last %d ms\" proto=udp "
             "own_port=%llu below_1024=%llu over_rate=%llu flag=--udp-rate last_peer=%s",
             (unsigned long long)n,
             ECHO_DROP_LOG_MS, (unsigned long long)u->dropped[ECHO_DROP_OWN_PORT],
             (unsigned long long)u->dropped[ECHO_DROP_PRIV_PORT],
             (unsigned long long)u->dropped[ECHO_DROP_RATE], u->last_src);
    memset(u->dropped, 0, sizeof u->dropped);
    ibx_timer_start(loop, t, ECHO_DROP_LOG_MS, on_drop_log, u);
}

/* A datagram was not answered: log it, or count it for the summary. */
static void udp_dropped(struct echo_udp *u, ibx_loop *loop, enum echo_verdict v,
                        const struct sockaddr *src, socklen_t len)
{
    ibx_addr_format(src, len, u->last_src, sizeof u->last_src);
    if (ibx_timer_active(&u->drop_log)) {
        u->dropped[v]++;
        return;
    }
    ibx_warn(u->log, "msg=\"dropped a datagram from %s: %s%s\" proto=udp peer=%s",
             u->last_src, echo_verdict_text(v), v == ECHO_DROP_RATE ? " (--udp-rate)" : "",
             u->last_src);
    ibx_timer_start(loop, &u->drop_log, ECHO_DROP_LOG_MS, on_drop_log, u);
}

static void udp_stop(ibx_conn *base)
{
    struct echo_udp *u = (struct echo_udp *)base;
    if (u->fd < 0)
        return;
    ibx_loop *loop = ibx_worker_loop(u->base.worker);
    ibx_io_stop(loop, &u->io);
    ibx_timer_stop(loop, &u->drop_log);
    close(u->fd);
    u->fd = -1;
    ibx_loop_defer(loop, &u->free_later, udp_free, u);
}

/* In a forked child: free the inherited unit, loop untouched. */
static void udp_release(ibx_conn *base)
{
    struct echo_udp *u = (struct echo_udp *)base;
    if (u->fd >= 0)
        close(u->fd);
    echo_guard_free(u->guard);
    free(u);
}

static const struct ibx_conn_ops udp_ops = {.drain = udp_stop, .abort = udp_stop, .release = udp_release};

static void on_udp(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct echo_udp *u = io->data;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        ssize_t n = recvfrom(u->fd, u->pkt, sizeof u->pkt, MSG_TRUNC,
                             (struct sockaddr *)&peer, &plen);
        if (n < 0)
            return;   /* EAGAIN, or an ICMP error from an earlier send */
        if ((size_t)n > sizeof u->pkt)
            continue; /* cannot happen for IPv4/IPv6 UDP; never echo a cut */
        enum echo_verdict v = echo_guard_check(u->guard, (struct sockaddr *)&peer,
                                               ibx_loop_now(loop));
        if (v != ECHO_PASS) {
            udp_dropped(u, loop, v, (struct sockaddr *)&peer, plen);
            continue;
        }
        if (sendto(u->fd, u->pkt, (size_t)n, 0, (struct sockaddr *)&peer, plen) < 0 &&
            errno != EAGAIN && errno != ECONNREFUSED)
            ibx_debug(u->log, "msg=\"send failed\" proto=udp reason=%s", strerror(errno));
    }
}

struct udp_start {
    ibx_addr addr;
    int fd;   /* bound before run, so errors surface at start-up */
    const struct echo_cfg *cfg;
};

static int udp_unit_start(ibx_worker *w, void *arg)
{
    struct udp_start *s = arg;
    struct echo_udp *u = malloc(sizeof *u);
    if (!u)
        return -ENOMEM;
    memset(u, 0, offsetof(struct echo_udp, pkt));
    u->fd = s->fd;
    u->log = ibx_log_as(ibx_worker_log(w), "echo", &u->log_as);
    ibx_addr bound;
    int r = ibx_sock_local(u->fd, &bound);
    if (r == 0)
        r = echo_guard_new(&u->guard, ibx_addr_port((struct sockaddr *)&bound.ss),
                           s->cfg->udp_rate, s->cfg->udp_burst);
    if (r == 0)
        r = ibx_io_start(ibx_worker_loop(w), &u->io, u->fd, IBX_EV_READ, on_udp, u);
    if (r < 0) {
        echo_guard_free(u->guard);
        free(u);
        return r;
    }
    s->fd = -1;   /* the unit owns it now */
    ibx_conn_add(w, &u->base, &udp_ops, true);
    return 0;
}

static int udp_prepare(struct udp_start *s, const ibx_log *log)
{
    s->fd = ibx_udp_bind(&s->addr, 0);
    char a[IBX_ADDRSTRLEN];
    ibx_addr bound;
    if (s->fd < 0) {
        ibx_err(log, "msg=\"cannot listen on %s\" proto=udp reason=%s",
                ibx_addr_format((struct sockaddr *)&s->addr.ss, s->addr.len, a, sizeof a),
                strerror(-s->fd));
        return s->fd;
    }
    ibx_sock_local(s->fd, &bound);
    ibx_info(log, "msg=\"listening on %s\" proto=udp",
             ibx_addr_format((struct sockaddr *)&bound.ss, bound.len, a, sizeof a));
    return 0;
}

/* ---- the service ----------------------------------------------------------- */

/* echo's configuration: the options and what start made. */
struct echo_svc {
    struct echo_cfg cfg;
    bool udp_only;           /* --udp: no TCP */
    bool tcp;                /* --no-udp clears udp */
    bool udp;
    struct udp_start us[SVC_ADDRS_MAX];
    size_t nus;
};

static const struct opt echo_opts[] = {
    OPT_B(struct echo_svc, udp_only, "udp", "echo UDP datagrams only (no TCP)"),
    OPT_NOT(struct echo_svc, udp, "no-udp", "echo TCP only (no UDP)"),
    OPT_SEC(struct echo_svc, cfg.idle_ms, "idle", "300", 0, 86400,
            "close TCP connections idle this long (0: never)"),
    OPT_U(struct echo_svc, cfg.udp_rate, "udp-rate", "N", "1000", 0, 10000000,
          "answer at most N datagrams a second per source address (0: no "
          "limit); datagrams from our own port or from ports below 1024 are "
          "never answered"),
    OPT_U(struct echo_svc, cfg.udp_burst, "udp-burst", "N", NULL, 1, 10000000,
          "... with bursts of up to N (default: N of --udp-rate)"),
    OPT_TABLE_END,
};

static void echo_defaults(void *p)
{
    struct echo_svc *e = p;
    e->tcp = e->udp = true;
    for (size_t i = 0; i < SVC_ADDRS_MAX; i++)
        e->us[i].fd = -1;
}

static void echo_stop(void *p)
{
    struct echo_svc *e = p;
    for (size_t i = 0; i < e->nus; i++)
        if (e->us[i].fd >= 0)
            close(e->us[i].fd);
    e->nus = 0;
}

static int echo_start(void *p, const struct svc_env *env)
{
    struct echo_svc *e = p;
    bool tcp = !e->udp_only, udp = e->udp;
    e->cfg.log = env->log;
    if (!tcp && !udp) {
        ibx_err(env->log, "msg=\"--udp and --no-udp leave nothing to serve\"");
        return -EINVAL;
    }
    ibx_addr addrs[SVC_ADDRS_MAX];
    int n;
    if (env->nfds) {
        /* socket activation: the sockets given, TCP and UDP, nothing else */
        int fds[SVC_ADDRS_MAX];
        size_t nt = svc_fds(env, SOCK_STREAM, fds, SVC_ADDRS_MAX);
        size_t nu = svc_fds(env, SOCK_DGRAM, fds, SVC_ADDRS_MAX);
        if (tcp && nt) {
            int r = svc_listen_tcp(&echo_service, env, &echo_proto, &e->cfg);
            if (r < 0)
                return r;
        }
        if (!(tcp && nt) && !(udp && nu)) {
            ibx_err(env->log, "msg=\"socket activation gave no socket echo serves\"");
            return -EINVAL;
        }
        for (size_t i = 0; udp && i < nu; i++) {
            struct udp_start *us = &e->us[e->nus++];
            us->fd = fds[i];
            us->cfg = &e->cfg;
            int r = ibx_server_add_unit(env->srv, udp_unit_start, us);
            if (r < 0)
                return -EBUSY;
        }
        return 0;
    }
    if (tcp) {
        /* TCP first; UDP then takes the port each TCP listener got */
        size_t before = svc_listener_count(env);
        int r = svc_listen_tcp(&echo_service, env, &echo_proto, &e->cfg);
        if (r < 0)
            return r;
        for (n = 0; n < SVC_ADDRS_MAX &&
                    ibx_server_listener_addr(env->srv, before + (size_t)n, &addrs[n]) == 0;
             n++)
            ;
    } else {
        n = svc_addrs(&echo_service, env, SOCK_DGRAM, addrs, SVC_ADDRS_MAX);
        if (n < 0)
            return n;
    }
    if (!udp)
        return 0;
    for (int i = 0; i < n; i++) {
        struct udp_start *us = &e->us[e->nus++];
        us->addr = addrs[i];
        us->cfg = &e->cfg;
        int r = udp_prepare(us, env->log);
        if (r == -EADDRINUSE)
            ibx_err(env->log, "msg=\"the udp port is in use (choose another with %s)\" "
                    "flag=%s", env->listen_flag, env->listen_flag);
        if (r == 0)
            r = ibx_server_add_unit(env->srv, udp_unit_start, us);
        if (r < 0)
            return tcp || i ? (r == -EADDRINUSE ? -EBUSY : r) : r;
    }
    return 0;
}

const struct service echo_service = {
    .name = "echo",
    .summary = "RFC 862 echo over TCP and UDP",
    .synopsis = "[options]",
    .about = "RFC 862 echo server: every byte received is sent back, over TCP "
             "(under any server model) and UDP on the same port (default 7007).",
    .port = ECHO_PORT,
    .cfg_size = sizeof(struct echo_svc),
    .opts = echo_opts,
    .defaults = echo_defaults,
    .start = echo_start,
    .stop = echo_stop,
};

int echo_main(int argc, char **argv)
{
    return service_main(&echo_service, argc, argv);
}
