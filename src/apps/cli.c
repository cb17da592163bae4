/* Shared command-line handling: the common option rows (server, logging),
 * running a server with --daemon and --pidfile. */
#include "cli.h"

#include <errno.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
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
    OPT_S(struct cli, user, "user", "NAME",
          "when started as root, become NAME (its groups too) once every listener "
          "is bound and the pidfile written"),
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

/* path made absolute (a daemon changes directory to /). Returns a
 * malloc'd string or NULL. */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", cwd, path);
    return s;
}

/* Write our pid to path atomically: a fresh temporary (never through a
 * planted symlink or an existing file), fsync, rename. */
static int write_pidfile(const char *path)
{
    char tmp[4096], line[32];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -ENAMETOOLONG;
    if (unlink(tmp) < 0 && errno != ENOENT)
        return -errno;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
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

int cli_daemonize(int *ready)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(p[0]);
        close(p[1]);
        return e;
    }
    if (pid > 0) {
        /* the original process: wait for the daemon's word */
        close(p[1]);
        char c = 1;
        ssize_t n;
        do
            n = read(p[0], &c, 1);
        while (n < 0 && errno == EINTR);
        close(p[0]);
        waitpid(pid, NULL, 0);   /* the session leader exits at once */
        return n == 1 && c == 0 ? 1 : 2;
    }
    close(p[0]);
    if (setsid() < 0)
        _exit(1);
    pid = fork();
    if (pid < 0)
        _exit(1);
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
    *ready = p[1];
    return 0;
}

int cli_drop_privileges(const char *user, const ibx_log *log)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        ibx_err(log, "msg=\"no such user\" user=%s", user);
        return -ENOENT;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
        setuid(pw->pw_uid) < 0) {
        int e = -errno;
        ibx_err(log, "msg=\"cannot become %s\" user=%s reason=%s", user, user, strerror(-e));
        return e;
    }
    if (setuid(0) == 0) {
        ibx_err(log, "msg=\"could regain root after dropping privileges\" user=%s", user);
        return -EPERM;
    }
    ibx_info(log, "msg=\"running as %s\" user=%s uid=%u", user, user, (unsigned)pw->pw_uid);
    return 0;
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

/* For the error line of a server that cannot start: -EMFILE under a model
 * whose loop cannot watch every descriptor (select) is most likely that
 * bound, not the descriptor limit; say so when the next descriptor would
 * be past FD_SETSIZE, or close to it (what failed may have been closed
 * since, a few numbers lower), where such a model cannot work anyway. */
static const char *fd_bound_hint(int r, const ibx_model *m)
{
    if (r != -EMFILE || !ibx_model_max_conns(m))
        return "";
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return "";
    close(fd);
    return fd >= FD_SETSIZE - 32 ? ": its descriptors would be past FD_SETSIZE (1024), which its "
                              "loop cannot watch; this process holds too many already"
                            : "";
}

int cli_run_server(struct cli *cli, ibx_server *srv, bool *child)
{
    *child = false;
    raise_nofile(&cli->log);
    char *pidfile = NULL;
    if (cli->pidfile && !(pidfile = absolute(cli->pidfile))) {
        ibx_err(&cli->log, "msg=\"pidfile: cannot make the path absolute\" path=%s",
                cli->pidfile);
        return 1;
    }
    int ready = -1;   /* the daemon tells the original process it runs */
    if (cli->daemon) {
        int r = cli_daemonize(&ready);
        if (r > 0) {
            /* the original process: no more output of its own */
            free(pidfile);
            *child = true;
            if (r == 1)
                return 0;
            fprintf(stderr, "ipcbox %s: the daemon did not start (its log says why: "
                    "--log-file, or syslog)\n", cli->applet);
            return 1;
        }
        if (r < 0) {
            ibx_err(&cli->log, "msg=\"cannot daemonize\" reason=%s", strerror(-r));
            free(pidfile);
            return 1;
        }
    }
    int rc = 0;
    if (pidfile) {
        int r = write_pidfile(pidfile);
        if (r < 0) {
            ibx_err(&cli->log, "msg=\"cannot write the pidfile\" path=%s reason=%s",
                    pidfile, strerror(-r));
            rc = 1;
        }
    }
    /* after every listener is bound and the pidfile written, before any
     * client is served */
    if (!rc && cli->user && geteuid() == 0 && cli_drop_privileges(cli->user, &cli->log) < 0)
        rc = 1;
    else if (!rc && cli->user && geteuid() != 0)
        ibx_warn(&cli->log, "msg=\"not running as root; --user ignored\" user=%s", cli->user);
    if (ready >= 0) {
        if (!rc) {
            char ok = 0;
            ssize_t w = write(ready, &ok, 1);
            (void)w;   /* the original process has gone: nothing to tell */
        }
        close(ready);
    }
    if (rc) {
        if (pidfile)
            unlink(pidfile);
        free(pidfile);
        return rc;
    }
    int r = ibx_server_run(srv);
    if (ibx_server_is_child(srv)) {
        free(pidfile);
        *child = true;
        return 0;
    }
    if (pidfile)
        unlink(pidfile);
    free(pidfile);
    if (r < 0) {
        ibx_err(&cli->log, "msg=\"server failed%s\" reason=%s",
                fd_bound_hint(r, cli->srv.model), strerror(-r));
        return 1;
    }
    return 0;
}

int cli_server_new(ibx_server **out, const struct ibx_server_config *cfg,
                   const ibx_log *log)
{
    int r = ibx_server_new(out, cfg);
    if (r == -ERANGE)
        ibx_err(log, "msg=\"--max-conns %u is more than the %s model can hold: at most %u "
                "(%s)\" flag=--max-conns", cfg->max_conns, ibx_model_name(cfg->model),
                ibx_model_max_conns(cfg->model), ibx_model_help(cfg->model));
    else if (r == -EPERM || r == -ENOSYS || r == -EACCES)
        ibx_err(log, "msg=\"model %s cannot start: the kernel refuses its event loop "
                "(io_uring disabled by seccomp, a container or sysctl "
                "kernel.io_uring_disabled?); --model epoll does not need it\" reason=\"%s\"",
                ibx_model_name(cfg->model), strerror(-r));
    else if (r < 0)
        ibx_err(log, "msg=\"cannot create the server%s\" model=%s reason=\"%s\"",
                fd_bound_hint(r, cfg->model), ibx_model_name(cfg->model), strerror(-r));
    return r;
}
