/* tftpd: the TFTP server applet and its `serve` registration. */
//applet: tftpd TFTP server (RFC 1350, blksize, tsize, timeout, windowsize)
//service: tftpd
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ipcbox/tftp.h"
#include "service.h"
#include "tftp/server.h"

#define TFTPD_PORT 6969

/* ---- the service ---------------------------------------------------------- */

/* tftpd's options (cfg) and one prepared copy of them per address. */
struct tftpd_svc {
    struct tftpd_cfg cfg;
    const char *dir;
    bool no_busy_poll;
    struct tftpd_cfg *inst[SVC_ADDRS_MAX];
    size_t ninst;
};

static int set_range(void *p, const char *text, char *err, size_t errlen)
{
    struct tftpd_svc *t = p;
    unsigned lo, hi;
    char end;
    if (sscanf(text, "%u:%u%c", &lo, &hi, &end) != 2 || lo < 1 || hi > 65535 || lo > hi) {
        snprintf(err, errlen, "wants LO:HI (1..65535)");
        return -1;
    }
    t->cfg.port_lo = (uint16_t)lo;
    t->cfg.port_hi = (uint16_t)hi;
    return 0;
}

#define T struct tftpd_svc
static const struct opt tftpd_opts[] = {
    OPT_S(T, dir, "dir", "ROOT", "directory served (the ROOT argument; default: "
          "the current directory)"),
    OPT_B(T, cfg.create, "create", "uploads may create new files"),
    OPT_B(T, cfg.overwrite, "allow-overwrite", "uploads may replace existing files"),
    OPT_C(T, cfg.port_lo, "port-range", "LO:HI", NULL, set_range,
          "local ports for transfers (default: any)"),
    OPT_B(T, cfg.single_port, "single-port",
          "answer every transfer from the listening port (for NAT and containers)"),
    OPT_U(T, cfg.max_blksize, "max-blksize", "N", "65464", IBX_TFTP_BLKSIZE_MIN,
          IBX_TFTP_BLKSIZE_MAX, "largest blksize granted"),
    OPT_U(T, cfg.max_window, "max-windowsize", "N", "256", 1, IBX_TFTP_WINDOW_MAX,
          "largest windowsize granted"),
    OPT_SEC(T, cfg.timeout_ms, "timeout", "1", 1, 255,
            "retransmit ceiling when a client asks none"),
    OPT_SEC(T, cfg.giveup_ms, "giveup", "10", 1, 3600,
            "abandon a silent transfer after this long"),
    OPT_Z(T, cfg.max_size, "max-size", NULL, 1, UINT64_MAX,
          "largest upload, e.g. 10m (default: unlimited)"),
    OPT_U(T, cfg.max_transfers, "max-transfers", "N", NULL, 1, 1000000,
          "concurrent transfers (default 256, fewer if the descriptor limit is "
          "low: (nofile-64)/3)"),
    OPT_U(T, cfg.max_per_peer, "max-per-peer", "N", "16", 1, 1000000,
          "concurrent transfers of one peer address. At either cap the oldest "
          "transfer whose peer never acknowledged data makes room, else the "
          "request gets ERROR \"server busy\""),
    OPT_B(T, no_busy_poll, "no-busy-poll",
          "never spin for the next packet (by default a lone fast transfer "
          "polls up to 20 ms per wake-up; never under serve)"),
    OPT_TABLE_END,
};
#undef T

static void tftpd_defaults(void *p)
{
    struct tftpd_svc *t = p;
    tftpd_cfg_init(&t->cfg);
}

static void tftpd_stop(void *p)
{
    struct tftpd_svc *t = p;
    for (size_t i = 0; i < t->ninst; i++) {
        tftpd_cfg_fini(t->inst[i]);
        free(t->inst[i]);
    }
    t->ninst = 0;
}

static int tftpd_start(void *p, const struct svc_env *env)
{
    struct tftpd_svc *t = p;
    struct stat st;
    if (stat(t->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        ibx_err(env->log, "msg=\"not a directory\" root=%s", t->dir);
        return -EINVAL;
    }
    ibx_addr addrs[SVC_ADDRS_MAX];
    int fds[SVC_ADDRS_MAX];
    int n;
    if (env->nfds) {
        /* socket activation: the datagram sockets given */
        n = (int)svc_fds(env, SOCK_DGRAM, fds, SVC_ADDRS_MAX);
        if (!n) {
            ibx_err(env->log, "msg=\"socket activation gave no UDP socket\"");
            return -EINVAL;
        }
    } else {
        n = svc_addrs(&tftpd_service, env, SOCK_DGRAM, addrs, SVC_ADDRS_MAX);
        if (n < 0)
            return n;
    }
    for (int i = 0; i < n; i++) {
        struct tftpd_cfg *c = malloc(sizeof *c);
        if (!c)
            return i ? -EBUSY : -ENOMEM;
        *c = t->cfg;
        if (env->nfds) {
            c->lfd = fds[i];   /* tftpd_prepare keeps a socket it is given */
            ibx_sock_local(fds[i], &c->listen);
        } else {
            c->listen = addrs[i];
        }
        c->busy_poll = !t->no_busy_poll && !env->shared_loop;
        t->inst[t->ninst++] = c;
        int r = tftpd_prepare(c, t->dir, env->log);
        if (r == -EADDRINUSE)
            ibx_err(env->log, "msg=\"the port is in use (choose another with %s)\" "
                    "flag=%s", env->listen_flag, env->listen_flag);
        if (!r)
            r = ibx_server_add_unit(env->srv, tftpd_unit_start, c);
        if (r < 0)
            return i && r == -EADDRINUSE ? -EBUSY : r;
    }
    return 0;
}

const struct service tftpd_service = {
    .name = "tftpd",
    .summary = "TFTP server (RFC 1350, 2347-2349, 7440)",
    .synopsis = "[options] [ROOT]",
    .about = "TFTP server for the files below ROOT (default: the current "
             "directory) on 127.0.0.1:6969. Read-only unless --create or "
             "--allow-overwrite; names never resolve outside ROOT.\n"
             "Each transfer logs one line: direction, peer, file, mode, bytes, "
             "blksize, windowsize, time, rate, retransmits and result. A peer "
             "that has not acknowledged any DATA yet (its request may be forged) "
             "gets at most 3x the bytes it sent beyond the first block. At "
             "start-up, upload temporaries (.tftp-upload.*) below ROOT that no "
             "running server holds locked (left by a crash) are removed.",
    .port = TFTPD_PORT,
    .cfg_size = sizeof(struct tftpd_svc),
    .opts = tftpd_opts,
    .has_dir = true,
    .dir_off = offsetof(struct tftpd_svc, dir),
    .defaults = tftpd_defaults,
    .start = tftpd_start,
    .stop = tftpd_stop,
};

int tftpd_main(int argc, char **argv)
{
    return service_main(&tftpd_service, argc, argv);
}
