/* Services written once: configuration, listening addresses, and the
 * standalone applet's main (see service.h). */
#include "service.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "logsink.h"

const struct opt svc_where_opts[] = {
    OPT_L(struct svc_where, listen, "listen", "ADDR",
          "HOST:PORT, [V6]:PORT or PORT; a host name listens on each of its "
          "addresses; repeat for more listeners (default host 127.0.0.1; "
          "[::] is every address)"),
    OPT_TABLE_END,
};

const struct opt svc_where_serve_opts[] = {
    OPT_L(struct svc_where, listen, "listen", "ADDR",
          "where it listens (repeatable; as --listen of the applet)"),
    OPT_B(struct svc_where, enabled, "enabled",
          "start it (a file key: enabled = no turns it off)"),
    OPT_TABLE_END,
};

void *service_cfg_new(const struct service *s)
{
    void *cfg = calloc(1, s->cfg_size);
    if (!cfg)
        return NULL;
    if (s->defaults)
        s->defaults(cfg);
    if (opt_defaults(s->opts, cfg) < 0) {
        free(cfg);
        return NULL;
    }
    return cfg;
}

void service_cfg_free(const struct service *s, void *cfg)
{
    if (!cfg)
        return;
    if (s->stop)
        s->stop(cfg);
    free(cfg);
}

/* Resolve one HOST:PORT whose host is a name. Returns the count added, or
 * -errno after logging. */
static int resolve_name(const struct service *s, const struct svc_env *env,
                        const char *text, int socktype, ibx_addr *out, size_t max)
{
    const char *colon = strrchr(text, ':');
    char host[256], port[16];
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof host ||
        strlen(colon + 1) >= sizeof port || !colon[1] || memchr(text, ':', (size_t)(colon - text))) {
        ibx_err(env->log, "msg=\"bad address (HOST:PORT, [V6]:PORT or PORT)\" flag=%s "
                "addr=%s", env->listen_flag, text);
        return -EINVAL;
    }
    snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
    snprintf(port, sizeof port, "%s", colon + 1);
    uint64_t pn;
    if (opt_parse_uint(port, 0, 65535, &pn) < 0) {
        ibx_err(env->log, "msg=\"bad port\" flag=%s addr=%s", env->listen_flag, text);
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_socktype = socktype, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g) {
        ibx_err(env->log, "msg=\"cannot resolve %s\" host=%s flag=%s reason=\"%s\"", host,
                host, env->listen_flag, gai_strerror(g));
        return -EHOSTUNREACH;
    }
    size_t n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof out[0].ss)
            continue;
        bool dup = false;
        for (size_t i = 0; i < n; i++)
            dup |= out[i].len == ai->ai_addrlen &&
                   !memcmp(&out[i].ss, ai->ai_addr, ai->ai_addrlen);
        if (dup)
            continue;
        if (n == max) {
            freeaddrinfo(res);
            return -ENOSPC;
        }
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    if (!n) {
        ibx_err(env->log, "msg=\"no IPv4 or IPv6 address\" host=%s flag=%s", host,
                env->listen_flag);
        return -EHOSTUNREACH;
    }
    return (int)n;
}

int svc_addrs(const struct service *s, const struct svc_env *env, int socktype,
              ibx_addr *out, size_t max)
{
    const char *host = env->host ? env->host : "127.0.0.1";
    char def[300];
    const char *one[1];
    const char *const *texts = env->listen ? env->listen->v : NULL;
    size_t ntexts = env->listen ? env->listen->n : 0;
    if (!ntexts) {
        if (strchr(host, ':'))
            snprintf(def, sizeof def, "[%s]:%u", host, s->port);
        else
            snprintf(def, sizeof def, "%s:%u", host, s->port);
        one[0] = def;
        texts = one;
        ntexts = 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < ntexts; i++) {
        if (n == max)
            goto full;
        size_t k = 1;
        if (ibx_addr_parse(texts[i], host, s->port, &out[n]) < 0) {
            int r = resolve_name(s, env, texts[i], socktype, out + n, max - n);
            if (r == -ENOSPC)
                goto full;
            if (r < 0)
                return r;
            k = (size_t)r;
        }
        /* the same address twice (--listen localhost:X --listen
         * 127.0.0.1:X) is one listener, not a clash with ourselves */
        size_t from = n, to = n + k;
        for (size_t j = from; j < to; j++) {
            bool dup = false;
            for (size_t m = 0; m < n && !dup; m++)
                dup = out[m].len == out[j].len && !memcmp(&out[m].ss, &out[j].ss, out[j].len);
            if (!dup)
                out[n++] = out[j];
        }
    }
    return (int)n;
full:
    ibx_err(env->log, "msg=\"too many addresses (at most %d)\" flag=%s", SVC_ADDRS_MAX,
            env->listen_flag);
    return -EINVAL;
}

size_t svc_fds(const struct svc_env *env, int socktype, int *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < env->nfds && n < max; i++) {
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(env->fds[i], SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
            type != socktype)
            continue;
        if (socktype == SOCK_STREAM && !ibx_sock_is_listener(env->fds[i]))
            continue;
        out[n++] = env->fds[i];
    }
    return n;
}

size_t svc_listener_count(const struct svc_env *env)
{
    size_t n = 0;
    ibx_addr a;
    while (ibx_server_listener_addr(env->srv, n, &a) == 0)
        n++;
    return n;
}

int svc_model_check(const struct service *s, const struct svc_env *env,
                    const struct ibx_proto *proto)
{
    const ibx_model *model = env->server->model;
    if (!ibx_model_runs(model, proto)) {
        /* a protocol offers a state machine, a coroutine handler or both */
        bool co = ibx_model_traits(model) & IBX_MODEL_COROUTINES;
        ibx_log_write(env->log, env->shared_loop ? IBX_LOG_WARN : IBX_LOG_ERROR,
                      "msg=\"%s cannot run under the %s model: %s%s\" flag=--model",
                      s->name, ibx_model_name(model),
                      co ? "it has no coroutine handler" : "it has only a coroutine handler",
                      env->shared_loop ? "; serve goes on without it" : "");
        return -EOPNOTSUPP;
    }
    return 0;
}

int svc_listen_tcp(const struct service *s, const struct svc_env *env,
                   const struct ibx_proto *proto, void *ctx)
{
    int mr = svc_model_check(s, env, proto);
    if (mr < 0)
        return mr;
    if (env->nfds) {
        int fds[SVC_ADDRS_MAX];
        size_t n = svc_fds(env, SOCK_STREAM, fds, SVC_ADDRS_MAX);
        if (!n) {
            ibx_err(env->log, "msg=\"socket activation gave no TCP listener\"");
            return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
            int r = ibx_server_adopt(env->srv, fds[i], proto, ctx);
            if (r < 0) {
                ibx_err(env->log, "msg=\"socket activation failed\" fd=%d reason=%s",
                        fds[i], strerror(-r));
                return i ? -EBUSY : r;
            }
        }
        return 0;
    }
    ibx_addr addrs[SVC_ADDRS_MAX];
    int n = svc_addrs(s, env, SOCK_STREAM, addrs, SVC_ADDRS_MAX);
    if (n < 0)
        return n;
    int bound = 0;
    for (int i = 0; i < n; i++) {
        char a[IBX_ADDRSTRLEN];
        ibx_addr_format((struct sockaddr *)&addrs[i].ss, addrs[i].len, a, sizeof a);
        int r = ibx_server_listen(env->srv, &addrs[i], proto, ctx);
        if (r == 0) {
            bound++;
            continue;
        }
        if (r == -EADDRINUSE)
            ibx_err(env->log, "msg=\"cannot listen on %s: the port is in use (choose "
                    "another with %s)\" addr=%s flag=%s", a, env->listen_flag, a,
                    env->listen_flag);
        else if ((r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) && n > 1) {
            /* "localhost" on a host without IPv6: the other address serves */
            ibx_warn(env->log, "msg=\"skipping an address\" addr=%s reason=%s", a, strerror(-r));
            continue;
        } else
            ibx_err(env->log, "msg=\"cannot listen on %s\" addr=%s reason=%s", a, a,
                    strerror(-r));
        /* a failure after a listener was added is not a clean skip */
        return bound ? -EBUSY : r;
    }
    return bound ? 0 : -EADDRNOTAVAIL;
}

/* ---- the standalone applet ------------------------------------------------ */

int service_main(const struct service *s, int argc, char **argv)
{
    struct cli cli;
    cli_init(&cli, s->name);
    if (s->server_defaults)
        s->server_defaults(&cli.srv);
    struct svc_where where = {.enabled = true};
    void *cfg = service_cfg_new(s);
    if (!cfg) {
        fprintf(stderr, "ipcbox %s: out of memory\n", s->name);
        return 1;
    }
    struct opt_cmd cmd;
    opt_cmd_init(&cmd, s->name, s->synopsis, s->about);
    cmd.max_args = s->has_dir ? 1 : 0;
    cmd.footer = cli_server_footer;
    cmd.config_file = true;   /* the same file serve reads: [NAME] and [serve] */
    opt_cmd_add(&cmd, "options", NULL, s->name, s->opts, cfg);
    opt_cmd_add(&cmd, "server options", NULL, s->name, svc_where_opts, &where);
    opt_cmd_add(&cmd, "server options", NULL, "serve", cli_server_opts, &cli);
    int rc = opt_parse(&cmd, argc, argv);
    ibx_server *srv = NULL;
    struct logsink sink = {.fd = -1};
    int fds[SVC_ADDRS_MAX];
    int nfds = 0;
    if (rc >= 0)
        goto out;
    rc = 0;
    cli_finish(&cli);
    if (logsink_open(&sink, &cli.log, cli.log_file, cli.daemon) < 0) {
        rc = 1;
        goto out;
    }
    if (s->has_dir) {
        const char **dir = (const char **)((char *)cfg + s->dir_off);
        if (cmd.nargs)
            *dir = cmd.args[0];
        else if (!*dir)
            *dir = ".";
    }
    int sr = ibx_signals_block();
    if (sr == 0)
        sr = cli_server_new(&srv, &cli.srv, &cli.log);
    if (sr < 0) {
        rc = sr == -ERANGE ? 2 : 1;
        goto out;
    }
    if (logsink_watch(&sink, srv) < 0) {
        rc = 1;
        goto out;
    }
    nfds = ibx_listen_fds(fds, NULL, SVC_ADDRS_MAX);
    if (nfds < 0) {
        ibx_err(&cli.log, "msg=\"socket activation failed\" reason=%s", strerror(-nfds));
        nfds = 0;
        rc = 1;
        goto out;
    }
    struct svc_env env = {
        .srv = srv,
        .log = &cli.log,
        .server = &cli.srv,
        .listen = &where.listen,
        .listen_flag = "--listen",
        .fds = fds,
        .nfds = (size_t)nfds,
        .quiet = cli.quiet,
        .daemon = cli.daemon,
    };
    int r = s->start(cfg, &env);
    if (r < 0) {
        rc = r == -EINVAL || r == -EOPNOTSUPP ? EXIT_USAGE : 1;
        goto out;
    }
    bool child = false;
    rc = cli_run_server(&cli, srv, &child);
    if (!rc && !child && s->exit_status)
        rc = s->exit_status(cfg);
    if (!rc && !child)
        ibx_info(&cli.log, "msg=stopped");
out:
    ibx_server_free(srv);
    service_cfg_free(s, cfg);
    opt_cmd_free(&cmd);
    logsink_close(&sink);
    return rc;
}
