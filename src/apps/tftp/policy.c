/* Server policy of tftpd (see policy.h and server.h). */
#include "policy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tftp/stale.h"

void tftpd_cfg_init(struct tftpd_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->rootfd = cfg->lfd = -1;
    cfg->max_blksize = IBX_TFTP_BLKSIZE_MAX;
    cfg->max_window = 256;
    cfg->timeout_ms = 1000;
    cfg->giveup_ms = 10000;
    cfg->busy_poll = true;
    cfg->max_per_peer = TFTPD_MAX_PER_PEER;
    ibx_addr_parse("127.0.0.1:6969", NULL, 6969, &cfg->listen);
}

int tftpd_prepare(struct tftpd_cfg *cfg, const char *root, const ibx_log *log)
{
    char a[IBX_ADDRSTRLEN];
    cfg->root = root;
    cfg->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cfg->rootfd < 0) {
        int e = -errno;
        ibx_err(log, "msg=\"cannot open the root\" root=%s reason=%s", root, strerror(errno));
        return e;
    }
    if (!cfg->max_transfers) {
        /* a transfer holds up to three descriptors (socket, file, and
         * an upload's directory); keep some for the rest */
        struct rlimit rl;
        rlim_t fit = TFTPD_MAX_TRANSFERS;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
            fit = rl.rlim_cur > 64 + 3 ? (rl.rlim_cur - 64) / 3 : 1;
        cfg->max_transfers = fit < TFTPD_MAX_TRANSFERS ? (unsigned)fit : TFTPD_MAX_TRANSFERS;
    }
    tftpd_clean_stale(cfg->rootfd, root, log);
    if (cfg->lfd < 0)   /* else a socket-activated one */
        cfg->lfd = ibx_udp_bind(&cfg->listen, 0);
    if (cfg->lfd < 0) {
        ibx_err(log, "msg=\"cannot listen on %s\" proto=udp reason=%s",
                ibx_addr_format((struct sockaddr *)&cfg->listen.ss, cfg->listen.len,
                                a, sizeof a), strerror(-cfg->lfd));
        return cfg->lfd;
    }
    if (cfg->single_port)
        tftp_tx_sock_buffers(cfg->lfd, 4 << 20);
    ibx_addr bound;
    ibx_sock_local(cfg->lfd, &bound);
    ibx_info(log, "msg=\"listening on %s\" proto=udp root=%s uploads=%s single_port=%s",
             ibx_addr_format((struct sockaddr *)&bound.ss, bound.len, a, sizeof a),
             root, cfg->create || cfg->overwrite ? "yes" : "no",
             cfg->single_port ? "yes" : "no");
    return 0;
}

void tftpd_cfg_fini(struct tftpd_cfg *cfg)
{
    if (cfg->lfd >= 0)
        close(cfg->lfd);
    if (cfg->rootfd >= 0)
        close(cfg->rootfd);
    cfg->lfd = cfg->rootfd = -1;
}

/* ---- options ----------------------------------------------------------- */

/* Decide the options to grant. Returns 0, or -EFBIG with *code and *msg. */
int tftpd_negotiate(const struct tftpd_cfg *cfg, const struct ibx_tftp_pkt *p,
                    uint64_t size, struct ibx_tftp_opts *g, struct tftp_tx *x,
                    uint16_t *code, const char **msg)
{
    const struct ibx_tftp_opts *o = &p->u.req.opts;
    memset(g, 0, sizeof *g);
    x->blksize = IBX_TFTP_BLKSIZE_DEFAULT;
    x->window = 1;
    x->rto_max = cfg->timeout_ms;
    if ((o->have & IBX_TFTP_OPT_BLKSIZE) && o->blksize >= IBX_TFTP_BLKSIZE_MIN) {
        g->have |= IBX_TFTP_OPT_BLKSIZE;
        g->blksize = o->blksize < cfg->max_blksize ? o->blksize : cfg->max_blksize;
        x->blksize = (uint32_t)g->blksize;
    }
    if ((o->have & IBX_TFTP_OPT_WINDOWSIZE) && o->windowsize >= IBX_TFTP_WINDOW_MIN &&
        o->windowsize <= IBX_TFTP_WINDOW_MAX) {
        g->have |= IBX_TFTP_OPT_WINDOWSIZE;
        g->windowsize = o->windowsize < cfg->max_window ? o->windowsize : cfg->max_window;
        x->window = (uint32_t)g->windowsize;
    }
    if ((o->have & IBX_TFTP_OPT_TIMEOUT) && o->timeout >= IBX_TFTP_TIMEOUT_MIN &&
        o->timeout <= IBX_TFTP_TIMEOUT_MAX) {
        g->have |= IBX_TFTP_OPT_TIMEOUT;
        g->timeout = o->timeout;
        x->rto_max = (uint32_t)o->timeout * 1000;
    }
    if (o->have & IBX_TFTP_OPT_TSIZE) {
        if (p->op == IBX_TFTP_WRQ) {
            if (cfg->max_size && o->tsize > cfg->max_size) {
                *code = IBX_TFTP_ENOSPACE;
                *msg = "file too large";
                return -EFBIG;
            }
            g->have |= IBX_TFTP_OPT_TSIZE;
            g->tsize = o->tsize;
        } else if (p->u.req.mode == IBX_TFTP_OCTET && size > 0) {
            /* netascii sizes are unknown until encoded: leave it out;
             * so is 0, which curl rejects as an invalid tsize */
            g->have |= IBX_TFTP_OPT_TSIZE;
            g->tsize = size;
        }
    }
    return 0;
}

/* ---- helpers ----------------------------------------------------------- */

/* A printable, quote-free copy of a requested name for the log. */
void log_name(char *dst, size_t cap, const char *src)
{
    size_t o = 0;
    for (; *src && o + 4 < cap; src++)
        dst[o++] = (*src >= 0x20 && *src < 0x7f && *src != '"' && *src != '\\')
                       ? *src : '?';
    if (*src && o + 4 >= cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = 0;
}

unsigned peer_hash(const struct sockaddr *sa)
{
    uint32_t h = 2166136261u;
    const uint8_t *p;
    size_t n;
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)sa;
        p = (const uint8_t *)&s6->sin6_addr;
        n = sizeof s6->sin6_addr;
    } else {
        const struct sockaddr_in *s4 = (const void *)sa;
        p = (const uint8_t *)&s4->sin_addr;
        n = sizeof s4->sin_addr;
    }
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    h = (h ^ ibx_addr_port(sa)) * 16777619u;
    return h;
}

