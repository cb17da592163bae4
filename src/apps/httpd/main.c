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
    if (mime && access(mime, R_OK) < 0) {
        /* only the default table may be missing quietly */
        int e = errno;
        ibx_err(log, "msg=\"cannot read the MIME table\" path=%s reason=%s", mime,
                strerror(e));
        return -EINVAL;
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

/* ---- the service ------------------------------------------------------------ */

/* httpd's options (the configuration httpd_cfg plus what start opens). */
struct httpd_svc {
    struct httpd_cfg cfg;
    char cgi_norm[HTTPD_PATH_MAX];   /* --cgi PREFIX, normalized */
    const char *dir;
    const char *mime_path;
    const char *access_log;  /* NULL: stdout unless --quiet; "off"; "-" */
};

static int set_cgi(void *p, const char *text, char *err, size_t errlen)
{
    struct httpd_svc *h = p;
    /* compared with normalized request paths: normalized the same way
     * ("/cgi-bin//" or "/x/../cgi-bin/" would otherwise match nothing,
     * and the scripts would be served as files) */
    size_t n = strlen(text);
    if (text[0] != '/' || memchr(text, '?', n) || memchr(text, '#', n) ||
        ibx_http_path_normalize(text, n, h->cgi_norm, sizeof h->cgi_norm, NULL) < 0) {
        snprintf(err, errlen, "wants a URL prefix like /cgi-bin/");
        return -1;
    }
    h->cfg.cgi_prefix = h->cgi_norm;
    h->cfg.cgi_prefix_len = strlen(h->cgi_norm);
    return 0;
}

#define H struct httpd_svc
static const struct opt httpd_opts[] = {
    OPT_S(H, dir, "dir", "ROOT", "directory served (the ROOT argument; default: "
          "the current directory)"),
    OPT_NOT(H, cfg.listing, "no-listing", "403 instead of a directory listing"),
    OPT_B(H, cfg.show_hidden, "show-hidden",
          "serve and list hidden files (a path component starting with '.'; "
          "without it they are 404, except /.well-known/); uploads in progress "
          "(.NAME.ibxpart, .tftp-upload.*) never are"),
    OPT_B(H, cfg.follow_symlinks, "follow-symlinks", "follow symlinks that leave ROOT"),
    OPT_C(H, cfg.cgi_prefix, "cgi", "PREFIX", NULL, set_cgi,
          "run files under PREFIX (e.g. /cgi-bin/) as CGI scripts"),
    OPT_SEC(H, cfg.cgi_timeout_ms, "cgi-timeout", "30", 1, 86400,
            "kill a CGI script after this long"),
    OPT_U(H, cfg.cgi_max, "cgi-max", "N", "64", 1, 100000,
          "CGI requests at once (a script running or a chunked body being "
          "collected), all workers together; beyond it 503"),
    OPT_Z(H, cfg.cgi_stderr_max, "cgi-stderr-max", "16k", 0, 1u << 30,
          "script stderr logged per request, one escaped line per line (0: none)"),
    OPT_Z(H, cfg.max_body, "max-body", "16m", 0, (uint64_t)1 << 40,
          "largest CGI request body"),
    OPT_S(H, access_log, "access-log", "FILE",
          "combined-format log (plus the request duration) to FILE ('off' for "
          "none, '-' for stdout; default stdout, off with --quiet or --daemon; "
          "SIGHUP reopens FILE)"),
    OPT_SEC(H, cfg.header_timeout_ms, "header-timeout", "10", 1, 86400,
            "whole request head deadline"),
    OPT_SEC(H, cfg.idle_timeout_ms, "idle-timeout", "15", 1, 86400,
            "keep-alive idle timeout"),
    OPT_U(H, cfg.cache_entries, "cache", "N", "1024", 1, 1000000,
          "open-file cache entries per worker"),
    OPT_U(H, cfg.cache_fds, "cache-fds", "N", NULL, 4, 1u << 20,
          "descriptors of large files all caches keep open (default and most: "
          "half the descriptor limit less 16; small files are kept in memory)"),
    OPT_Z(H, cfg.max_output, "max-output", "256k", 1024, 1u << 30,
          "unsent response bytes per connection at which pipelined requests "
          "wait for the client to read"),
    OPT_U(H, cfg.max_ranges, "max-ranges", "N", "16", 1, IBX_HTTP_MAX_RANGES,
          "ranges per request; more, or ranges adding up to more than the "
          "file, get 200"),
    OPT_U(H, cfg.max_listing, "max-listing", "N", "10000", 1, 1000000,
          "directory entries read per listing (beyond, it is truncated)"),
    OPT_B(H, cfg.sendfile, "sendfile",
          "send large files with sendfile() instead of pread+send (better with "
          "NIC offloads; slower on loopback and in most VMs)"),
    OPT_S(H, mime_path, "mime-types", "FILE", "MIME table (default /etc/mime.types)"),
    OPT_TABLE_END,
};
#undef H

static void httpd_defaults(void *p)
{
    struct httpd_svc *h = p;
    h->cfg.root_fd = -1;
    h->cfg.listing = true;
    h->cfg.send_timeout_ms = 60000;
    h->cfg.alog.fd = -1;
}

static int httpd_start(void *p, const struct svc_env *env)
{
    struct httpd_svc *h = p;
    struct httpd_cfg *cfg = &h->cfg;
    const char *al = h->access_log;
    /* stdout by default, but not with --quiet, nor under --daemon (where
     * stdout is /dev/null): there only --access-log FILE keeps one */
    bool alog_on = al ? strcmp(al, "off") != 0 : !env->quiet && !env->daemon;
    if (!al && env->daemon)
        ibx_info(env->log, "msg=\"no access log under --daemon without --access-log FILE\"");
    const char *alog_path = al && strcmp(al, "-") != 0 ? al : NULL;
    cfg->per_conn_worker = ibx_model_traits(env->server->model) & IBX_MODEL_PER_CONN;
    /* what the configuration names first: no "listening on" line for a
     * server that then cannot start */
    int r = cfg_start(cfg, h->dir, h->mime_path, alog_on, alog_path, env->log);
    if (r < 0)
        return r == -ENOENT || r == -ENOTDIR ? -EINVAL : r == -EADDRINUSE ? -EBUSY : r;
    r = svc_listen_tcp(&httpd_service, env, &httpd_proto, cfg);
    if (r < 0)
        return r;
    r = ibx_server_on_signal(env->srv, SIGHUP, on_hup, cfg);
    if (r < 0)
        return -EBUSY;
    ibx_info(env->log, "msg=\"serving %s\" root=%s", cfg->root_real, cfg->root_real);
    return 0;
}

static void httpd_stop(void *p)
{
    cfg_fini(&((struct httpd_svc *)p)->cfg);
}

const struct service httpd_service = {
    .name = "httpd",
    .summary = "static HTTP/1.1 files, ranges, listings, CGI",
    .synopsis = "[options] [ROOT]",
    .about = "Static HTTP/1.1 server for ROOT (default: the current directory), "
             "on 127.0.0.1:8080 unless --listen says otherwise.",
    .port = HTTPD_PORT,
    .cfg_size = sizeof(struct httpd_svc),
    .opts = httpd_opts,
    .has_dir = true,
    .dir_off = offsetof(struct httpd_svc, dir),
    .defaults = httpd_defaults,
    .start = httpd_start,
    .stop = httpd_stop,
};

int httpd_main(int argc, char **argv)
{
    return service_main(&httpd_service, argc, argv);
}
