/* recv applet and its registration as a serve service. */
//applet: recv receive files from ipcbox send; serve get and list (framed, verified)
//service: recv
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
        ibx_err(log, "recv: %s: %s", dir, strerror(errno));
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

/* ---- serve registration ---------------------------------------------- */

static void recv_fini(void *p)
{
    struct recv_cfg *cfg = p;
    if (!cfg)
        return;
    recv_sweep_free(cfg);
    if (cfg->rootfd >= 0)
        close(cfg->rootfd);
    free(cfg);
}

static int recv_init(ibx_server *srv, const char *dir, const char *listen,
                     const ibx_log *log, void **state)
{
    struct recv_cfg *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return -ENOMEM;
    *state = cfg;
    cfg->log = log;
    cfg->srv = srv;
    cfg->idle_ms = RECV_IDLE_MS;
    cfg->opts.allow_overwrite = true;
    cfg->opts.umask = xfer_process_umask();
    cfg->part_ttl_s = RECV_PART_TTL_S;
    cfg->opts.max_depth = XFER_DEPTH_DEFAULT;
    cfg->min_free_pct = RECV_MIN_FREE_PCT;
    cfg->rootfd = open_root(dir, log);
    if (cfg->rootfd < 0)
        return -ENOENT;
    int r = recv_sweep_add(srv, cfg);
    if (r < 0) {
        ibx_err(log, "recv: part-file sweeper: %s", strerror(-r));
        return r;
    }
    ibx_addr addr;
    if (ibx_addr_parse(listen, "127.0.0.1", XFER_PORT, &addr) < 0) {
        ibx_err(log, "recv: bad address '%s'", listen);
        return -EINVAL;
    }
    r = ibx_server_listen(srv, &addr, &xfer_recv_proto, cfg);
    if (r < 0)
        ibx_err(log, "recv: cannot listen on %s: %s", listen, strerror(-r));
    return r;
}

const struct ibx_service_def recv_service = {
    .name = "recv",
    .default_listen = "127.0.0.1:7070",
    .summary = "file transfer: send/get/list",
    .init = recv_init,
    .fini = recv_fini,
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
           "                        status says how it went (as for send)\n",
           XFER_PORT, XFER_DEPTH_DEFAULT, XFER_DEPTH_MAX, RECV_MIN_FREE_PCT,
           RECV_MAX_CONNS, RECV_IDLE_MS / 1000);
    fputs(ibx_cli_server_help, stdout);
}

enum { OPT_DIR = IBX_OPT_APPLET_BASE, OPT_MAX_SIZE, OPT_NO_OVERWRITE,
       OPT_IDLE, OPT_ONCE, OPT_MODE, OPT_PART_TTL, OPT_MAX_DEPTH, OPT_MIN_FREE };

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
        {0, 0, 0, 0},
    };
    struct ibx_cli cli;
    ibx_cli_init(&cli, "recv");
    struct recv_cfg cfg = {.idle_ms = RECV_IDLE_MS, .log = &cli.log,
                           .opts.allow_overwrite = true,
                           .opts.umask = xfer_process_umask(),
                           .part_ttl_s = RECV_PART_TTL_S,
                           .opts.max_depth = XFER_DEPTH_DEFAULT,
                           .min_free_pct = RECV_MIN_FREE_PCT};
    cli.srv.max_conns = recv_default_max_conns();
    const char *dir = ".";
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
    if (ibx_signals_block() < 0)
        return 1;
    cfg.rootfd = open_root(dir, &cli.log);
    if (cfg.rootfd < 0)
        return 1;

    ibx_server *srv;
    if (ibx_server_new(&srv, &cli.srv) < 0) {
        close(cfg.rootfd);
        return 1;
    }
    cfg.srv = srv;
    int rc = ibx_cli_bind(&cli, srv, XFER_PORT, &xfer_recv_proto, &cfg);
    if (!rc && recv_sweep_add(srv, &cfg) < 0) {
        ibx_err(&cli.log, "recv: part-file sweeper: out of memory");
        rc = 1;
    }
    bool child = false;
    if (!rc) {
        ibx_info(&cli.log, "recv: serving %s", dir);
        rc = ibx_cli_run_server(&cli, srv, &child);
    }
    ibx_server_free(srv);
    recv_sweep_free(&cfg);
    close(cfg.rootfd);
    if (!rc && !child && cfg.once)
        rc = cfg.status;
    if (!rc && !child)
        ibx_info(&cli.log, "recv: stopped");
    return rc;
}
