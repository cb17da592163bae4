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
    const char *user;           /* --user: drop root for NAME, or NULL */
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
/* Run srv honouring --daemon, --pidfile and --user (dropped once the
 * pidfile is written). Returns the exit status for main (0, or 1 after
 * logging). *child is set in a finished fork/prefork child, and in the
 * original process of a --daemon: free what the applet owns and return
 * the status without further output. */
int cli_run_server(struct cli *cli, ibx_server *srv, bool *child);
/* ibx_server_new, and on failure one error line naming the model and why
 * (the io_uring model where the kernel refuses io_uring; a --max-conns past
 * what the model can hold, -ERANGE: a usage error). Returns as it. */
int cli_server_new(ibx_server **out, const struct ibx_server_config *cfg,
                   const ibx_log *log);

/* Detach as a classic daemon (fork, setsid, fork, chdir /, stdio to
 * /dev/null). Returns 0 in the daemon, which must write one 0 byte to
 * *ready once it runs (and close it); in the original process, once the
 * daemon has written or died: 1 if it runs, 2 if it failed. -errno on
 * failure. */
int cli_daemonize(int *ready);
/* Become user (groups too) when root. Returns 0 or -errno after logging. */
int cli_drop_privileges(const char *user, const ibx_log *log);

#endif
