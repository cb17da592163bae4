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

#include <stdbool.h>

#include "ipcbox/log.h"
#include "ipcbox/server.h"
#include "opt.h"

/* Every applet's entry point (generated from the //applet: lines). */
#define APPLET(name, desc) int name##_main(int argc, char **argv);
#include "applets.gen.h"
#undef APPLET

/* Exit status for bad usage. */
#define EXIT_USAGE 2

/* Flags common to server applets. */
struct cli {
    const char *applet;         /* "echo" */
    struct ibx_server_config srv;
    ibx_log log;
    bool daemon;
    const char *pidfile;
    const char *log_file;       /* --log-file, or NULL */
    bool quiet;                 /* --quiet: errors only */
};

/* The rows of the server options every server applet and serve take:
 * --model, --workers, --grace, --max-conns, --daemon, --pidfile,
 * --log-file, --log-level, --quiet (on struct cli). */
extern const struct opt cli_server_opts[];
/* The rows of the logging options a client applet takes (--quiet,
 * --log-level), on struct cli. */
extern const struct opt cli_log_opts[];
/* Apply what the rows left for later (--quiet lowers the log level). */
void cli_finish(struct cli *cli);
/* Text for the end of a server applet's --help. */
extern const char cli_server_footer[];

/* Defaults: model epoll, grace 10 s, logger tagged with applet. */
void cli_init(struct cli *cli, const char *applet);
/* Run srv honouring --daemon and --pidfile. Returns the exit status for
 * main (0, or 1 after logging). In a finished fork/prefork child *child is
 * set: free what the applet owns and return 0 without further output. */
int cli_run_server(struct cli *cli, ibx_server *srv, bool *child);

/* Detach as a classic daemon (fork, setsid, fork, chdir /, stdio to
 * /dev/null) and write pidfile if not NULL. Returns 0 in the daemon, a
 * positive value in the original process (which should exit 0), -errno on
 * failure. */
int cli_daemonize(const char *pidfile);

#endif
