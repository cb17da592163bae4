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
    fputs(ibx_cli_basic_help, stdout);
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

enum { OPT_HOST = IBX_OPT_APPLET_BASE, OPT_NO = 0x1200, OPT_LISTEN = 0x1300 };

int serve_main(int argc, char **argv)
{
    /* --no-NAME and --NAME-listen for every registered service */
    struct option opts[16 + 2 * NSERVICES];
    char names[2 * NSERVICES + 1][48];
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
    }
    opts[n] = (struct option){0, 0, 0, 0};

    struct ibx_cli cli;
    ibx_cli_init(&cli, "serve");
    bool off[NSERVICES + 1];
    const char *listen[NSERVICES + 1];
    memset(off, 0, sizeof off);
    memset(listen, 0, sizeof listen);
    const char *host = NULL;
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
        } else if (c == OPT_HOST) {
            host = optarg;
        } else if (c >= OPT_NO && c < OPT_NO + (int)NSERVICES) {
            off[c - OPT_NO] = true;
        } else if (c >= OPT_LISTEN && c < OPT_LISTEN + (int)NSERVICES) {
            listen[c - OPT_LISTEN] = optarg;
        } else {
            return ibx_cli_bad_option("serve", argv);
        }
    }
    const char *dir = ".";
    if (optind < argc)
        dir = argv[optind++];
    if (optind < argc)
        return ibx_cli_usage("serve", "unexpected argument '%s'", argv[optind]);
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return ibx_cli_usage("serve", "'%s' is not a directory", dir);
    if (ibx_signals_block() < 0)
        return 1;

    ibx_server *srv;
    if (ibx_server_new(&srv, &cli.srv) < 0)
        return 1;
    void *state[NSERVICES + 1];
    memset(state, 0, sizeof state);
    int rc = 0;
    size_t started = 0;
    for (size_t i = 0; i < NSERVICES && !rc; i++) {
        if (off[i])
            continue;
        char addr[128];
        if (listen[i])
            snprintf(addr, sizeof addr, "%s", listen[i]);
        else
            default_addr(services[i], host, addr, sizeof addr);
        if (services[i]->init(srv, dir, addr, &cli.log, &state[i]) < 0)
            rc = 1;
        else
            started++;
    }
    if (!rc && !started) {
        ibx_err(&cli.log, "serve: every service is turned off");
        rc = IBX_EXIT_USAGE;
    }
    if (!rc)
        ibx_info(&cli.log, "serve: %zu service(s) on one loop, serving %s", started, dir);
    bool child = false;
    if (!rc)
        rc = ibx_cli_run_server(&cli, srv, &child);
    ibx_server_free(srv);
    for (size_t i = 0; i < NSERVICES; i++)
        if (services[i]->fini)
            services[i]->fini(state[i]);
    return rc;
}
