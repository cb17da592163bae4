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

/* Whether recv may listen on addr (sa) with this configuration: a
 * non-loopback address needs a token, or the operator's explicit
 * allow_anonymous. Returns 0, or -EPERM after logging why. */
static int check_exposure(const struct sockaddr *sa, socklen_t len,
                          const struct recv_cfg *cfg, bool allow_anonymous,
                          const char *token_flag, const char *anon_flag,
                          const ibx_log *log)
{
    if (cfg->token || allow_anonymous || xfer_addr_is_local(sa))
        return 0;
    char a[IBX_ADDRSTRLEN];
    ibx_addr_format(sa, len, a, sizeof a);
    ibx_err(log, "refusing to listen on %s without authentication (anyone who can connect "
            "could upload): give %s FILE, or %s", a, token_flag, anon_flag);
    return -EPERM;
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
        unsigned long v;
        if (n - 1 >= sizeof num)
            return -EINVAL;
        memcpy(num, s, n - 1);
        num[n - 1] = '\0';
        if (ibx_cli_uint(num, 0, RECV_MIN_FREE_PCT_MAX, &v) < 0)
            return -EINVAL;
        cfg->min_free_pct = (unsigned)v;
        cfg->min_free = 0;
        return 0;
    }
    uint64_t b;
    if (ibx_cli_size(s, 0, 1ull << 50, &b) < 0)
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

/* ---- serve registration ---------------------------------------------- */

/* recv's state under serve: the configuration and what its flags gave. */
struct recv_service {
    struct recv_cfg cfg;
    struct xfer_token token;
    const char *token_file;
    bool allow_anonymous;
};

static const struct ibx_service_flag recv_flags[] = {
    {"token-file", "FILE", "recv: require the shared token in FILE (send/get "
                           "--token-file)"},
    {"allow-anonymous", NULL, "recv: accept anyone on a non-loopback address "
                              "without a token"},
    {NULL, NULL, NULL},
};

static struct recv_service *recv_service_state(void **state)
{
    if (!*state) {
        struct recv_service *rs = calloc(1, sizeof *rs);
        if (!rs)
            return NULL;
        rs->cfg.rootfd = -1;
        *state = rs;
    }
    return *state;
}

static int recv_set_flag(void **state, int index, const char *arg)
{
    struct recv_service *rs = recv_service_state(state);
    if (!rs) {
        ibx_cli_usage("serve", "out of memory");
        return -1;
    }
    if (index == 0)
        rs->token_file = arg;
    else
        rs->allow_anonymous = true;
    return 0;
}

static void recv_fini(void *p)
{
    struct recv_service *rs = p;
    if (!rs)
        return;
    recv_sweep_free(&rs->cfg);
    recv_shared_unmap(&rs->cfg);
    if (rs->cfg.rootfd >= 0)
        close(rs->cfg.rootfd);
    xfer_token_wipe(&rs->token);
    free(rs);
}

static int recv_init(ibx_server *srv, const char *dir, const char *listen,
                     const ibx_log *log, void **state)
{
    struct recv_service *rs = recv_service_state(state);
    if (!rs)
        return -ENOMEM;
    struct recv_cfg *cfg = &rs->cfg;
    cfg->log = log;
    cfg->srv = srv;
    cfg->idle_ms = RECV_IDLE_MS;
    cfg->handshake_ms = RECV_HANDSHAKE_MS;
    cfg->opts.allow_overwrite = true;
    cfg->opts.umask = xfer_process_umask();
    cfg->part_ttl_s = RECV_PART_TTL_S;
    cfg->opts.max_depth = XFER_DEPTH_DEFAULT;
    cfg->min_free_pct = RECV_MIN_FREE_PCT;
    if (rs->token_file) {
        char err[512];
        if (xfer_token_load(rs->token_file, &rs->token, err, sizeof err) < 0) {
            ibx_err(log, "%s", err);
            return -EPERM;
        }
        cfg->token = &rs->token;
    }
    ibx_addr addr;
    if (ibx_addr_parse(listen, "127.0.0.1", XFER_PORT, &addr) < 0) {
        ibx_err(log, "bad address '%s'", listen);
        return -EINVAL;
    }
    int r = check_exposure((struct sockaddr *)&addr.ss, addr.len, cfg,
                           rs->allow_anonymous, "--recv-token-file",
                           "--recv-allow-anonymous", log);
    if (r < 0)
        return r;
    cfg->rootfd = open_root(dir, log);
    if (cfg->rootfd < 0)
        return -ENOENT;
    r = recv_shared_map(cfg);
    if (r < 0) {
        ibx_err(log, "shared memory: %s", strerror(-r));
        return r;
    }
    r = recv_sweep_add(srv, cfg);
    if (r < 0) {
        ibx_err(log, "part-file sweeper: %s", strerror(-r));
        return r;
    }
    r = ibx_server_listen(srv, &addr, &xfer_recv_proto, cfg);
    if (r < 0)
        ibx_err(log, "cannot listen on %s: %s", listen, strerror(-r));
    else if (cfg->token)
        ibx_info(log, "clients must prove the token of %s", rs->token_file);
    return r;
}

const struct ibx_service_def recv_service = {
    .name = "recv",
    .default_listen = "127.0.0.1:7070",
    .summary = "file transfer: send/get/list",
    .init = recv_init,
    .fini = recv_fini,
    .flags = recv_flags,
    .set_flag = recv_set_flag,
};

/* ---- applet ---------------------------------------------------------- */

static void usage(void)
{
    printf("usage: ipcbox recv [--dir DIR] [--listen ADDR] [options]\n\n"
           "Receive files from 'ipcbox send' into DIR (default .), and answer\n"
           "'ipcbox get' and 'ipcbox get --list' with the files under DIR.\n"
           "Default address 127.0.0.1:%d. Every file lands in a hidden\n"
           "temporary file, is verified against the sender's hash, fsynced and\n"
           "renamed into place; interrupted transfers resume. Names with '..',\n"
           "absolute paths, control characters, or that lead outside DIR\n"
           "through symlinks are refused.\n\n"
           "A file gets the sender's permission bits less the umask recv was\n"
           "started with (never setuid, setgid or sticky), or the --mode given.\n"
           "The commit (fsync, rename, directory fsync) runs off the event loop;\n"
           "the sender hears \"ok\" only once the file is durable under its name.\n\n"
           "  --dir DIR             directory to receive into and serve\n"
           "  --max-size BYTES      refuse files larger than this (suffix k, m, g)\n"
           "  --no-overwrite        never replace a file, even with send --overwrite\n"
           "  --mode OCTAL          give every received file this mode (e.g. 640)\n"
           "  --part-ttl DURATION   remove interrupted uploads' hidden part files\n"
           "                        unused this long, at start and periodically\n"
           "                        (N[s|m|h|d]; default 7d; 0 = keep forever)\n"
           "  --max-depth N         directory levels a received path may have;\n"
           "                        deeper offers are refused, and listings and\n"
           "                        the part-file sweep go this deep (default %d,\n"
           "                        at most %d); a listing that cannot show\n"
           "                        everything ends with an error\n"
           "  --min-free SIZE|N%%    keep this much of the disk free: an offer\n"
           "                        that would not fit (with what uploads in\n"
           "                        progress may still write) is refused before\n"
           "                        a byte is written (default %u%%); a transfer\n"
           "                        that runs out of space removes its part file\n"
           "  --max-conns N         (default %u, fewer if RLIMIT_NOFILE is low)\n"
           "  --idle SECONDS        close connections silent this long (default %u)\n"
           "  --once                exit after the first connection; the exit\n"
           "                        status says how it went (as for send)\n"
           "  --token-file FILE     require clients to prove the shared token in\n"
           "                        FILE (HMAC challenge-response; send and get\n"
           "                        take the same --token-file). One line, at\n"
           "                        least 16 bytes, not readable by others; make\n"
           "                        one: head -c 32 /dev/urandom | base64 > FILE\n"
           "  --allow-anonymous     listen on a non-loopback address without a\n"
           "                        token (refused otherwise: anyone could upload)\n"
           "  --handshake-timeout SECONDS\n"
           "                        close a connection that has not finished\n"
           "                        HELLO and authentication by then (default %u)\n",
           XFER_PORT, XFER_DEPTH_DEFAULT, XFER_DEPTH_MAX, RECV_MIN_FREE_PCT,
           RECV_MAX_CONNS, RECV_IDLE_MS / 1000, RECV_HANDSHAKE_MS / 1000);
    fputs(ibx_cli_server_help, stdout);
}

enum { OPT_DIR = IBX_OPT_APPLET_BASE, OPT_MAX_SIZE, OPT_NO_OVERWRITE,
       OPT_IDLE, OPT_ONCE, OPT_MODE, OPT_PART_TTL, OPT_TOKEN_FILE,
       OPT_ALLOW_ANON, OPT_HANDSHAKE, OPT_MAX_DEPTH, OPT_MIN_FREE };

/* The address recv is about to listen on: the socket-activated one, if
 * any (left in place for ibx_cli_bind), else --listen. Returns 0, or -1
 * after a usage error was printed. */
static int listen_target(const struct ibx_cli *cli, ibx_addr *out)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (pid && fds && atol(pid) == (long)getpid() && atol(fds) >= 1) {
        out->len = sizeof out->ss;
        if (getsockname(3, (struct sockaddr *)&out->ss, &out->len) == 0)
            return 0;
    }
    return ibx_cli_listen_addr(cli, XFER_PORT, out) < 0 ? -1 : 0;
}

int recv_main(int argc, char **argv)
{
    static const struct option opts[] = {
        IBX_CLI_SERVER_OPTIONS,
        {"dir", required_argument, 0, OPT_DIR},
        {"max-size", required_argument, 0, OPT_MAX_SIZE},
        {"no-overwrite", no_argument, 0, OPT_NO_OVERWRITE},
        {"idle", required_argument, 0, OPT_IDLE},
        {"once", no_argument, 0, OPT_ONCE},
        {"mode", required_argument, 0, OPT_MODE},
        {"part-ttl", required_argument, 0, OPT_PART_TTL},
        {"max-depth", required_argument, 0, OPT_MAX_DEPTH},
        {"min-free", required_argument, 0, OPT_MIN_FREE},
        {"token-file", required_argument, 0, OPT_TOKEN_FILE},
        {"allow-anonymous", no_argument, 0, OPT_ALLOW_ANON},
        {"handshake-timeout", required_argument, 0, OPT_HANDSHAKE},
        {0, 0, 0, 0},
    };
    struct ibx_cli cli;
    ibx_cli_init(&cli, "recv");
    struct recv_cfg cfg = {.idle_ms = RECV_IDLE_MS, .log = &cli.log,
                           .opts.allow_overwrite = true,
                           .opts.umask = xfer_process_umask(),
                           .part_ttl_s = RECV_PART_TTL_S,
                           .handshake_ms = RECV_HANDSHAKE_MS,
                           .opts.max_depth = XFER_DEPTH_DEFAULT,
                           .min_free_pct = RECV_MIN_FREE_PCT};
    cli.srv.max_conns = recv_default_max_conns();
    const char *dir = ".", *token_file = NULL;
    bool allow_anonymous = false;
    unsigned long v;
    int c;
    ibx_cli_getopt_reset();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int k = ibx_cli_common(&cli, c, optarg);
        if (k < 0)
            return IBX_EXIT_USAGE;
        if (k > 0)
            continue;
        switch (c) {
        case IBX_OPT_HELP:
            usage();
            return 0;
        case OPT_DIR:
            dir = optarg;
            break;
        case OPT_MAX_SIZE:
            if (ibx_cli_size(optarg, 0, 1ull << 50, &cfg.opts.max_size) < 0)
                return ibx_cli_usage("recv", "--max-size wants bytes (e.g. 100m), not '%s'",
                                     optarg);
            break;
        case OPT_NO_OVERWRITE:
            cfg.opts.allow_overwrite = false;
            break;
        case OPT_IDLE:
            if (ibx_cli_uint(optarg, 1, 86400, &v) < 0)
                return ibx_cli_usage("recv", "--idle wants seconds, not '%s'", optarg);
            cfg.idle_ms = (unsigned)v * 1000;
            break;
        case OPT_ONCE:
            cfg.once = true;
            break;
        case OPT_MODE:
            if (xfer_parse_mode(optarg, &cfg.opts.mode) < 0)
                return ibx_cli_usage("recv", "--mode wants octal permissions up to "
                                     "0777, not '%s'", optarg);
            cfg.opts.force_mode = true;
            break;
        case OPT_MAX_DEPTH:
            if (ibx_cli_uint(optarg, 1, XFER_DEPTH_MAX, &v) < 0)
                return ibx_cli_usage("recv", "--max-depth wants 1..%d, not '%s'",
                                     XFER_DEPTH_MAX, optarg);
            cfg.opts.max_depth = (int)v;
            break;
        case OPT_MIN_FREE:
            if (recv_parse_min_free(optarg, &cfg) < 0)
                return ibx_cli_usage("recv", "--min-free wants a size (e.g. 64m) or "
                                     "a percentage up to %u%%, not '%s'",
                                     RECV_MIN_FREE_PCT_MAX, optarg);
            break;
        case OPT_PART_TTL:
            if (recv_parse_duration(optarg, &cfg.part_ttl_s) < 0)
                return ibx_cli_usage("recv", "--part-ttl wants a duration such as "
                                     "7d, 12h, 30m or 0, not '%s'", optarg);
            break;
        case OPT_TOKEN_FILE:
            token_file = optarg;
            break;
        case OPT_ALLOW_ANON:
            allow_anonymous = true;
            break;
        case OPT_HANDSHAKE:
            if (ibx_cli_uint(optarg, 1, 3600, &v) < 0)
                return ibx_cli_usage("recv", "--handshake-timeout wants seconds, "
                                     "not '%s'", optarg);
            cfg.handshake_ms = (unsigned)v * 1000;
            break;
        default:
            return ibx_cli_bad_option("recv", argv);
        }
    }
    if (optind < argc)
        return ibx_cli_usage("recv", "unexpected argument '%s'", argv[optind]);
    if (cfg.once && cli.srv.model != IBX_MODEL_EPOLL &&
        cli.srv.model != IBX_MODEL_ITERATIVE)
        return ibx_cli_usage("recv", "--once needs --model epoll or iterative");
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return ibx_cli_usage("recv", "'%s' is not a directory", dir);
    static struct xfer_token token;
    if (token_file && xfer_token_load_cli("recv", token_file, &token) < 0)
        return IBX_EXIT_USAGE;
    if (token_file)
        cfg.token = &token;
    ibx_addr where;
    if (listen_target(&cli, &where) < 0)
        return IBX_EXIT_USAGE;
    if (!cfg.token && !allow_anonymous &&
        !xfer_addr_is_local((struct sockaddr *)&where.ss)) {
        char a[IBX_ADDRSTRLEN];
        ibx_addr_format((struct sockaddr *)&where.ss, where.len, a, sizeof a);
        return ibx_cli_usage("recv", "refusing to listen on %s without authentication "
                             "(anyone who can connect could upload): give "
                             "--token-file FILE, or --allow-anonymous", a);
    }
    if (ibx_signals_block() < 0)
        return 1;
    cfg.rootfd = open_root(dir, &cli.log);
    if (cfg.rootfd < 0)
        return 1;
    int r = recv_shared_map(&cfg);
    if (r < 0) {
        ibx_err(&cli.log, "shared memory: %s", strerror(-r));
        close(cfg.rootfd);
        return 1;
    }

    ibx_server *srv;
    if (ibx_server_new(&srv, &cli.srv) < 0) {
        recv_shared_unmap(&cfg);
        close(cfg.rootfd);
        return 1;
    }
    cfg.srv = srv;
    int rc = ibx_cli_bind(&cli, srv, XFER_PORT, &xfer_recv_proto, &cfg);
    if (!rc && recv_sweep_add(srv, &cfg) < 0) {
        ibx_err(&cli.log, "part-file sweeper: out of memory");
        rc = 1;
    }
    bool child = false;
    if (!rc) {
        ibx_info(&cli.log, "serving %s%s%s", dir,
                 cfg.token ? "; clients must prove the token of " : "",
                 cfg.token ? token_file : "");
        rc = ibx_cli_run_server(&cli, srv, &child);
    }
    ibx_server_free(srv);
    recv_sweep_free(&cfg);
    recv_shared_unmap(&cfg);
    close(cfg.rootfd);
    xfer_token_wipe(&token);
    if (!rc && !child && cfg.once)
        rc = cfg.status;
    if (!rc && !child)
        ibx_info(&cli.log, "stopped");
    return rc;
}
