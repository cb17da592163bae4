/* recv applet and its registration as a serve service. */
//applet: recv receive files from ipcbox send; serve get and list (framed, verified)
//service: recv
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "service.h"
#include "xfer_list.h"
#include "xfer_recv.h"

/* Default idle timeout of a connection. */
#define RECV_IDLE_MS 120000u

static int open_root(const char *dir, const ibx_log *log)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        ibx_err(log, "%s: %s", dir, strerror(errno));
    return fd;
}

unsigned recv_default_max_conns(void)
{
    struct rlimit rl;
    unsigned cap = RECV_MAX_CONNS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        /* room for the listeners, logs, the sweep's walk, spare fds */
        uint64_t room = rl.rlim_cur > 64 + XFER_DEPTH_MAX ? rl.rlim_cur - 64 - XFER_DEPTH_MAX : 0;
        if (room / RECV_FDS_PER_CONN < cap)
            cap = (unsigned)(room / RECV_FDS_PER_CONN);
    }
    return cap ? cap : 1;
}

int recv_parse_min_free(const char *s, struct recv_cfg *cfg)
{
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '%') {
        char num[16];
        uint64_t v;
        if (n - 1 >= sizeof num)
            return -EINVAL;
        memcpy(num, s, n - 1);
        num[n - 1] = '\0';
        if (opt_parse_uint(num, 0, RECV_MIN_FREE_PCT_MAX, &v) < 0)
            return -EINVAL;
        cfg->min_free_pct = (unsigned)v;
        cfg->min_free = 0;
        return 0;
    }
    uint64_t b;
    if (opt_parse_size(s, 0, 1ull << 50, &b) < 0)
        return -EINVAL;
    cfg->min_free = b;
    cfg->min_free_pct = 0;
    return 0;
}

/* The promise count is shared with forked children, so it must work
 * across processes: lock-free atomics do. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "recv needs lock-free 64-bit atomics");

_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "recv needs lock-free long atomics");

/* What the processes of one recv share. */
struct recv_shared {
    _Atomic uint64_t promised;   /* first: cfg->promised is the mapping */
    ibx_log_gate preauth_log;
};

int recv_shared_map(struct recv_cfg *cfg)
{
    struct recv_shared *p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    cfg->promised = &p->promised;
    atomic_init(cfg->promised, 0);
    cfg->preauth_log = &p->preauth_log;
    ibx_log_gate_init(cfg->preauth_log, RECV_PREAUTH_LOG_BURST, 1000);
    return 0;
}

void recv_shared_unmap(struct recv_cfg *cfg)
{
    if (cfg->promised)
        munmap((void *)cfg->promised, sizeof(struct recv_shared));
    cfg->promised = NULL;
    cfg->preauth_log = NULL;
}

/* ---- the service ---------------------------------------------------------- */

/* recv's options (cfg) and what start opened. */
struct recv_svc {
    struct recv_cfg cfg;
    const char *dir;
    const char *token_file;
    bool allow_anonymous;
    struct xfer_token token;
};

static int set_mode(void *p, const char *text, char *err, size_t errlen)
{
    struct recv_svc *r = p;
    if (xfer_parse_mode(text, &r->cfg.opts.mode) < 0) {
        snprintf(err, errlen, "wants octal permissions up to 0777");
        return -1;
    }
    r->cfg.opts.force_mode = true;
    return 0;
}

static int set_min_free(void *p, const char *text, char *err, size_t errlen)
{
    if (recv_parse_min_free(text, &((struct recv_svc *)p)->cfg) == 0)
        return 0;
    snprintf(err, errlen, "wants a size (e.g. 64m) or a percentage up to %u%%",
             RECV_MIN_FREE_PCT_MAX);
    return -1;
}

static int set_part_ttl(void *p, const char *text, char *err, size_t errlen)
{
    if (recv_parse_duration(text, &((struct recv_svc *)p)->cfg.part_ttl_s) == 0)
        return 0;
    snprintf(err, errlen, "wants a duration such as 7d, 12h, 30m or 0");
    return -1;
}

#define R struct recv_svc
static const struct opt recv_opts[] = {
    OPT_S(R, dir, "dir", "DIR", "directory to receive into and serve (also the "
          "DIR argument; default: the current directory)"),
    OPT_Z(R, cfg.opts.max_size, "max-size", NULL, 0, (uint64_t)1 << 50,
          "refuse files larger than this (default: no limit; 0 = no limit)"),
    OPT_NOT(R, cfg.opts.allow_overwrite, "no-overwrite",
            "never replace a file, even with send --overwrite"),
    OPT_C(R, cfg.opts.mode, "mode", "OCTAL", NULL, set_mode,
          "give every received file this mode (e.g. 640)"),
    OPT_C(R, cfg.part_ttl_s, "part-ttl", "DURATION", "7d", set_part_ttl,
          "remove interrupted uploads' hidden part files unused this long, at "
          "start and periodically (N[s|m|h|d]; 0 = keep forever)"),
    OPT_U(R, cfg.opts.max_depth, "max-depth", "N", "32", 1, XFER_DEPTH_MAX,
          "directory levels a received path may have; deeper offers are "
          "refused, and listings and the part-file sweep go this deep"),
    OPT_C(R, cfg.min_free_pct, "min-free", "SIZE|N%", "1%", set_min_free,
          "keep this much of the disk free: an offer that would not fit (with "
          "what uploads in progress may still write) is refused before a byte "
          "is written"),
    OPT_SEC(R, cfg.idle_ms, "idle", "120", 1, 86400, "close connections silent this long"),
    OPT_B(R, cfg.once, "once", "exit after the first connection; the exit status "
          "says how it went (as for send)"),
    OPT_S(R, token_file, "token-file", "FILE",
          "require clients to prove the shared token in FILE (HMAC "
          "challenge-response; send and get take the same --token-file). One "
          "line, at least 16 bytes, not readable by others; make one: head -c "
          "32 /dev/urandom | base64 > FILE"),
    OPT_B(R, allow_anonymous, "allow-anonymous",
          "listen on a non-loopback address without a token (refused "
          "otherwise: anyone could upload)"),
    OPT_SEC(R, cfg.handshake_ms, "handshake-timeout", "10", 1, 3600,
            "close a connection that has not finished HELLO and authentication by then"),
    OPT_TABLE_END,
};
#undef R

static void recv_defaults(void *p)
{
    struct recv_svc *r = p;
    r->cfg.rootfd = -1;
    r->cfg.opts.allow_overwrite = true;
    r->cfg.opts.umask = xfer_process_umask();
}

static void recv_stop(void *p)
{
    struct recv_svc *r = p;
    recv_sweep_free(&r->cfg);
    recv_shared_unmap(&r->cfg);
    if (r->cfg.rootfd >= 0)
        close(r->cfg.rootfd);
    r->cfg.rootfd = -1;
    xfer_token_wipe(&r->token);
}

/* A non-loopback address needs a token, or the operator's explicit
 * --allow-anonymous. Returns 0, or -EINVAL after logging why. */
static int check_exposure(const struct recv_svc *r, const struct svc_env *env,
                          bool bound, size_t first)
{
    if (r->cfg.token || r->allow_anonymous)
        return 0;
    ibx_addr addrs[SVC_ADDRS_MAX];
    int n = 0;
    if (bound) {
        /* what was bound, not what a name resolved to a moment before */
        while (n < SVC_ADDRS_MAX &&
               ibx_server_listener_addr(env->srv, first + (size_t)n, &addrs[n]) == 0)
            n++;
    } else if (env->nfds) {
        for (size_t i = 0; i < env->nfds && n < SVC_ADDRS_MAX; i++)
            if (ibx_sock_local(env->fds[i], &addrs[n]) == 0)
                n++;
    } else {
        n = svc_addrs(&recv_service, env, SOCK_STREAM, addrs, SVC_ADDRS_MAX);
        if (n < 0)
            return n;
    }
    for (int i = 0; i < n; i++) {
        if (xfer_addr_is_local((struct sockaddr *)&addrs[i].ss))
            continue;
        char a[IBX_ADDRSTRLEN], tf[64], an[64];
        ibx_addr_format((struct sockaddr *)&addrs[i].ss, addrs[i].len, a, sizeof a);
        bool serve = strcmp(env->listen_flag, "--listen") != 0;
        snprintf(tf, sizeof tf, "--%stoken-file", serve ? "recv-" : "");
        snprintf(an, sizeof an, "--%sallow-anonymous", serve ? "recv-" : "");
        ibx_err(env->log, "msg=\"refusing to listen on %s without authentication "
                "(anyone who can connect could upload): give %s FILE, or %s\" addr=%s",
                a, tf, an, a);
        return -EINVAL;
    }
    return 0;
}

static int recv_start(void *p, const struct svc_env *env)
{
    struct recv_svc *rs = p;
    struct recv_cfg *cfg = &rs->cfg;
    cfg->log = env->log;
    cfg->srv = env->srv;
    if (cfg->once && (env->shared_loop ||
                      !(ibx_model_traits(env->server->model) & IBX_MODEL_ONE_LOOP))) {
        ibx_err(env->log, "msg=\"--once needs a one-loop model (epoll, iterative), and "
                "no serve\"");
        return -EINVAL;
    }
    struct stat st;
    if (stat(rs->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        ibx_err(env->log, "msg=\"not a directory\" dir=%s", rs->dir);
        return -EINVAL;
    }
    if (rs->token_file) {
        if (xfer_token_load_cli("recv", rs->token_file, &rs->token) < 0)
            return -EINVAL;
        cfg->token = &rs->token;
    }
    int r = check_exposure(rs, env, false, 0);
    if (r < 0)
        return r;
    cfg->rootfd = open_root(rs->dir, env->log);
    if (cfg->rootfd < 0)
        return -ENOENT;
    r = recv_shared_map(cfg);
    if (r < 0) {
        ibx_err(env->log, "msg=\"shared memory\" reason=%s", strerror(-r));
        return r;
    }
    size_t first = svc_listener_count(env);
    r = svc_listen_tcp(&recv_service, env, &xfer_recv_proto, cfg);
    if (r < 0)
        return r;
    if (check_exposure(rs, env, true, first) < 0)
        return -EINVAL;
    if (recv_sweep_add(env->srv, cfg) < 0) {
        ibx_err(env->log, "msg=\"part-file sweeper: out of memory\"");
        return -EBUSY;
    }
    ibx_info(env->log, "msg=\"serving %s\" dir=%s auth=%s token_file=%s", rs->dir,
             rs->dir, cfg->token ? "token" : "none", cfg->token ? rs->token_file : "-");
    return 0;
}

static void recv_server_defaults(struct ibx_server_config *srv)
{
    srv->max_conns = recv_default_max_conns();
}

static int recv_exit_status(const void *p)
{
    const struct recv_svc *r = p;
    return r->cfg.once ? r->cfg.status : 0;
}

const struct service recv_service = {
    .name = "recv",
    .summary = "file transfer: send/get/list (framed, verified)",
    .synopsis = "[options] [DIR]",
    .about = "Receive files from 'ipcbox send' into DIR (default .), and answer "
             "'ipcbox get' and 'ipcbox get --list' with the files under DIR, on "
             "127.0.0.1:7070 unless --listen says otherwise. Every file lands in "
             "a hidden temporary file, is verified against the sender's hash, "
             "fsynced and renamed into place; interrupted transfers resume. Names "
             "with '..', absolute paths, control characters, or that lead outside "
             "DIR through symlinks are refused.\n"
             "A file gets the sender's permission bits less the umask recv was "
             "started with (never setuid, setgid or sticky), or the --mode given. "
             "The commit (fsync, rename, directory fsync) runs off the event loop; "
             "the sender hears \"ok\" only once the file is durable under its name.",
    .port = XFER_PORT,
    .cfg_size = sizeof(struct recv_svc),
    .opts = recv_opts,
    .has_dir = true,
    .dir_off = offsetof(struct recv_svc, dir),
    .defaults = recv_defaults,
    .server_defaults = recv_server_defaults,
    .start = recv_start,
    .stop = recv_stop,
    .exit_status = recv_exit_status,
};

int recv_main(int argc, char **argv)
{
    return service_main(&recv_service, argc, argv);
}
