/* recv's sweeper of stale part files: a unit on the server's main loop
 * that walks the directory at start and then every so often, a slice of
 * entries per loop pass, removing part files no transfer has used for
 * --part-ttl (xfer_parts.h says when a file counts as in use). It stops
 * with the server's drain. Its unit also writes, once a second, the count
 * of lines about unauthenticated connections that the shared gate held
 * back (cfg->preauth_log: connections of any process count). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfer_parts.h"
#include "xfer_recv.h"

/* Directory entries looked at per loop pass. */
#define SWEEP_SLICE 256
/* Longest pause between two sweeps. */
#define SWEEP_MAX_INTERVAL_S 3600

struct recv_sweeper {
    ibx_conn base;          /* the unit */
    ibx_timer timer;        /* next slice, or next sweep */
    ibx_timer log_timer;    /* the held-back pre-authentication lines */
    ibx_loop *loop;
    struct xfer_sweep *walk;    /* the sweep in progress, or NULL */
    struct recv_cfg *cfg;
    unsigned removed;       /* by the sweep in progress */
    bool stopped;
};

static void on_sweep(ibx_loop *loop, ibx_timer *t);

/* "3.5 days" style age. */
static void fmt_age(uint64_t s, char *buf, size_t size)
{
    if (s >= 86400)
        snprintf(buf, size, "%.1f days", (double)s / 86400);
    else if (s >= 3600)
        snprintf(buf, size, "%.1f h", (double)s / 3600);
    else
        snprintf(buf, size, "%llu s", (unsigned long long)s);
}

static uint64_t interval_ms(const struct recv_sweeper *w)
{
    uint64_t s = w->cfg->part_ttl_s / 2;
    if (s < 1)
        s = 1;
    if (s > SWEEP_MAX_INTERVAL_S)
        s = SWEEP_MAX_INTERVAL_S;
    return s * 1000;
}

/* One slice of the sweep; at the end, the next sweep is timed. */
static void on_sweep(ibx_loop *loop, ibx_timer *t)
{
    struct recv_sweeper *w = t->data;
    const ibx_log *log = w->cfg->log;
    if (w->stopped)
        return;
    if (!w->walk) {
        int r = xfer_sweep_open(&w->walk, w->cfg->rootfd, w->cfg->part_ttl_s,
                                w->cfg->opts.max_depth);
        if (r < 0) {
            ibx_warn(log, "part-file sweep: %s", strerror(-r));
            ibx_timer_start(loop, t, interval_ms(w), on_sweep, w);
            return;
        }
        w->removed = 0;
    }
    for (unsigned n = 0; n < SWEEP_SLICE; n++) {
        struct xfer_swept out;
        char age[32];
        int r = xfer_sweep_next(w->walk, &out);
        if (r == XFER_SWEEP_REMOVED) {
            w->removed++;
            fmt_age(out.age_s, age, sizeof age);
            ibx_info(log, "removed stale part file %s (%llu bytes, unused for %s)", out.path,
                     (unsigned long long)out.size, age);
        } else if (r == XFER_SWEEP_FAILED) {
            ibx_warn(log, "cannot remove stale part file %s: %s", out.path,
                     strerror(-out.err));
        } else if (r == XFER_SWEEP_DONE) {
            char why[XFER_WHY + 64];
            if (xfer_sweep_missed(w->walk, why, sizeof why))
                ibx_warn(log, "part-file sweep incomplete: %s; part files there are "
                         "never removed", why);
            ibx_debug(log, "part-file sweep done: %u removed, %u stale but in use",
                      w->removed, xfer_sweep_in_use(w->walk));
            xfer_sweep_close(w->walk);
            w->walk = NULL;
            ibx_timer_start(loop, t, interval_ms(w), on_sweep, w);
            return;
        }
    }
    /* the next slice on a later pass (a due time of now would run it in
     * this same pass) */
    ibx_timer_start(loop, t, 1, on_sweep, w);
}

/* Once a second: what the pre-authentication gate held back, if any. */
static void on_log_summary(ibx_loop *loop, ibx_timer *t)
{
    struct recv_sweeper *w = t->data;
    unsigned long n = ibx_log_gate_take(w->cfg->preauth_log);
    if (n)
        ibx_warn(w->cfg->log, "%lu more lines about connections that had not finished "
                 "the handshake not logged in the last second (refused or failed authentication, "
                 "handshake timeouts, protocol and peer errors; %d a second are logged "
                 "in full)", n, RECV_PREAUTH_LOG_BURST);
    ibx_timer_start(loop, t, 1000, on_log_summary, w);
}

/* Drain and abort alike: stop now (a sweep is never worth waiting for). */
static void sweep_stop(ibx_conn *c)
{
    struct recv_sweeper *w = (struct recv_sweeper *)c;
    if (w->stopped)
        return;
    w->stopped = true;
    ibx_timer_stop(w->loop, &w->timer);
    ibx_timer_stop(w->loop, &w->log_timer);
    if (w->cfg->preauth_log) {
        unsigned long n = ibx_log_gate_take(w->cfg->preauth_log);
        if (n)
            ibx_warn(w->cfg->log, "%lu more lines about connections that had not finished "
                     "the handshake not logged", n);
    }
    xfer_sweep_close(w->walk);
    w->walk = NULL;
    ibx_conn_done(&w->base);
}

static const struct ibx_conn_ops sweep_ops = {.drain = sweep_stop, .abort = sweep_stop};

static int sweep_start(ibx_worker *wk, void *arg)
{
    struct recv_sweeper *w = arg;
    w->loop = ibx_worker_loop(wk);
    ibx_conn_add(wk, &w->base, &sweep_ops, true);
    if (w->stopped)
        return 0;   /* born draining */
    int r = 0;
    if (w->cfg->preauth_log)
        r = ibx_timer_start(w->loop, &w->log_timer, 1000, on_log_summary, w);
    /* the first sweep at once: files left from before this start */
    if (!r && w->cfg->part_ttl_s)
        r = ibx_timer_start(w->loop, &w->timer, 0, on_sweep, w);
    return r;
}

int recv_sweep_add(ibx_server *srv, struct recv_cfg *cfg)
{
    struct recv_sweeper *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    w->cfg = cfg;
    int r = ibx_server_add_unit(srv, sweep_start, w);
    if (r < 0) {
        free(w);
        return r;
    }
    cfg->sweep = w;
    return 0;
}

void recv_sweep_free(struct recv_cfg *cfg)
{
    if (!cfg->sweep)
        return;
    xfer_sweep_close(cfg->sweep->walk);
    free(cfg->sweep);
    cfg->sweep = NULL;
}

int recv_parse_duration(const char *s, uint64_t *out_s)
{
    static const struct { char c; uint64_t mul; } units[] = {
        {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400},
    };
    char *end;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    uint64_t mul = 1;
    if (*end) {
        size_t i = 0;
        while (i < sizeof units / sizeof units[0] && units[i].c != *end)
            i++;
        if (i == sizeof units / sizeof units[0] || end[1])
            return -EINVAL;
        mul = units[i].mul;
    }
    uint64_t max = 100ull * 365 * 86400;
    if (v > max / mul)
        return -EINVAL;
    *out_s = v * mul;
    return 0;
}
