/* Command-line conventions shared by every applet.
 *
 * An applet is a file src/apps/NAME.c (or folder src/apps/NAME/) holding a
 * line
 *     //applet: NAME one-line description for `ipcbox --help`
 * and defining  int NAME_main(int argc, char **argv)  (argv[0] is the
 * applet name). The build generates the dispatch table from those lines.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage (one line on
 * stderr), 127 unknown applet. */
#ifndef IPCBOX_APPS_CLI_H
#define IPCBOX_APPS_CLI_H

#include <getopt.h>
#include <stdbool.h>

#include "ipcbox/log.h"
#include "ipcbox/net.h"
#include "ipcbox/server.h"
#include "opt.h"

/* Every applet's entry point (generated from the //applet: lines). */
#define IBX_APPLET(name, desc) int name##_main(int argc, char **argv);
#include "applets.gen.h"
#undef IBX_APPLET

/* Exit status for bad usage. */
#define IBX_EXIT_USAGE 2

/* Flags common to server applets. */
struct ibx_cli {
    const char *applet;         /* "echo" */
    const char *listen;         /* --listen text, NULL = default */
    struct ibx_server_config srv;
    ibx_log log;
    bool daemon;
    const char *pidfile;
    const char *log_file;       /* --log-file, or NULL */
    bool quiet;                 /* --quiet: errors only */
};

/* The rows of the server options every server applet and serve take:
 * --model, --workers, --grace, --max-conns, --daemon, --pidfile,
 * --log-file, --log-level, --quiet (on struct ibx_cli). */
extern const struct opt cli_server_opts[];
/* The rows of the logging options a client applet takes (--quiet,
 * --log-level), on struct ibx_cli. */
extern const struct opt cli_log_opts[];
/* Apply what the rows left for later (--quiet lowers the log level). */
void cli_finish(struct ibx_cli *cli);
/* Text for the end of a server applet's --help. */
extern const char cli_server_footer[];

/* getopt_long codes of the common flags (above any short option). */
enum {
    IBX_OPT_LISTEN = 0x1000,
    IBX_OPT_MODEL,
    IBX_OPT_WORKERS,
    IBX_OPT_GRACE,
    IBX_OPT_MAX_CONNS,
    IBX_OPT_QUIET,
    IBX_OPT_LOG_LEVEL,
    IBX_OPT_DAEMON,
    IBX_OPT_PIDFILE,
    IBX_OPT_HELP,
    IBX_OPT_APPLET_BASE = 0x1100,   /* applet-specific codes start here */
};

/* struct option entries for --listen and --help, --quiet, --log-level
 * (every applet) ... */
#define IBX_CLI_BASIC_OPTIONS                                            \
    {"help", no_argument, 0, IBX_OPT_HELP},                              \
    {"quiet", no_argument, 0, IBX_OPT_QUIET},                            \
    {"log-level", required_argument, 0, IBX_OPT_LOG_LEVEL}
/* ... and the server flags (server applets). */
#define IBX_CLI_SERVER_OPTIONS                                           \
    IBX_CLI_BASIC_OPTIONS,                                               \
    {"listen", required_argument, 0, IBX_OPT_LISTEN},                    \
    {"model", required_argument, 0, IBX_OPT_MODEL},                      \
    {"workers", required_argument, 0, IBX_OPT_WORKERS},                  \
    {"grace", required_argument, 0, IBX_OPT_GRACE},                      \
    {"max-conns", required_argument, 0, IBX_OPT_MAX_CONNS},              \
    {"daemon", no_argument, 0, IBX_OPT_DAEMON},                          \
    {"pidfile", required_argument, 0, IBX_OPT_PIDFILE}

/* Help text for IBX_CLI_BASIC_OPTIONS / IBX_CLI_SERVER_OPTIONS. */
extern const char ibx_cli_basic_help[];
extern const char ibx_cli_server_help[];

/* Defaults: model epoll, grace 10 s, logger tagged with applet. */
void ibx_cli_init(struct ibx_cli *cli, const char *applet);
/* Handle a common option. Returns 1 if handled, 0 if not a common option,
 * -1 after printing a usage error (exit IBX_EXIT_USAGE). --help is not
 * handled here (it is applet-specific). */
int ibx_cli_common(struct ibx_cli *cli, int opt, const char *arg);
/* Print "ipcbox APPLET: MESSAGE (see 'ipcbox APPLET --help')" on one line
 * and return IBX_EXIT_USAGE. */
int ibx_cli_usage(const char *applet, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Report the option getopt_long just rejected (returned '?' or ':'), on one
 * line. Returns IBX_EXIT_USAGE. */
int ibx_cli_bad_option(const char *applet, char **argv);
/* Prepare getopt for a fresh parse (quiet, permuting). */
void ibx_cli_getopt_reset(void);
/* Parse an unsigned decimal in [min, max]. Returns 0 or -EINVAL. */
int ibx_cli_uint(const char *s, unsigned long min, unsigned long max,
                 unsigned long *out);
/* Parse a byte count with an optional binary suffix ("512k", "10m", "1g",
 * "1000") in [min, max], without overflow. Returns 0 or -EINVAL. */
int ibx_cli_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Resolve the listen address (cli->listen or default "127.0.0.1:PORT").
 * Prints a usage error and returns -1 on bad input. */
int ibx_cli_listen_addr(const struct ibx_cli *cli, uint16_t default_port,
                        ibx_addr *out);

/* Give srv its listener for proto: the first systemd-activated fd when
 * LISTEN_FDS/LISTEN_PID are set, else the --listen address (default
 * 127.0.0.1:default_port). Returns 0, or 1 after logging a failure, or
 * IBX_EXIT_USAGE after a usage error. */
int ibx_cli_bind(struct ibx_cli *cli, ibx_server *srv, uint16_t default_port,
                 const struct ibx_proto *proto, void *ctx);
/* Run srv honouring --daemon and --pidfile. Returns the exit status for
 * main (0, or 1 after logging). In a finished fork/prefork child *child is
 * set: free what the applet owns and return 0 without further output. */
int ibx_cli_run_server(struct ibx_cli *cli, ibx_server *srv, bool *child);

/* Detach as a classic daemon (fork, setsid, fork, chdir /, stdio to
 * /dev/null) and write pidfile if not NULL. Returns 0 in the daemon, a
 * positive value in the original process (which should exit 0), -errno on
 * failure. */
int ibx_daemonize(const char *pidfile);

#endif
