/* Shared command-line handling: the common option rows (server, logging),
 * running a server with --daemon and --pidfile. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int set_model(void *cfg, const char *text, char *err, size_t errlen)
{
    struct cli *cli = cfg;
    if (ibx_model_parse(text, &cli->srv.model) == 0)
        return 0;
    size_t n = (size_t)snprintf(err, errlen, "wants one of");
    for (size_t i = 0; ibx_model_at(i) && n < errlen; i++)
        n += (size_t)snprintf(err + n, errlen - n, "%s %s", i ? "," : "", ibx_model_at(i));
    return -1;
}

static int set_log_level(void *cfg, const char *text, char *err, size_t errlen)
{
    struct cli *cli = cfg;
    if (ibx_log_level_parse(text, &cli->log.level) == 0)
        return 0;
    snprintf(err, errlen, "wants error, warn, info or debug");
    return -1;
}

#define LOG_ROWS                                                               \
    {.name = "quiet", .type = OPT_T_BOOL, OPT_FIELD_(struct cli, quiet),       \
     .help = "log errors only", .short_name = 'q'},                            \
    OPT_C(struct cli, log.level, "log-level", "LEVEL", "info", set_log_level,  \
          "error, warn, info or debug")

const struct opt cli_server_opts[] = {
    OPT_C(struct cli, srv.model, "model", "MODEL", "epoll", set_model,
          "how connections are spread over loops, threads and processes "
          "(see 'ipcbox --list-models')"),
    OPT_U(struct cli, srv.workers, "workers", "N", NULL, 1, 1024,
          "loops of the prefork, threadpool and reuseport models (default: "
          "the number of CPUs)"),
    OPT_SEC(struct cli, srv.grace_ms, "grace", "10", 0, 86400,
            "on SIGINT/SIGTERM let work finish this long; a second signal "
            "stops at once"),
    OPT_U(struct cli, srv.max_conns, "max-conns", "N", NULL, 1, 10000000,
          "pause accepting at N open connections (default: half of ulimit -n; "
          "at most 256 with the fork and thread models)"),
    OPT_B(struct cli, daemon, "daemon", "detach as a classic daemon; logs go "
          "to --log-file, else to syslog"),
    OPT_S(struct cli, pidfile, "pidfile", "FILE", "write the server's pid to FILE"),
    OPT_S(struct cli, log_file, "log-file", "FILE",
          "append log lines to FILE (SIGHUP reopens it)"),
    LOG_ROWS,
    OPT_TABLE_END,
};

const struct opt cli_log_opts[] = {
    LOG_ROWS,
    OPT_TABLE_END,
};

const char cli_server_footer[] =
    "Socket activation: with LISTEN_FDS/LISTEN_PID set (systemd), the\n"
    "inherited listeners are used instead of --listen.\n";

void cli_finish(struct cli *cli)
{
    if (cli->quiet)
        cli->log.level = IBX_LOG_ERROR;
}

void cli_init(struct cli *cli, const char *applet)
{
    memset(cli, 0, sizeof *cli);
    cli->applet = applet;
    cli->srv.model = NULL;   /* the default model, epoll */
    cli->srv.grace_ms = 10000;
    cli->srv.ident = applet;
    ibx_log_init(&cli->log, applet);
    cli->srv.log = &cli->log;
}

static int write_pidfile(const char *path)
{
    char tmp[4096], line[32];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (write(fd, line, (size_t)n) != n || fsync(fd) < 0) {
        int e = -errno;
        close(fd);
        unlink(tmp);
        return e ? e : -EIO;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        int e = -errno;
        unlink(tmp);
        return e;
    }
    return 0;
}

int cli_daemonize(const char *pidfile)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        return 1;
    if (setsid() < 0)
        return -errno;
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);   /* the session leader's only job was to fork */
    umask(022);
    if (chdir("/") < 0)
        return -errno;
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return pidfile ? write_pidfile(pidfile) : 0;
}

/* Servers hold a descriptor per connection: raise the soft limit to the
 * hard one (at most 65536, so loops over descriptors stay cheap). The
 * EMFILE spare-fd trick still covers the limit when it is reached. */
static void raise_nofile(const ibx_log *log)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
    if (rl.rlim_cur >= want)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        ibx_debug(log, "descriptor limit raised from %llu to %llu",
                  (unsigned long long)old, (unsigned long long)want);
}

int cli_run_server(struct cli *cli, ibx_server *srv, bool *child)
{
    *child = false;
    raise_nofile(&cli->log);
    if (cli->daemon) {
        int r = cli_daemonize(cli->pidfile);
        if (r > 0)
            return 0;   /* the original process: the daemon runs on */
        if (r < 0) {
            ibx_err(&cli->log, "daemonize: %s", strerror(-r));
            return 1;
        }
    } else if (cli->pidfile) {
        int r = write_pidfile(cli->pidfile);
        if (r < 0) {
            ibx_err(&cli->log, "pidfile %s: %s", cli->pidfile, strerror(-r));
            return 1;
        }
    }
    int r = ibx_server_run(srv);
    if (ibx_server_is_child(srv)) {
        *child = true;
        return 0;
    }
    if (cli->pidfile)
        unlink(cli->pidfile);
    if (r < 0) {
        ibx_err(&cli->log, "server: %s", strerror(-r));
        return 1;
    }
    return 0;
}
