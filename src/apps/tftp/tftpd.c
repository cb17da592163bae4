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

/* ---- serve registration ------------------------------------------------- */

static int tftpd_init(ibx_server *srv, const char *dir, const char *listen,
                      const ibx_log *log, void **state)
{
    struct tftpd_cfg *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return -ENOMEM;
    tftpd_cfg_init(cfg);
    cfg->busy_poll = false;   /* the loop is shared with other services */
    *state = cfg;
    if (ibx_addr_parse(listen, "127.0.0.1", TFTPD_PORT, &cfg->listen) < 0) {
        ibx_err(log, "bad address '%s'", listen);
        return -EINVAL;
    }
    int r = tftpd_prepare(cfg, dir, log);
    if (!r)
        r = ibx_server_add_unit(srv, tftpd_unit_start, cfg);
    return r;
}

static void tftpd_fini(void *state)
{
    if (!state)
        return;
    tftpd_cfg_fini(state);
    free(state);
}

const struct ibx_service_def tftpd_service = {
    .name = "tftpd",
    .default_listen = "127.0.0.1:6969",
    .summary = "TFTP server, read-only (RFC 1350, 2347-2349, 7440)",
    .init = tftpd_init,
    .fini = tftpd_fini,
};

/* ---- applet ------------------------------------------------------------- */

static void usage(void)
{
    printf("usage: ipcbox tftpd [options] [ROOT]\n\n"
           "TFTP server for the files below ROOT (default: the current\n"
           "directory) on 127.0.0.1:%d. Read-only unless --create or\n"
           "--allow-overwrite; names never resolve outside ROOT.\n\n"
           "  --listen ADDR         HOST:PORT, [V6]:PORT or PORT ([::] is every\n"
           "                        address, dual-stack)\n"
           "  --create              uploads may create new files\n"
           "  --allow-overwrite     uploads may replace existing files\n"
           "  --port-range LO:HI    local ports for transfers (default: any)\n"
           "  --single-port         answer every transfer from the listening\n"
           "                        port (for NAT and containers)\n"
           "  --user NAME           drop privileges to NAME after binding (root)\n"
           "  --max-blksize N       largest blksize granted (8..65464, default 65464)\n"
           "  --max-windowsize N    largest windowsize granted (1..65535, default 256)\n"
           "  --timeout S           retransmit ceiling when a client asks none\n"
           "                        (1..255, default 1)\n"
           "  --giveup S            abandon a silent transfer after S seconds\n"
           "                        (default 10)\n"
           "  --max-size SIZE       largest upload, e.g. 10m (default: unlimited)\n"
           "  --max-transfers N     concurrent transfers (default 256, fewer if\n"
           "                        the descriptor limit is low: (nofile-64)/3)\n"
           "  --max-per-peer N      concurrent transfers of one peer address\n"
           "                        (default 16). At either cap the oldest transfer\n"
           "                        whose peer never acknowledged data makes room,\n"
           "                        else the request gets ERROR \"server busy\"\n"
           "  --no-busy-poll        never spin for the next packet (by default a\n"
           "                        lone fast transfer polls up to 20 ms per wake-up)\n"
           "  --grace SECONDS       on SIGINT/SIGTERM let transfers finish this\n"
           "                        long (default 10)\n"
           "  --daemon              detach; logs go to /dev/null\n"
           "  --pidfile FILE        write the pid to FILE\n",
           TFTPD_PORT);
    fputs(ibx_cli_basic_help, stdout);
    printf("Each transfer logs one line: direction, peer, file, mode, bytes,\n"
           "blksize, windowsize, time, rate, retransmits and result.\n\n"
           "A peer that has not acknowledged any DATA yet (its request may be\n"
           "forged) gets at most 3x the bytes it sent beyond the first block.\n"
           "At start-up, upload temporaries (.tftp-upload.*) below ROOT that no\n"
           "running server holds locked (left by a crash) are removed.\n");
}

/* Drop root for user (its primary group and supplementary groups). */
static int drop_privileges(const char *user, const ibx_log *log)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        ibx_err(log, "no such user '%s'", user);
        return -ENOENT;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
        setuid(pw->pw_uid) < 0) {
        ibx_err(log, "cannot become %s: %s", user, strerror(errno));
        return -errno;
    }
    if (setuid(0) == 0) {
        ibx_err(log, "could regain root after dropping to %s", user);
        return -EPERM;
    }
    ibx_info(log, "running as %s (uid %u)", user, (unsigned)pw->pw_uid);
    return 0;
}

enum {
    OPT_CREATE = IBX_OPT_APPLET_BASE, OPT_OVERWRITE, OPT_RANGE, OPT_SINGLE,
    OPT_USER, OPT_BLKSIZE, OPT_WINDOW, OPT_TIMEOUT, OPT_GIVEUP, OPT_MAXSIZE,
    OPT_MAXXFER, OPT_NOSPIN, OPT_PERPEER,
};

static int parse_range(const char *s, struct tftpd_cfg *cfg)
{
    unsigned lo, hi;
    char end;
    if (sscanf(s, "%u:%u%c", &lo, &hi, &end) != 2 || lo < 1 || hi > 65535 || lo > hi)
        return -EINVAL;
    cfg->port_lo = (uint16_t)lo;
    cfg->port_hi = (uint16_t)hi;
    return 0;
}

static int parse_opt(struct tftpd_cfg *cfg, int o, const char *arg,
                     const char **user)
{
    unsigned long v;
    switch (o) {
    case OPT_CREATE:
        cfg->create = true;
        return 0;
    case OPT_OVERWRITE:
        cfg->overwrite = true;
        return 0;
    case OPT_SINGLE:
        cfg->single_port = true;
        return 0;
    case OPT_USER:
        *user = arg;
        return 0;
    case OPT_RANGE:
        if (parse_range(arg, cfg) < 0)
            return ibx_cli_usage("tftpd", "--port-range wants LO:HI (1..65535), not '%s'", arg);
        return 0;
    case OPT_BLKSIZE:
        if (ibx_cli_uint(arg, IBX_TFTP_BLKSIZE_MIN, IBX_TFTP_BLKSIZE_MAX, &v) < 0)
            return ibx_cli_usage("tftpd", "--max-blksize wants 8..65464, not '%s'", arg);
        cfg->max_blksize = (uint32_t)v;
        return 0;
    case OPT_WINDOW:
        if (ibx_cli_uint(arg, 1, IBX_TFTP_WINDOW_MAX, &v) < 0)
            return ibx_cli_usage("tftpd", "--max-windowsize wants 1..65535, not '%s'", arg);
        cfg->max_window = (uint32_t)v;
        return 0;
    case OPT_TIMEOUT:
        if (ibx_cli_uint(arg, 1, 255, &v) < 0)
            return ibx_cli_usage("tftpd", "--timeout wants 1..255 seconds, not '%s'", arg);
        cfg->timeout_ms = (uint32_t)v * 1000;
        return 0;
    case OPT_GIVEUP:
        if (ibx_cli_uint(arg, 1, 3600, &v) < 0)
            return ibx_cli_usage("tftpd", "--giveup wants 1..3600 seconds, not '%s'", arg);
        cfg->giveup_ms = (uint32_t)v * 1000;
        return 0;
    case OPT_MAXSIZE:
        if (ibx_cli_size(arg, 1, UINT64_MAX, &cfg->max_size) < 0)
            return ibx_cli_usage("tftpd", "--max-size wants a byte count (512k, 10m, 1g), not '%s'", arg);
        return 0;
    case OPT_MAXXFER:
        if (ibx_cli_uint(arg, 1, 1000000, &v) < 0)
            return ibx_cli_usage("tftpd", "--max-transfers wants a positive count, not '%s'", arg);
        cfg->max_transfers = (unsigned)v;
        return 0;
    case OPT_PERPEER:
        if (ibx_cli_uint(arg, 1, 1000000, &v) < 0)
            return ibx_cli_usage("tftpd", "--max-per-peer wants a positive count, not '%s'", arg);
        cfg->max_per_peer = (unsigned)v;
        return 0;
    case OPT_NOSPIN:
        cfg->busy_poll = false;
        return 0;
    default:
        return -1;
    }
}

int tftpd_main(int argc, char **argv)
{
    static const struct option opts[] = {
        IBX_CLI_BASIC_OPTIONS,
        {"listen", required_argument, 0, IBX_OPT_LISTEN},
        {"grace", required_argument, 0, IBX_OPT_GRACE},
        {"daemon", no_argument, 0, IBX_OPT_DAEMON},
        {"pidfile", required_argument, 0, IBX_OPT_PIDFILE},
        {"create", no_argument, 0, OPT_CREATE},
        {"allow-overwrite", no_argument, 0, OPT_OVERWRITE},
        {"port-range", required_argument, 0, OPT_RANGE},
        {"single-port", no_argument, 0, OPT_SINGLE},
        {"user", required_argument, 0, OPT_USER},
        {"max-blksize", required_argument, 0, OPT_BLKSIZE},
        {"max-windowsize", required_argument, 0, OPT_WINDOW},
        {"timeout", required_argument, 0, OPT_TIMEOUT},
        {"giveup", required_argument, 0, OPT_GIVEUP},
        {"max-size", required_argument, 0, OPT_MAXSIZE},
        {"max-transfers", required_argument, 0, OPT_MAXXFER},
        {"max-per-peer", required_argument, 0, OPT_PERPEER},
        {"no-busy-poll", no_argument, 0, OPT_NOSPIN},
        {0, 0, 0, 0},
    };
    struct ibx_cli cli;
    struct tftpd_cfg cfg;
    const char *user = NULL;
    ibx_cli_init(&cli, "tftpd");
    tftpd_cfg_init(&cfg);
    int c;
    ibx_cli_getopt_reset();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int k = ibx_cli_common(&cli, c, optarg);
        if (k < 0)
            return IBX_EXIT_USAGE;
        if (k > 0)
            continue;
        if (c == IBX_OPT_HELP) {
            usage();
            return 0;
        }
        k = parse_opt(&cfg, c, optarg, &user);
        if (k > 0)
            return k;
        if (k < 0)
            return ibx_cli_bad_option("tftpd", argv);
    }
    const char *root = ".";
    if (optind < argc)
        root = argv[optind++];
    if (optind < argc)
        return ibx_cli_usage("tftpd", "unexpected argument '%s'", argv[optind]);
    struct stat st;
    if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
        return ibx_cli_usage("tftpd", "'%s' is not a directory", root);
    if (ibx_cli_listen_addr(&cli, TFTPD_PORT, &cfg.listen) < 0)
        return IBX_EXIT_USAGE;
    if (ibx_signals_block() < 0)
        return 1;

    ibx_server *srv = NULL;
    int rc = 1;
    if (tftpd_prepare(&cfg, root, &cli.log) < 0 || ibx_server_new(&srv, &cli.srv) < 0 ||
        ibx_server_add_unit(srv, tftpd_unit_start, &cfg) < 0)
        goto out;
    if (user && geteuid() == 0) {
        if (drop_privileges(user, &cli.log) < 0)
            goto out;
    } else if (user) {
        ibx_warn(&cli.log, "not running as root; --user %s ignored", user);
    }
    bool child = false;
    rc = ibx_cli_run_server(&cli, srv, &child);
    if (!rc && !child)
        ibx_info(&cli.log, "stopped");
out:
    ibx_server_free(srv);
    tftpd_cfg_fini(&cfg);
    return rc;
}
