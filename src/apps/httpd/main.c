/* ipcbox httpd: the applet, its options, and its registration as a
 * `serve` service. */
//applet: httpd static HTTP/1.1 file server with ranges, listings and CGI
//service: httpd
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "httpd.h"
#include "service.h"

static void cfg_defaults(struct httpd_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->root_fd = -1;
    cfg->listing = true;
    cfg->cgi_timeout_ms = 30000;
    cfg->cgi_max = 64;
    cfg->cgi_stderr_max = 16384;
    cfg->max_body = 16u << 20;
    cfg->header_timeout_ms = 10000;
    cfg->idle_timeout_ms = 15000;
    cfg->send_timeout_ms = 60000;
    cfg->cache_entries = 1024;
    cfg->max_output = HTTPD_MAX_OUTPUT;
    cfg->max_ranges = IBX_HTTP_MAX_RANGES;
    cfg->max_listing = HTTPD_MAX_LISTING;
    cfg->alog.fd = -1;
}

/* Open ROOT, load MIME types and the access log. Returns 0 or -errno
 * after logging why. */
static int cfg_start(struct httpd_cfg *cfg, const char *root, const char *mime,
                     bool alog_on, const char *alog_path, const ibx_log *log)
{
    cfg->root = root;
    cfg->log = log;
    cfg->root_real = realpath(root, NULL);
    cfg->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (!cfg->root_real || cfg->root_fd < 0) {
        int e = errno;
        ibx_err(log, "msg=\"cannot open the root\" root=%s reason=%s", root, strerror(e));
        return -e;
    }
    int sr = cgi_shared_init(cfg);
    if (sr < 0) {
        ibx_err(log, "msg=\"cgi counter\" reason=%s", strerror(-sr));
        return sr;
    }
    sr = hlog_init(cfg);
    if (sr < 0) {
        ibx_err(log, "msg=\"log gates\" reason=%s", strerror(-sr));
        return sr;
    }
    cfg->mime = mime_load(mime);
    if (!cfg->mime)
        return -ENOMEM;
    if (alog_on) {
        int r = alog_open(&cfg->alog, alog_path);
        if (r < 0) {
            ibx_err(log, "msg=\"cannot open the access log\" path=%s reason=%s",
                    alog_path ? alog_path : "stdout", strerror(-r));
            return r;
        }
    }
    return 0;
}

static void cfg_fini(struct httpd_cfg *cfg)
{
    mime_free(cfg->mime);
    cgi_shared_fini(cfg);
    hlog_fini(cfg);
    alog_close(&cfg->alog);
    if (cfg->root_fd >= 0)
        close(cfg->root_fd);
    free(cfg->root_real);
}

static void on_hup(ibx_loop *loop, int signo, void *data)
{
    struct httpd_cfg *cfg = data;
    int r = alog_reopen(&cfg->alog);
    if (r < 0)
        ibx_err(cfg->log, "msg=\"cannot reopen the access log\" path=%s reason=%s",
                cfg->alog.path, strerror(-r));
    else if (cfg->alog.path)
        ibx_info(cfg->log, "msg=\"access log reopened\" path=%s signal=SIGHUP",
                 cfg->alog.path);
}

/* ---- serve registration ------------------------------------------------------ */

static int httpd_init(ibx_server *srv, const char *dir, const char *listen,
                      const ibx_log *log, void **state)
{
    struct httpd_cfg *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return -ENOMEM;
    cfg_defaults(cfg);
    *state = cfg;
    int r = cfg_start(cfg, dir, NULL, true, NULL, log);
    if (r < 0)
        return r;
    ibx_addr addr;
    if (ibx_addr_parse(listen, "127.0.0.1", HTTPD_PORT, &addr) < 0) {
        ibx_err(log, "msg=\"bad address\" listen=%s", listen);
        return -EINVAL;
    }
    r = ibx_server_listen(srv, &addr, &httpd_proto, cfg);
    if (r < 0) {
        ibx_err(log, "msg=\"cannot listen on %s\" reason=%s", listen, strerror(-r));
        return r;
    }
    return ibx_server_on_signal(srv, SIGHUP, on_hup, cfg);
}

static void httpd_fini(void *state)
{
    if (!state)
        return;
    cfg_fini(state);
    free(state);
}

const struct ibx_service_def httpd_service = {
    .name = "httpd",
    .default_listen = "127.0.0.1:8080",
    .summary = "static HTTP/1.1 files, ranges, listings",
    .init = httpd_init,
    .fini = httpd_fini,
};

/* ---- applet ---------------------------------------------------------------- */

static void usage(void)
{
    printf("usage: ipcbox httpd [options] [ROOT]\n\n"
           "Static HTTP/1.1 server for ROOT (default: the current directory),\n"
           "on 127.0.0.1:%d unless --listen says otherwise.\n\n"
           "  --no-listing          403 instead of a directory listing\n"
           "  --show-hidden         serve and list hidden files (a path component\n"
           "                        starting with '.'; without it they are 404,\n"
           "                        except /.well-known/); uploads in progress\n"
           "                        (.NAME.ibxpart, .tftp-upload.*) never are\n"
           "  --follow-symlinks     follow symlinks that leave ROOT\n"
           "  --cgi PREFIX          run files under PREFIX (e.g. /cgi-bin/) as CGI\n"
           "  --cgi-timeout SEC     kill a CGI script after SEC seconds (default 30)\n"
           "  --cgi-max N           CGI requests at once (a script running or a\n"
           "                        chunked body being collected), all workers\n"
           "                        together; beyond it 503 (default 64)\n"
           "  --cgi-stderr-max BYTES  script stderr logged per request, one\n"
           "                        escaped line per line (default 16384; 0: none)\n"
           "  --max-body BYTES      largest CGI request body (default 16 MiB)\n"
           "  --access-log FILE     combined-format log to FILE ('off' for none;\n"
           "                        default stdout; SIGHUP reopens FILE)\n"
           "  --header-timeout SEC  whole request head deadline (default 10)\n"
           "  --idle-timeout SEC    keep-alive idle timeout (default 15)\n"
           "  --cache N             open-file cache entries per worker (default 1024)\n"
           "  --cache-fds N         descriptors of large files all caches keep open\n"
           "                        (default and most: half the descriptor limit\n"
           "                        less 16; small files are kept in memory)\n"
           "  --max-output BYTES    unsent response bytes per connection at which\n"
           "                        pipelined requests wait for the client to read\n"
           "                        (default 256 KiB)\n"
           "  --max-ranges N        ranges per request, 1..16 (default 16); more, or\n"
           "                        ranges adding up to more than the file, get 200\n"
           "  --max-listing N       directory entries read per listing (default 10000;\n"
           "                        beyond, the listing is truncated)\n"
           "  --sendfile            send large files with sendfile() instead of\n"
           "                        pread+send (better with NIC offloads; slower\n"
           "                        on loopback and in most VMs)\n"
           "  --mime-types FILE     MIME table (default /etc/mime.types)\n",
           HTTPD_PORT);
    fputs(ibx_cli_server_help, stdout);
    printf("--quiet also turns the access log off unless --access-log is given.\n");
}

enum {
    OPT_NO_LISTING = IBX_OPT_APPLET_BASE, OPT_SHOW_HIDDEN, OPT_FOLLOW, OPT_CGI,
    OPT_CGI_TIMEOUT, OPT_MAX_BODY, OPT_ACCESS_LOG, OPT_HEADER_TIMEOUT,
    OPT_IDLE_TIMEOUT, OPT_CACHE, OPT_MIME, OPT_SENDFILE, OPT_CGI_MAX,
    OPT_CGI_STDERR_MAX, OPT_CACHE_FDS, OPT_MAX_OUTPUT, OPT_MAX_RANGES,
    OPT_MAX_LISTING,
};

static int seconds(const char *opt, const char *arg, unsigned *ms)
{
    unsigned long v;
    if (ibx_cli_uint(arg, 1, 86400, &v) < 0)
        return ibx_cli_usage("httpd", "%s wants seconds (1..86400), not '%s'", opt, arg);
    *ms = (unsigned)v * 1000;
    return 0;
}

int httpd_main(int argc, char **argv)
{
    static const struct option opts[] = {
        IBX_CLI_SERVER_OPTIONS,
        {"no-listing", no_argument, 0, OPT_NO_LISTING},
        {"show-hidden", no_argument, 0, OPT_SHOW_HIDDEN},
        {"follow-symlinks", no_argument, 0, OPT_FOLLOW},
        {"cgi", required_argument, 0, OPT_CGI},
        {"cgi-timeout", required_argument, 0, OPT_CGI_TIMEOUT},
        {"cgi-max", required_argument, 0, OPT_CGI_MAX},
        {"cgi-stderr-max", required_argument, 0, OPT_CGI_STDERR_MAX},
        {"max-body", required_argument, 0, OPT_MAX_BODY},
        {"access-log", required_argument, 0, OPT_ACCESS_LOG},
        {"header-timeout", required_argument, 0, OPT_HEADER_TIMEOUT},
        {"idle-timeout", required_argument, 0, OPT_IDLE_TIMEOUT},
        {"cache", required_argument, 0, OPT_CACHE},
        {"cache-fds", required_argument, 0, OPT_CACHE_FDS},
        {"mime-types", required_argument, 0, OPT_MIME},
        {"sendfile", no_argument, 0, OPT_SENDFILE},
        {"max-output", required_argument, 0, OPT_MAX_OUTPUT},
        {"max-ranges", required_argument, 0, OPT_MAX_RANGES},
        {"max-listing", required_argument, 0, OPT_MAX_LISTING},
        {0, 0, 0, 0},
    };
    struct ibx_cli cli;
    ibx_cli_init(&cli, "httpd");
    struct httpd_cfg cfg;
    cfg_defaults(&cfg);
    const char *alog_path = NULL, *mime = NULL;
    bool alog_set = false, alog_on = true;
    unsigned long v;
    int c, rc = 0;
    ibx_cli_getopt_reset();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int k = ibx_cli_common(&cli, c, optarg);
        if (k < 0) {
            rc = IBX_EXIT_USAGE;
            goto out;
        }
        if (k > 0)
            continue;
        switch (c) {
        case IBX_OPT_HELP:
            usage();
            goto out;
        case OPT_NO_LISTING: cfg.listing = false; break;
        case OPT_SHOW_HIDDEN: cfg.show_hidden = true; break;
        case OPT_FOLLOW: cfg.follow_symlinks = true; break;
        case OPT_SENDFILE: cfg.sendfile = true; break;
        case OPT_CGI:
            if (optarg[0] != '/') {
                rc = ibx_cli_usage("httpd", "--cgi wants a URL prefix like /cgi-bin/, not '%s'", optarg);
                goto out;
            }
            cfg.cgi_prefix = optarg;
            cfg.cgi_prefix_len = strlen(optarg);
            break;
        case OPT_CGI_TIMEOUT:
            if ((rc = seconds("--cgi-timeout", optarg, &cfg.cgi_timeout_ms)))
                goto out;
            break;
        case OPT_HEADER_TIMEOUT:
            if ((rc = seconds("--header-timeout", optarg, &cfg.header_timeout_ms)))
                goto out;
            break;
        case OPT_IDLE_TIMEOUT:
            if ((rc = seconds("--idle-timeout", optarg, &cfg.idle_timeout_ms)))
                goto out;
            break;
        case OPT_MAX_BODY:
            if (ibx_cli_uint(optarg, 0, 1ul << 40, &v) < 0) {
                rc = ibx_cli_usage("httpd", "--max-body wants bytes, not '%s'", optarg);
                goto out;
            }
            cfg.max_body = v;
            break;
        case OPT_CGI_MAX:
            if (ibx_cli_uint(optarg, 1, 100000, &v) < 0) {
                rc = ibx_cli_usage("httpd", "--cgi-max wants 1..100000, not '%s'", optarg);
                goto out;
            }
            cfg.cgi_max = (unsigned)v;
            break;
        case OPT_CGI_STDERR_MAX:
            if (ibx_cli_uint(optarg, 0, 1ul << 30, &v) < 0) {
                rc = ibx_cli_usage("httpd", "--cgi-stderr-max wants bytes, not '%s'", optarg);
                goto out;
            }
            cfg.cgi_stderr_max = v;
            break;
        case OPT_CACHE:
            if (ibx_cli_uint(optarg, 1, 1000000, &v) < 0) {
                rc = ibx_cli_usage("httpd", "--cache wants 1..1000000, not '%s'", optarg);
                goto out;
            }
            cfg.cache_entries = v;
            break;
        case OPT_CACHE_FDS:
            if (ibx_cli_uint(optarg, 4, 1u << 20, &v) < 0) {
                rc = ibx_cli_usage("httpd", "--cache-fds wants 4..1048576, not '%s'", optarg);
                goto out;
            }
            cfg.cache_fds = v;
            break;
        case OPT_MAX_OUTPUT:
            if (ibx_cli_uint(optarg, 1024, 1ul << 30, &v) < 0) {
                rc = ibx_cli_usage("httpd", "--max-output wants bytes (1024..1 GiB), not '%s'", optarg);
                goto out;
            }
            cfg.max_output = v;
            break;
        case OPT_MAX_RANGES:
            if (ibx_cli_uint(optarg, 1, IBX_HTTP_MAX_RANGES, &v) < 0) {
                rc = ibx_cli_usage("httpd", "--max-ranges wants 1..%d, not '%s'",
                                   IBX_HTTP_MAX_RANGES, optarg);
                goto out;
            }
            cfg.max_ranges = (unsigned)v;
            break;
        case OPT_MAX_LISTING:
            if (ibx_cli_uint(optarg, 1, 1000000, &v) < 0) {
                rc = ibx_cli_usage("httpd", "--max-listing wants 1..1000000, not '%s'", optarg);
                goto out;
            }
            cfg.max_listing = (unsigned)v;
            break;
        case OPT_ACCESS_LOG:
            alog_set = true;
            alog_on = strcmp(optarg, "off") != 0;
            alog_path = strcmp(optarg, "-") == 0 ? NULL : optarg;
            break;
        case OPT_MIME:
            mime = optarg;
            break;
        default:
            rc = ibx_cli_bad_option("httpd", argv);
            goto out;
        }
    }
    const char *root = ".";
    if (optind < argc)
        root = argv[optind++];
    if (optind < argc) {
        rc = ibx_cli_usage("httpd", "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (cli.log.level == IBX_LOG_ERROR && !alog_set)
        alog_on = false;
    cfg.per_conn_worker = cli.srv.model == IBX_MODEL_THREAD ||
                          cli.srv.model == IBX_MODEL_FORK;
    if (ibx_signals_block() < 0 || cfg_start(&cfg, root, mime, alog_on, alog_path,
                                             &cli.log) < 0) {
        rc = 1;
        goto out;
    }
    ibx_server *srv;
    if (ibx_server_new(&srv, &cli.srv) < 0) {
        rc = 1;
        goto out;
    }
    rc = ibx_cli_bind(&cli, srv, HTTPD_PORT, &httpd_proto, &cfg);
    if (!rc && ibx_server_on_signal(srv, SIGHUP, on_hup, &cfg) < 0)
        rc = 1;
    bool child = false;
    if (!rc) {
        ibx_info(&cli.log, "msg=serving root=%s", cfg.root_real);
        rc = ibx_cli_run_server(&cli, srv, &child);
    }
    ibx_server_free(srv);
    if (!rc && !child)
        ibx_info(&cli.log, "msg=stopped");
out:
    cfg_fini(&cfg);
    return rc;
}
