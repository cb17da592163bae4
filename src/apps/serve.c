/* serve: every registered service of one directory on one event loop. */
//applet: serve run every service (echo, httpd, tftpd, recv ...) on one loop
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "service.h"

static const struct ibx_service_def *const services[] = {
#define IBX_SERVICE(name) &name##_service,
#include "services.gen.h"
#undef IBX_SERVICE
    NULL,
};
#define NSERVICES (sizeof services / sizeof services[0] - 1)

static void usage(void)
{
    printf("usage: ipcbox serve [DIR] [--host HOST] [--no-SERVICE]... "
           "[--SERVICE-listen ADDR]...\n\n"
           "Runs every service on one event loop, all serving DIR (default:\n"
           "the current directory). Services:\n");
    for (size_t i = 0; i < NSERVICES; i++)
        printf("  %-8s %-22s %s\n", services[i]->name, services[i]->default_listen,
               services[i]->summary);
    printf("\n  --host HOST           host of every service's default address\n"
           "  --no-SERVICE          do not start SERVICE\n"
           "  --SERVICE-listen ADDR address of SERVICE (HOST:PORT, [V6]:PORT, PORT)\n"
           "  --grace SECONDS       on SIGINT/SIGTERM let work finish this long\n");
    for (size_t i = 0; i < NSERVICES; i++) {
        const struct ibx_service_flag *f = services[i]->flags;
        for (; f && f->name; f++) {
            char left[64];
            snprintf(left, sizeof left, "--%s-%s%s%s", services[i]->name, f->name,
                     f->arg ? " " : "", f->arg ? f->arg : "");
            printf("  %-21s %s\n", left, f->help);
        }
    }
    fputs(ibx_cli_basic_help, stdout);
}

/* Free what the services' set_flag and init left in state[]. */
static void free_states(void **state)
{
    for (size_t i = 0; i < NSERVICES; i++)
        if (services[i]->fini)
            services[i]->fini(state[i]);
}

/* The default address of a service with its host replaced by host. */
static void default_addr(const struct ibx_service_def *s, const char *host,
                         char *out, size_t size)
{
    const char *port = strrchr(s->default_listen, ':');
    if (!host)
        snprintf(out, size, "%s", s->default_listen);
    else if (strchr(host, ':'))
        snprintf(out, size, "[%s]%s", host, port ? port : "");
    else
        snprintf(out, size, "%s%s", host, port ? port : "");
}

enum { OPT_HOST = IBX_OPT_APPLET_BASE, OPT_NO = 0x1200, OPT_LISTEN = 0x1300,
       OPT_FLAG = 0x1400 /* + service * IBX_SERVICE_FLAGS_MAX + flag */ };

int serve_main(int argc, char **argv)
{
    /* --no-NAME and --NAME-listen for every registered service */
    struct option opts[16 + (2 + IBX_SERVICE_FLAGS_MAX) * NSERVICES];
    char names[(2 + IBX_SERVICE_FLAGS_MAX) * NSERVICES + 1][48];
    size_t nnames = 2 * NSERVICES;
    size_t n = 0;
    const struct option base[] = {
        IBX_CLI_BASIC_OPTIONS,
        {"host", required_argument, 0, OPT_HOST},
        {"grace", required_argument, 0, IBX_OPT_GRACE},
    };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        opts[n++] = base[i];
    for (size_t i = 0; i < NSERVICES; i++) {
        snprintf(names[2 * i], sizeof names[0], "no-%s", services[i]->name);
        snprintf(names[2 * i + 1], sizeof names[0], "%s-listen", services[i]->name);
        opts[n++] = (struct option){names[2 * i], no_argument, 0, OPT_NO + (int)i};
        opts[n++] = (struct option){names[2 * i + 1], required_argument, 0,
                                    OPT_LISTEN + (int)i};
        const struct ibx_service_flag *f = services[i]->flags;
        for (int j = 0; f && f[j].name && j < IBX_SERVICE_FLAGS_MAX; j++) {
            snprintf(names[nnames], sizeof names[0], "%s-%s", services[i]->name,
                     f[j].name);
            opts[n++] = (struct option){names[nnames++],
                                        f[j].arg ? required_argument : no_argument, 0,
                                        OPT_FLAG + (int)i * IBX_SERVICE_FLAGS_MAX + j};
        }
    }
    opts[n] = (struct option){0, 0, 0, 0};

    struct ibx_cli cli;
    ibx_cli_init(&cli, "serve");
    bool off[NSERVICES + 1];
    const char *listen[NSERVICES + 1];
    memset(off, 0, sizeof off);
    memset(listen, 0, sizeof listen);
    void *state[NSERVICES + 1];
    memset(state, 0, sizeof state);
    const char *host = NULL;
    int c, rc = 0;
    ibx_cli_getopt_reset();
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int k = ibx_cli_common(&cli, c, optarg);
        if (k < 0) {
            rc = IBX_EXIT_USAGE;
            break;
        }
        if (k > 0)
            continue;
        if (c == IBX_OPT_HELP) {
            usage();
            free_states(state);
            return 0;
        } else if (c == OPT_HOST) {
            host = optarg;
        } else if (c >= OPT_NO && c < OPT_NO + (int)NSERVICES) {
            off[c - OPT_NO] = true;
        } else if (c >= OPT_LISTEN && c < OPT_LISTEN + (int)NSERVICES) {
            listen[c - OPT_LISTEN] = optarg;
        } else if (c >= OPT_FLAG &&
                   c < OPT_FLAG + (int)(NSERVICES * IBX_SERVICE_FLAGS_MAX)) {
            size_t i = (size_t)(c - OPT_FLAG) / IBX_SERVICE_FLAGS_MAX;
            if (services[i]->set_flag(&state[i], (c - OPT_FLAG) % IBX_SERVICE_FLAGS_MAX,
                                      optarg) < 0) {
                rc = IBX_EXIT_USAGE;
                break;
            }
        } else {
            rc = ibx_cli_bad_option("serve", argv);
            break;
        }
    }
    const char *dir = ".";
    if (!rc && optind < argc)
        dir = argv[optind++];
    struct stat st;
    if (!rc && optind < argc)
        rc = ibx_cli_usage("serve", "unexpected argument '%s'", argv[optind]);
    else if (!rc && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
        rc = ibx_cli_usage("serve", "'%s' is not a directory", dir);
    else if (!rc && ibx_signals_block() < 0)
        rc = 1;
    ibx_server *srv = NULL;
    if (!rc && ibx_server_new(&srv, &cli.srv) < 0)
        rc = 1;
    if (rc) {
        free_states(state);
        return rc;
    }
    size_t started = 0;
    /* each service logs under its own name (same destination and level) */
    ibx_log slog[NSERVICES + 1];
    for (size_t i = 0; i < NSERVICES && !rc; i++) {
        if (off[i])
            continue;
        char addr[128];
        if (listen[i])
            snprintf(addr, sizeof addr, "%s", listen[i]);
        else
            default_addr(services[i], host, addr, sizeof addr);
        int r = services[i]->init(srv, dir, addr,
                                  ibx_log_as(&cli.log, services[i]->name, &slog[i]),
                                  &state[i]);
        if (r < 0)
            rc = r == -EPERM ? IBX_EXIT_USAGE : 1;
        else
            started++;
    }
    if (!rc && !started) {
        ibx_err(&cli.log, "msg=\"every service is turned off\"");
        rc = IBX_EXIT_USAGE;
    }
    if (!rc)
        ibx_info(&cli.log, "msg=\"%zu service(s) on one loop\" root=%s", started, dir);
    bool child = false;
    if (!rc)
        rc = ibx_cli_run_server(&cli, srv, &child);
    ibx_server_free(srv);
    free_states(state);
    return rc;
}
