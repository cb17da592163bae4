/* serve: every registered service of one directory on one event loop.
 *
 * Each service brings its option table; serve lists it with the service's
 * name as prefix (--httpd-cgi) and reads it from the service's section of
 * the configuration file ([httpd] cgi = ...), so every option of every
 * service works here exactly as in its applet. */
//applet: serve run every service (echo, httpd, tftpd, recv ...) on one loop
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "logsink.h"
#include "service.h"

static const struct service *const services[] = {
#define SERVICE(name) &name##_service,
#include "services.gen.h"
#undef SERVICE
    NULL,
};
#define NSERVICES (sizeof services / sizeof services[0] - 1)

/* serve's own options. */
struct serve_opts {
    const char *host;
    const char *dir;
};

static const struct opt serve_rows[] = {
    OPT_S(struct serve_opts, host, "host", "HOST",
          "host of every service's default address (default 127.0.0.1)"),
    OPT_S(struct serve_opts, dir, "dir", "DIR",
          "directory every service serves unless its own --SERVICE-dir says "
          "otherwise (the DIR argument; default: the current directory)"),
    OPT_TABLE_END,
};

/* Per service: its configuration, where it listens, and its --no-NAME. */
struct serve_slot {
    void *cfg;
    struct svc_where where;
    char prefix[32];
    char no_name[40];
    char flag[48];                /* "--httpd-listen" */
    struct opt no_row[2];
    bool started;
};

static const char serve_about[] =
    "Runs every service on one event loop, all serving DIR (default: the "
    "current directory), each on its default port unless moved. Every option "
    "of a service is taken here with the service's name in front "
    "(--httpd-cgi /cgi-bin/), or from its [section] of the --config file.";

static void serve_footer(char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "services (turn one off with --no-NAME; "
                                "names only: --list-services):\n");
    for (size_t i = 0; i < NSERVICES && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "  %-8s 127.0.0.1:%-6u %s\n",
                              services[i]->name, services[i]->port,
                              services[i]->summary);
    if (k < n)
        snprintf(buf + k, n - k,
                 "\nA service whose port is in use is skipped (logged with the flag\n"
                 "that moves it); serve fails only if none starts. Socket activation:\n"
                 "listeners named after a service (FileDescriptorName=) go to it.\n");
}

/* Whether the LISTEN_FDNAMES entry at entry (':'-terminated, or the last)
 * is name. */
static bool name_is(const char *entry, const char *name)
{
    size_t len = strlen(name);
    return entry && !strncmp(entry, name, len) && (entry[len] == ':' || !entry[len]);
}

/* Socket-activated listeners for service name: those whose
 * LISTEN_FDNAMES entry is the name. */
static size_t fds_for(const char *name, const int *fds, const char **names,
                      int nfds, int *out)
{
    size_t n = 0;
    for (int i = 0; i < nfds; i++)
        if (name_is(names[i], name))
            out[n++] = fds[i];
    return n;
}

int serve_main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--list-services")) {
        for (size_t i = 0; i < NSERVICES; i++)
            printf("%s\n", services[i]->name);
        return 0;
    }
    struct cli cli;
    cli_init(&cli, "serve");
    struct serve_opts so = {0};
    struct serve_slot slot[NSERVICES + 1];
    memset(slot, 0, sizeof slot);
    struct opt_cmd cmd;
    struct logsink sink = {.fd = -1};
    char footer[2048];
    serve_footer(footer, sizeof footer);
    opt_cmd_init(&cmd, "serve", "[options] [DIR]", serve_about);
    cmd.max_args = 1;
    cmd.config_file = true;
    cmd.footer = footer;
    int rc = 0;
    opt_cmd_add(&cmd, "serve options", NULL, "serve", serve_rows, &so);
    opt_cmd_add(&cmd, "serve options", NULL, "serve", cli_server_opts, &cli);
    for (size_t i = 0; i < NSERVICES; i++) {
        const struct service *s = services[i];
        struct serve_slot *sl = &slot[i];
        sl->where.enabled = true;
        sl->cfg = service_cfg_new(s);
        if (!sl->cfg) {
            fprintf(stderr, "ipcbox serve: out of memory\n");
            rc = 1;
            goto out;
        }
        snprintf(sl->prefix, sizeof sl->prefix, "%s-", s->name);
        snprintf(sl->no_name, sizeof sl->no_name, "no-%s", s->name);
        snprintf(sl->flag, sizeof sl->flag, "--%slisten", sl->prefix);
        sl->no_row[0] = (struct opt)OPT_NOT(struct svc_where, enabled, sl->no_name,
                                            "do not start it");
        sl->no_row[0].flags |= OPT_F_CLI;
        if (opt_cmd_add(&cmd, s->name, NULL, NULL, sl->no_row, &sl->where) < 0 ||
            opt_cmd_add(&cmd, s->name, sl->prefix, s->name, svc_where_serve_opts,
                        &sl->where) < 0 ||
            opt_cmd_add(&cmd, s->name, sl->prefix, s->name, s->opts, sl->cfg) < 0) {
            /* a build with more services than OPT_GROUPS_MAX holds */
            fprintf(stderr, "ipcbox serve: too many services for OPT_GROUPS_MAX\n");
            rc = 1;
            goto out;
        }
    }
    rc = opt_parse(&cmd, argc, argv);
    if (rc >= 0)
        goto out;
    rc = 0;
    cli_finish(&cli);
    const char *dir = cmd.nargs ? cmd.args[0] : so.dir ? so.dir : ".";
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        rc = opt_usage("serve", "'%s' is not a directory", dir);
        goto out;
    }
    if (logsink_open(&sink, &cli.log, cli.log_file, cli.daemon) < 0) {
        rc = 1;
        goto out;
    }
    ibx_server *srv = NULL;
    int sr = ibx_signals_block();
    if (sr == 0)
        sr = cli_server_new(&srv, &cli.srv, &cli.log);
    if (sr == 0)
        sr = logsink_watch(&sink, srv);
    if (sr < 0) {
        ibx_server_free(srv);
        rc = sr == -ERANGE ? 2 : 1;
        goto out;
    }
    int fds[64];
    const char *names[64];
    int nfds = ibx_listen_fds(fds, names, 64);
    if (nfds < 0) {
        ibx_err(&cli.log, "msg=\"socket activation failed\" reason=%s", strerror(-nfds));
        nfds = 0;
    }
    size_t started = 0, skipped = 0;
    /* each service logs under its own name (same destination and level) */
    ibx_log slog[NSERVICES + 1];
    for (size_t i = 0; i < NSERVICES && !rc; i++) {
        const struct service *s = services[i];
        struct serve_slot *sl = &slot[i];
        if (!sl->where.enabled)
            continue;
        if (s->has_dir) {
            const char **d = (const char **)((char *)sl->cfg + s->dir_off);
            if (!*d)
                *d = dir;
        }
        int mine[64];
        size_t nmine = fds_for(s->name, fds, names, nfds, mine);
        struct svc_env env = {
            .srv = srv,
            .log = ibx_log_as(&cli.log, s->name, &slog[i]),
            .server = &cli.srv,
            .listen = &sl->where.listen,
            .host = so.host,
            .listen_flag = sl->flag,
            .fds = mine,
            .nfds = nmine,
            .quiet = cli.quiet,
            .daemon = cli.daemon,
            .shared_loop = true,
        };
        int r = s->start(sl->cfg, &env);
        if (r == -EADDRINUSE || r == -EOPNOTSUPP) {
            /* nothing of it was registered (a busy first port, or a model
             * it cannot run under): the others run without it */
            skipped++;
            continue;
        }
        if (r < 0)
            rc = r == -EINVAL ? EXIT_USAGE : 1;
        else {
            sl->started = true;
            started++;
        }
    }
    for (int i = 0; i < nfds; i++) {
        bool claimed = false;
        for (size_t j = 0; j < NSERVICES; j++)
            claimed |= slot[j].started && name_is(names[i], services[j]->name);
        if (!claimed) {
            ibx_warn(&cli.log, "msg=\"socket-activated listener matches no started "
                     "service (name it after one with FileDescriptorName=)\" fd=%d "
                     "name=%.*s", fds[i], names[i] ? (int)strcspn(names[i], ":") : 1,
                     names[i] ? names[i] : "-");
            close(fds[i]);
        }
    }
    if (!rc && !started) {
        if (skipped)
            ibx_err(&cli.log, "msg=\"no service could start\"");
        else
            ibx_err(&cli.log, "msg=\"every service is turned off\"");
        rc = skipped ? 1 : EXIT_USAGE;
    }
    if (!rc)
        ibx_info(&cli.log, "msg=\"%zu service(s) on one loop\" root=%s skipped=%zu",
                 started, dir, skipped);
    bool child = false;
    if (!rc)
        rc = cli_run_server(&cli, srv, &child);
    ibx_server_free(srv);
    (void)child;
out:
    for (size_t i = 0; i < NSERVICES; i++)
        service_cfg_free(services[i], slot[i].cfg);
    opt_cmd_free(&cmd);
    logsink_close(&sink);
    return rc;
}
