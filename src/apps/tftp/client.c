/* tftp: a TFTP client (RFC 1350 with options from RFC 2347, 2348, 2349
 * and 7440). A blocking poll() loop around the shared transfer engine:
 * the request is retransmitted with backoff until the server answers; an
 * OACK is checked against what was asked, and a server that ignores
 * options is followed at the RFC 1350 defaults. Downloads land atomically
 * (temporary file, fsync, rename) unless written to stdout or a device. */
//applet: tftp TFTP client: get or put a file (blksize, windowsize, tsize)
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "tftp/local.h"
#include "tftp/transfer.h"

struct client {
    const char *applet;
    ibx_log log;
    ibx_addr server;
    bool put;
    const char *remote;
    const char *local;
    enum ibx_tftp_mode mode;
    unsigned long blksize, window, timeout;   /* 0 = not asked */
    int sock;
    struct tftp_tx_scratch scratch;
    struct local_file lf;
    uint64_t size;          /* put: bytes to send */
    uint8_t *rx;            /* TFTP_TX_BATCH receive slots */
    size_t rx_slot;
    bool no_progress;
    struct progress prog;
};

/* The options to request: what the user asked, plus tsize. */
static void want_opts(const struct client *c, struct ibx_tftp_opts *o)
{
    memset(o, 0, sizeof *o);
    if (c->blksize) {
        o->have |= IBX_TFTP_OPT_BLKSIZE;
        o->blksize = c->blksize;
    }
    if (c->window) {
        o->have |= IBX_TFTP_OPT_WINDOWSIZE;
        o->windowsize = c->window;
    }
    if (c->timeout) {
        o->have |= IBX_TFTP_OPT_TIMEOUT;
        o->timeout = c->timeout;
    }
    if (c->mode == IBX_TFTP_OCTET) {
        o->have |= IBX_TFTP_OPT_TSIZE;
        o->tsize = c->put ? c->size : 0;
    }
}

/* Check an OACK against the request: only options we asked for, values
 * no larger than asked. Returns NULL or the reason for ERROR 8. */
static const char *check_oack(const struct client *c,
                              const struct ibx_tftp_opts *want,
                              const struct ibx_tftp_opts *got)
{
    if (got->n_unknown || got->bad || (got->have & ~want->have))
        return "unrequested option in OACK";
    if ((got->have & IBX_TFTP_OPT_BLKSIZE) &&
        (got->blksize < IBX_TFTP_BLKSIZE_MIN || got->blksize > want->blksize))
        return "bad blksize in OACK";
    if ((got->have & IBX_TFTP_OPT_WINDOWSIZE) &&
        (got->windowsize < 1 || got->windowsize > want->windowsize))
        return "bad windowsize in OACK";
    if ((got->have & IBX_TFTP_OPT_TIMEOUT) && got->timeout != want->timeout)
        return "bad timeout in OACK";
    if (c->put && (got->have & IBX_TFTP_OPT_TSIZE) && got->tsize != want->tsize)
        return "bad tsize in OACK";
    return NULL;
}

/* Same host (any port): the server answers from a fresh port. */
static bool same_host(const struct sockaddr *a, const ibx_addr *srv)
{
    ibx_addr t = {0};
    memcpy(&t.ss, a, a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                             : sizeof(struct sockaddr_in));
    ibx_addr_set_port((struct sockaddr *)&t.ss,
                      ibx_addr_port((const struct sockaddr *)&srv->ss));
    return tftp_tx_same_addr((struct sockaddr *)&t.ss, (const struct sockaddr *)&srv->ss);
}

static int recv_batch(struct client *c, struct mmsghdr *m,
                      struct sockaddr_storage *from, struct iovec *iov)
{
    for (unsigned i = 0; i < TFTP_TX_BATCH; i++) {
        iov[i].iov_base = c->rx + i * c->rx_slot;
        iov[i].iov_len = c->rx_slot;
        memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
        m[i].msg_hdr.msg_name = &from[i];
        m[i].msg_hdr.msg_namelen = sizeof from[i];
        m[i].msg_hdr.msg_iov = &iov[i];
        m[i].msg_hdr.msg_iovlen = 1;
    }
    return recvmmsg(c->sock, m, TFTP_TX_BATCH, MSG_DONTWAIT, NULL);
}

/* Spin on the socket for up to SPIN_US before sleeping in poll(): on
 * machines where waking a sleeping CPU costs a few hundred microseconds
 * (virtual machines), a lock-step protocol otherwise pays that on every
 * round trip. A client is one transfer, so the spin costs nobody else. */
#define SPIN_US 200

/* First retransmission of the request without --timeout, µs. */
#define REQ_RTO_INITIAL 250000

/* Data phase: poll until the engine is done or failed. */
static int run_transfer(struct client *c, struct tftp_tx *x)
{
    struct mmsghdr m[TFTP_TX_BATCH];
    struct sockaddr_storage from[TFTP_TX_BATCH];
    struct iovec iov[TFTP_TX_BATCH];
    while (x->state == TFTP_TX_RUNNING) {
        uint64_t now = tftp_tx_clock();
        if (now >= x->deadline) {
            tftp_tx_timeout(x, now);
            continue;
        }
        int n = -1;
        uint64_t pace_at = x->pace_wait ? now + TFTP_TX_PACE_US : 0;
        for (uint64_t end = now + SPIN_US; !x->want_write && n <= 0 && now < end &&
                                           now < x->deadline; now = tftp_tx_clock()) {
            if (pace_at && now >= pace_at) {
                tftp_tx_pace(x, now);   /* the next burst of the window */
                now = tftp_tx_clock();  /* the pause counts from its end */
                pace_at = x->pace_wait ? now + TFTP_TX_PACE_US : 0;
                end = now + SPIN_US;
            }
            n = recv_batch(c, m, from, iov);
        }
        if (n <= 0 && pace_at) {
            /* a burst is due: do not sleep past it */
            while (tftp_tx_clock() < pace_at)
                ;
            tftp_tx_pace(x, tftp_tx_clock());
            continue;
        }
        if (n <= 0 && now < x->deadline) {
            /* sleep until a packet or the deadline, to the microsecond */
            uint64_t wait = x->deadline - now;
            struct timespec ts = {(time_t)(wait / 1000000), (long)(wait % 1000000) * 1000};
            struct pollfd p = {c->sock, (short)(POLLIN | (x->want_write ? POLLOUT : 0)), 0};
            int r = ppoll(&p, 1, &ts, NULL);
            if (r < 0 && errno != EINTR)
                return -errno;
            if (p.revents & POLLOUT)
                tftp_tx_writable(x, tftp_tx_clock());
            if (p.revents & (POLLIN | POLLERR))
                n = recv_batch(c, m, from, iov);
        }
        now = tftp_tx_clock();
        for (int i = 0; i < n && x->state == TFTP_TX_RUNNING; i++) {
            if (m[i].msg_hdr.msg_flags & MSG_TRUNC)
                continue;
            tftp_tx_input(x, iov[i].iov_base, m[i].msg_len,
                          (struct sockaddr *)&from[i], m[i].msg_hdr.msg_namelen, now);
        }
        tftp_tx_flush(x, now);
        progress_set(&c->prog, x->bytes);
    }
    return 0;
}

/* Send the request and wait for its answer; then run the transfer. */
static int transfer(struct client *c)
{
    struct ibx_tftp_opts want;
    uint8_t req[1024], pkt[IBX_TFTP_PKT_MAX + 1];
    bool with_opts = true;
    uint32_t rto_max = c->timeout ? (uint32_t)c->timeout * 1000 : 1000;
    uint32_t giveup = c->timeout ? (uint32_t)c->timeout * 5000 : 10000;

again:
    want_opts(c, &want);
    int rl = ibx_tftp_build_req(req, sizeof req, c->put ? IBX_TFTP_WRQ : IBX_TFTP_RRQ,
                                c->remote, c->mode, with_opts ? &want : NULL);
    if (rl < 0) {
        ibx_err(&c->log, "file name too long");
        return -EINVAL;
    }
    if (!with_opts)
        want.have = 0;
    uint64_t start = tftp_tx_clock(), sent_at = start;   /* µs */
    /* A read request is tiny and a repeat is harmless (a server that
     * starts a second transfer for it gets ERROR 5 from us), so its first
     * repeat comes after REQ_RTO_INITIAL, not after the full timeout: a
     * lost request or OACK then costs a quarter second rather than one.
     * A write request waits the full timeout: a forking server may open
     * (and truncate) the file again for a repeat. */
    uint64_t rto = c->timeout || c->put ? rto_max * 1000ull : REQ_RTO_INITIAL;
    uint64_t rto_cap = rto_max * 1000ull > 8000000 ? rto_max * 1000ull : 8000000;
    uint64_t end = start + giveup * 1000ull;
    bool resent = false;
    uint64_t size = c->put ? c->size : 0;   /* for the progress display */
    bool size_known = c->put && c->mode == IBX_TFTP_OCTET;
    struct tftp_tx x = {.sock = c->sock, .file = c->lf.fd, .sending = c->put,
                        .mode = c->mode, .blksize = IBX_TFTP_BLKSIZE_DEFAULT,
                        .window = 1, .rto_max = rto_max, .rto_fixed = c->timeout != 0,
                        .giveup = giveup, .scratch = &c->scratch};
    struct ibx_tftp_pkt p;
    struct sockaddr_storage from;
    socklen_t flen;
    ssize_t n;
    tftp_tx_send_to(c->sock, req, (size_t)rl, (struct sockaddr *)&c->server.ss, c->server.len);
    for (;;) {
        uint64_t now = tftp_tx_clock();
        if (now >= end) {
            ibx_err(&c->log, "no answer from the server");
            return -ETIMEDOUT;
        }
        if (now - sent_at >= rto) {
            tftp_tx_send_to(c->sock, req, (size_t)rl, (struct sockaddr *)&c->server.ss,
                            c->server.len);
            sent_at = now;
            resent = true;
            rto = rto * 2 < rto_cap ? rto * 2 : rto_cap;
        }
        struct pollfd pf = {c->sock, POLLIN, 0};
        uint64_t due = sent_at + rto < end ? sent_at + rto : end;
        uint64_t wait = due > now ? due - now : 0;
        if (poll(&pf, 1, (int)(wait / 1000) + 1) <= 0)
            continue;
        flen = sizeof from;
        n = recvfrom(c->sock, pkt, sizeof pkt, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
        if (n < 0 || !same_host((struct sockaddr *)&from, &c->server) ||
            ibx_tftp_parse(pkt, (size_t)n, &p) < 0)
            continue;
        if (p.op == IBX_TFTP_ERROR) {
            if (with_opts && want.have && (p.u.error.code == IBX_TFTP_EOPTNEG ||
                                           p.u.error.code == IBX_TFTP_EBADOP)) {
                ibx_info(&c->log, "server refused options (%s); retrying without",
                         p.u.error.msg);
                with_opts = false;
                goto again;
            }
            ibx_err(&c->log, "server error %u: %s", p.u.error.code, p.u.error.msg);
            return -EIO;
        }
        if (p.op == IBX_TFTP_OACK && want.have)
            break;
        if (!c->put && p.op == IBX_TFTP_DATA && p.u.data.block == 1)
            break;
        if (c->put && p.op == IBX_TFTP_ACK && p.u.ack.block == 0)
            break;
    }
    memcpy(&x.peer.ss, &from, flen);
    x.peer.len = flen;
    if (!resent) {   /* Karn: a request sent twice times nothing */
        x.rtt_hint_set = true;
        x.rtt_hint = (uint32_t)(tftp_tx_clock() - start);
    }
    if (p.op == IBX_TFTP_OACK) {
        const char *bad = check_oack(c, &want, &p.u.oack);
        if (bad) {
            tftp_tx_send_error(c->sock, (struct sockaddr *)&from, flen, IBX_TFTP_EOPTNEG, bad);
            ibx_err(&c->log, "%s", bad);
            return -EPROTO;
        }
        const struct ibx_tftp_opts *o = &p.u.oack;
        if (o->have & IBX_TFTP_OPT_BLKSIZE)
            x.blksize = (uint32_t)o->blksize;
        if (o->have & IBX_TFTP_OPT_WINDOWSIZE)
            x.window = (uint32_t)o->windowsize;
        if (!c->put && (o->have & IBX_TFTP_OPT_TSIZE)) {
            ibx_debug(&c->log, "server says %llu bytes",
                      (unsigned long long)o->tsize);
            if (c->mode == IBX_TFTP_OCTET)
                size = o->tsize, size_known = true;
        }
        if (!c->put) {
            x.ctl_len = (size_t)ibx_tftp_build_ack(x.ctl, sizeof x.ctl, 0);
        }
    } else if (want.have) {
        ibx_info(&c->log, "server ignored options; using blksize 512, windowsize 1");
    }
    if (!c->put) {
        /* large windows of large blocks need room in the socket */
        tftp_tx_sock_buffers(c->sock, 4 << 20);
    }
    c->rx_slot = x.blksize + IBX_TFTP_HDR + 1;
    c->rx = malloc(TFTP_TX_BATCH * c->rx_slot);
    if (!c->rx || tftp_tx_begin(&x, tftp_tx_clock()) < 0) {
        tftp_tx_release(&x);
        return -ENOMEM;
    }
    progress_file_begin(&c->prog, c->remote, size, size_known, 0);
    if (p.op == IBX_TFTP_DATA)
        tftp_tx_input(&x, pkt, (size_t)n, (struct sockaddr *)&from, flen, tftp_tx_clock());
    tftp_tx_flush(&x, tftp_tx_clock());
    int r = run_transfer(c, &x);
    if (!r && x.state == TFTP_TX_DONE) {
        /* the summary line (progress_finish) says the rest */
        progress_note(&c->prog, "blksize %u, windowsize %u, %llu retransmitted",
                      x.blksize, x.window, (unsigned long long)x.retransmits);
    } else {
        progress_clear(&c->prog);
        ibx_err(&c->log, "%s %s failed: %s", c->put ? "put" : "get", c->remote,
                r ? strerror(-r) : x.why);
        r = -EIO;
    }
    tftp_tx_release(&x);
    return r;
}

static int set_mode(void *cfg, const char *text, char *err, size_t errlen)
{
    struct client *c = cfg;
    if (!strcmp(text, "octet") || !strcmp(text, "binary"))
        c->mode = IBX_TFTP_OCTET;
    else if (!strcmp(text, "netascii") || !strcmp(text, "ascii"))
        c->mode = IBX_TFTP_NETASCII;
    else {
        snprintf(err, errlen, "wants octet or netascii");
        return -1;
    }
    return 0;
}

static const struct opt tftp_opts[] = {
    OPT_U(struct client, blksize, "blksize", "N", NULL, IBX_TFTP_BLKSIZE_MIN,
          IBX_TFTP_BLKSIZE_MAX, "ask for N-byte blocks (RFC 2348)"),
    OPT_U(struct client, window, "windowsize", "N", NULL, 1, IBX_TFTP_WINDOW_MAX,
          "ask for N blocks per ACK (RFC 7440)"),
    OPT_C(struct client, mode, "mode", "MODE", "octet", set_mode, "octet or netascii"),
    OPT_U(struct client, timeout, "timeout", "SECONDS", NULL, IBX_TFTP_TIMEOUT_MIN,
          IBX_TFTP_TIMEOUT_MAX,
          "ask for this retransmit timeout (RFC 2349); also sets the give-up time "
          "to 5 times it (default: adaptive, give up after 10 s without progress)"),
    OPT_B(struct client, no_progress, "no-progress",
          "no progress display, only the summary line (--quiet: neither)"),
    OPT_TABLE_END,
};

static const char tftp_about[] =
    "TFTP client. get fetches the server's FILE into LOCAL (default: the last "
    "part of FILE; '-' is stdout); put sends LOCAL (default FILE) to the server "
    "as FILE. PORT defaults to 69; IPv6 as [ADDR]:PORT.";

static const char tftp_footer[] =
    "Progress (stderr): on a terminal one line redrawn in place and fitted to\n"
    "the width (bytes, rate, ETA when the size is known), otherwise a plain\n"
    "line every few seconds; then a summary line.\n"
    "Options a server ignores fall back to the RFC 1350 defaults\n"
    "(512-byte blocks, one block per ACK). Exit status: 0 done, 1 failed,\n"
    "2 usage.\n";

/* Parse the command line into c. Returns -1 to go on, or an exit status
 * (0 after --help). */
static int parse_args(struct client *c, int argc, char **argv)
{
    struct cli cli;
    cli_init(&cli, "tftp");
    opt_defaults(cli_log_opts, &cli);
    opt_defaults(tftp_opts, c);
    struct opt_cmd cmd;
    opt_cmd_init(&cmd, "tftp", "[options] HOST[:PORT] get|put FILE [LOCAL]", tftp_about);
    cmd.footer = tftp_footer;
    cmd.min_args = 3;
    cmd.max_args = 4;
    opt_cmd_add(&cmd, "options", NULL, NULL, tftp_opts, c);
    opt_cmd_add(&cmd, "options", NULL, NULL, cli_log_opts, &cli);
    int r = opt_parse(&cmd, argc, argv);
    if (r >= 0)
        goto out;
    cli_finish(&cli);
    c->log = cli.log;
    const char *host = cmd.args[0], *verb = cmd.args[1];
    c->put = !strcmp(verb, "put");
    c->remote = cmd.args[2];
    c->local = cmd.nargs == 4 ? cmd.args[3] : NULL;
    if (!c->put && strcmp(verb, "get"))
        r = opt_usage("tftp", "expected get or put, not '%s'", verb);
    else if (!*c->remote)
        r = opt_usage("tftp", "empty file name");
    else if (ibx_addr_resolve(host, NULL, IBX_TFTP_PORT, SOCK_DGRAM, &c->server) < 0)
        r = opt_usage("tftp", "cannot resolve '%s' (HOST[:PORT] or [V6]:PORT)", host);
out:
    opt_cmd_free(&cmd);   /* the arguments are argv's strings */
    return r;
}

int tftp_main(int argc, char **argv)
{
    struct client c = {.sock = -1, .lf = {.fd = -1}};
    int r = parse_args(&c, argc, argv);
    if (r >= 0)
        return r;
    char base[4096];
    snprintf(base, sizeof base, "%s", c.remote);
    const char *local = c.local ? c.local : (c.put ? c.remote : basename(base));
    if (!*local || !strcmp(local, "/") || !strcmp(local, ".") || !strcmp(local, ".."))
        return opt_usage("tftp", "give a LOCAL file name");

    if (c.put) {
        r = local_open_read(&c.lf, local);
        if (r == 0)
            c.size = c.lf.size;
    } else {
        r = local_open_write(&c.lf, local);
    }
    if (r < 0) {
        ibx_err(&c.log, "%s: %s", local, strerror(-r));
        return 1;
    }
    c.sock = socket(c.server.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.sock < 0 || tftp_tx_scratch_init(&c.scratch) < 0) {
        ibx_err(&c.log, "socket: %s", strerror(errno));
        local_abandon(&c.lf);
        return 1;
    }
    /* --quiet (or --log-level below info) keeps the display off, as it
     * kept the summary off before */
    progress_init(&c.prog, c.put ? "tftp put" : "tftp get", false,
                  !ibx_log_enabled(&c.log, IBX_LOG_INFO) ? PROGRESS_QUIET
                  : c.no_progress                        ? PROGRESS_SUMMARY
                                                         : PROGRESS_ON);
    r = transfer(&c);
    if (!r && !c.put)
        r = local_commit(&c.lf);
    progress_file_end(&c.prog, r < 0 ? PROGRESS_NOT_OK : PROGRESS_OK, 0);
    progress_clear(&c.prog);
    if (r < 0) {
        if (r != -EIO && r != -ETIMEDOUT && r != -EPROTO)
            ibx_err(&c.log, "%s: %s", local, strerror(-r));
        local_abandon(&c.lf);
    } else {
        local_close(&c.lf);
    }
    if (r >= 0)
        progress_finish(&c.prog);
    close(c.sock);
    free(c.rx);
    tftp_tx_scratch_free(&c.scratch);
    return r < 0 ? 1 : 0;
}
