/* `ipcbox pool`: the run as a whole (see pool.h): set-up, signals
 * (SIGCHLD reaps; the first SIGINT stops starting jobs, the second kills
 * them; SIGTERM and SIGHUP are passed on to every job), timeouts, the
 * --line-buffer writer, --bar/--eta, --dry-run and the exit status. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool/run_int.h"

extern char **environ;

/* ---- killing --------------------------------------------------------------- */

static void kill_job(struct pool *p, struct pool_job *j, int sig)
{
    if (j->pgid <= 0)
        return;
    kill(-j->pgid, sig);
    if (sig == SIGTERM && !j->killed) {
        j->killed = true;
        ibx_timer_start(p->loop, &j->timer, POOL_KILL_GRACE_MS, pool_on_timeout, j);
    }
}

void pool_on_timeout(ibx_loop *loop, ibx_timer *t)
{
    struct pool_job *j = t->data;
    struct pool *p = j->pool;
    if (j->killed) {
        kill(-j->pgid, SIGKILL);   /* the grace is over */
        return;
    }
    j->timed_out = true;
    if (p->progress)
        progress_clear(p->progress);
    fprintf(stderr, "ipcbox pool: job %llu timed out after %.3f s, killing it: %s\n",
            (unsigned long long)j->seq, (double)p->cfg->timeout_ms / 1000.0,
            j->line.len ? j->line.p : "");
    kill_job(p, j, SIGTERM);
}

void pool_kill_all(struct pool *p, int sig)
{
    for (unsigned i = 0; i < p->cfg->jobs; i++)
        if (p->slots[i])
            kill_job(p, p->slots[i], sig);
}

/* ---- signals --------------------------------------------------------------- */

static void on_chld(ibx_loop *loop, int signo, void *data)
{
    struct pool *p = data;
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (unsigned i = 0; i < p->cfg->jobs; i++) {
            struct pool_job *j = p->slots[i];
            if (j && j->pid == pid) {
                j->pid = -1;
                j->status = st;
                pool_job_check(p, j);
                break;
            }
        }
    }
}

static void on_stop(ibx_loop *loop, int signo, void *data)
{
    struct pool *p = data;
    if (p->progress)
        progress_clear(p->progress);
    if (signo == SIGINT && ++p->signals == 1) {
        p->stop_starting = true;
        p->stop_signal = SIGINT;
        if (p->running)
            fprintf(stderr, "ipcbox pool: interrupted: starting no more jobs, waiting for "
                            "%u (interrupt again to kill them)\n", p->running);
    } else {
        if (!p->stop_signal || signo != SIGINT)
            p->stop_signal = signo;
        p->stop_starting = true;
        if (p->running)
            fprintf(stderr, "ipcbox pool: %s: killing %u running jobs\n",
                    signo == SIGINT ? "interrupted again" : strsignal(signo), p->running);
        pool_kill_all(p, SIGTERM);
    }
    pool_fill(p);   /* stops the loop when nothing runs */
}

/* ---- --line-buffer ----------------------------------------------------------- */

int pool_line_out(struct pool *p, struct pool_job *j, bool is_out, const char *buf, size_t n)
{
    struct pool_out *o = is_out ? &j->out : &j->err;
    int fd = is_out ? 1 : 2;
    bool *bol = is_out ? &j->bol_out : &j->bol_err;
    const char *tag = NULL;
    size_t taglen = 0;
    if (p->cfg->tag) {
        /* tag is scratch shared by every job: build it for this one */
        p->tag.len = 0;
        for (size_t k = 0; k < j->nv; k++)
            if ((k && tpl_buf_add(&p->tag, " ", 1)) ||
                tpl_buf_add(&p->tag, j->v[k], j->vlen[k]))
                return -ENOMEM;
        if (tpl_buf_add(&p->tag, "\t", 1))
            return -ENOMEM;
        tag = p->tag.p;
        taglen = p->tag.len;
    }
    if (p->progress)
        progress_clear(p->progress);
    int w = 0;
    if (p->out_failed && is_out) {   /* nobody reads it: drop */
        o->len = 0;
        j->mem = 0;
        return 0;
    }
    if (!buf) {   /* end of file: what is left, as it is */
        if (o->len)
            w = pool_out_write_tagged(fd, o->buf, o->len, tag, taglen, bol);
        o->len = 0;
        j->mem = 0;
        if (is_out)
            pool_out_error(p, w);
        return 0;
    }
    const char *nl = NULL;
    for (size_t i = n; i > 0; i--)
        if (buf[i - 1] == '\n') {
            nl = buf + i - 1;
            break;
        }
    if (!nl && o->len + n <= p->cfg->max_buffer)
        return pool_out_add(o, buf, n, &j->mem, SIZE_MAX, p->cfg->tmpdir);
    /* whole lines (or a line past the bound) go out now */
    size_t whole = nl ? (size_t)(nl - buf) + 1 : n;
    if (o->len)
        w = pool_out_write_tagged(fd, o->buf, o->len, tag, taglen, bol);
    if (!w)
        w = pool_out_write_tagged(fd, buf, whole, tag, taglen, bol);
    o->len = 0;
    j->mem = 0;
    if (is_out)
        pool_out_error(p, w);   /* stderr we cannot write to is not worth stopping for */
    if (w || whole == n)
        return 0;
    return pool_out_add(o, buf + whole, n - whole, &j->mem, SIZE_MAX, p->cfg->tmpdir);
}

/* ---- --bar / --eta ------------------------------------------------------------ */

void pool_progress_start(struct pool *p, struct pool_job *j)
{
    progress_file_begin(p->progress, j->line.len ? j->line.p : "", 0, false, 0);
}

void pool_progress_job(struct pool *p, struct pool_job *j, bool failed)
{
    progress_file_end(p->progress, failed ? PROGRESS_NOT_OK : PROGRESS_OK, 0);
    if (failed)
        progress_fail(p->progress);
}

/* ---- set-up ---------------------------------------------------------------- */

/* The program of a command word: itself if it holds a '/', else the first
 * executable file of that name on $PATH; NULL if none (sh then says so). */
static char *find_program(const char *prog)
{
    struct stat st;
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0 ? strdup(prog) : NULL;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t n = colon ? (size_t)(colon - path) : strlen(path);
        char buf[4096];
        if (n + strlen(prog) + 2 < sizeof buf) {
            if (n)
                snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog);
            else
                snprintf(buf, sizeof buf, "./%s", prog);
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
                return strdup(buf);
        }
        path += n + (colon ? 1 : 0);
    }
    return NULL;
}

/* Is name a bash function exported to us (export -f name)? */
static bool exported_function(const char *name)
{
    size_t n = strlen(name);
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "BASH_FUNC_", 10) && !strncmp(*e + 10, name, n) &&
            (!strncmp(*e + 10 + n, "%%=", 3) || !strncmp(*e + 10 + n, "()=", 3)))
            return true;
    return false;
}

/* The shell of jobs that need one: $PARALLEL_SHELL (as GNU parallel);
 * else bash when bash functions were exported to us (export -f: /bin/sh
 * may be dash, which does not see them); else /bin/sh. */
static int pick_shell(struct pool *p)
{
    const char *want = getenv("PARALLEL_SHELL");
    if (want && *want) {
        p->shell = find_program(want);
        if (!p->shell) {
            fprintf(stderr, "ipcbox pool: PARALLEL_SHELL=%s: no such program\n", want);
            return -1;
        }
        return 0;
    }
    for (char **e = environ; *e && !p->shell; e++)
        if (!strncmp(*e, "BASH_FUNC_", 10))
            p->shell = find_program("bash");
    if (!p->shell)
        p->shell = strdup("/bin/sh");
    if (!p->shell) {
        fprintf(stderr, "ipcbox pool: out of memory\n");
        return -1;
    }
    return 0;
}

/* Read the job log for --resume / --resume-failed, then open it for
 * writing: appended to when it had a first line, else written anew with
 * the header. Returns 0 or -1 after saying why. */
static int open_joblog(struct pool *p)
{
    const struct pool_cfg *c = p->cfg;
    bool append = false, newline = false;
    if (c->resume || c->resume_failed) {
        FILE *f = fopen(c->joblog, "re");
        if (f) {
            char *buf = NULL;
            size_t cap = 0, len = 0, n;
            char chunk[65536];
            while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
                char *q = len + n + 1 > cap ? realloc(buf, cap = 2 * (len + n + 1)) : buf;
                if (!q) {
                    free(buf);
                    fclose(f);
                    fprintf(stderr, "ipcbox pool: out of memory\n");
                    return -1;
                }
                buf = q;
                memcpy(buf + len, chunk, n);
                len += n;
            }
            fclose(f);
            size_t bad = 0;
            int r = joblog_read(buf ? buf : "", len, c->resume_failed, &p->done, &bad);
            size_t keep = r ? len : joblog_keep(buf ? buf : "", len);
            append = keep > 0;
            newline = keep > 0 && buf[keep - 1] != '\n';
            free(buf);
            if (!r && keep < len && keep > 0 && truncate(c->joblog, (off_t)keep) < 0) {
                fprintf(stderr, "ipcbox pool: cannot drop the cut last line of the job log "
                                "%s: %s\n", c->joblog, strerror(errno));
                return -1;
            }
            if (r) {
                fprintf(stderr, "ipcbox pool: format of the job log %s is wrong (line %zu)\n",
                        c->joblog, bad);
                return -1;
            }
        }
    }
    p->joblog = fopen(c->joblog, append ? "ae" : "we");
    if (!p->joblog) {
        fprintf(stderr, "ipcbox pool: cannot write the job log %s: %s\n", c->joblog,
                strerror(errno));
        return -1;
    }
    if ((!append && (fputs(JOBLOG_HEADER, p->joblog) < 0 || fflush(p->joblog))) ||
        (newline && (fputc('\n', p->joblog) < 0 || fflush(p->joblog)))) {
        fprintf(stderr, "ipcbox pool: cannot write the job log %s\n", c->joblog);
        return -1;
    }
    return 0;
}

static int dry_run(struct pool *p)
{
    struct tpl_buf line = {0};
    int r;
    while ((r = pool_input_next(p->in)) > 0) {
        uint64_t seq = ++p->seq;
        if (p->done.n && joblog_done_has(&p->done, seq))
            continue;
        struct tpl_job tj = {.v = p->in->cur, .vlen = p->in->curlen, .nv = p->in->nsrc,
                             .seq = seq, .slot = 1};
        line.len = 0;
        if (tpl_line(&p->tpl, &tj, &line) || tpl_buf_add(&line, "\n", 1)) {
            r = -ENOMEM;
            break;
        }
        bool b = true;
        if (pool_out_write_tagged(1, line.p, line.len, NULL, 0, &b))
            break;
    }
    tpl_buf_free(&line);
    if (r < 0)
        fprintf(stderr, "ipcbox pool: cannot read input: %s\n", strerror(-r));
    return r < 0 ? 255 : 0;
}

/* Descriptors open now (ours, and whatever we inherited). */
static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n ? n - 1 : 0;   /* not the directory's own */
}

/* The descriptors jobs may use under ulimit -n, and -j lowered to what
 * fits (POOL_FDS_PER_JOB each): jobs then wait for descriptors instead
 * of failing to start. */
static void fd_budget(struct pool *p)
{
    p->max_jobs = p->cfg->jobs;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    size_t used = open_fds() + POOL_FD_RESERVE;
    p->fd_budget = rl.rlim_cur > used ? (size_t)rl.rlim_cur - used : 1;
    size_t fit = p->fd_budget / POOL_FDS_PER_JOB;
    if (fit < 1)
        fit = 1;
    if (fit < p->max_jobs) {
        bool asked_all = p->cfg->jobs_text && !strcmp(p->cfg->jobs_text, "0");
        if (!asked_all)
            fprintf(stderr, "ipcbox pool: only enough file descriptors (ulimit -n %llu) "
                            "for %zu jobs at once\n", (unsigned long long)rl.rlim_cur, fit);
        p->max_jobs = (unsigned)fit;
    }
}

static int setup(struct pool *p, bool *dry)
{
    const struct pool_cfg *c = p->cfg;
    const char *bad = "";
    bool whole = c->bar || c->eta || halt_needs_total(&c->halt);
    int r = pool_input_open(p->in, whole, &bad);
    if (r) {
        fprintf(stderr, "ipcbox pool: cannot read input %s: %s\n", bad, strerror(-r));
        return -1;
    }
    p->total = whole ? pool_input_total(p->in) : 0;
    if (tpl_parse(&p->tpl, c->template)) {
        fprintf(stderr, "ipcbox pool: out of memory\n");
        return -1;
    }
    if (pick_shell(p))
        return -1;
    if (!p->tpl.shell && !exported_function(p->tpl.prog))
        p->prog_path = find_program(p->tpl.prog);
    p->need_line = !p->prog_path || c->joblog || c->verbose || c->bar || c->eta ||
                   c->timeout_ms;
    if (c->joblog && !c->dry_run && open_joblog(p))
        return -1;
    if (c->dry_run) {
        *dry = true;
        return 0;
    }
    p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (p->devnull < 0 || pool_setup_env(p)) {
        fprintf(stderr, "ipcbox pool: cannot set up: %s\n", strerror(errno));
        return -1;
    }
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);   /* ignored here, default in the jobs */
    posix_spawnattr_init(&p->attr);
    posix_spawnattr_setflags(&p->attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                           POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&p->attr, 0);
    posix_spawnattr_setsigmask(&p->attr, &none);
    posix_spawnattr_setsigdefault(&p->attr, &dfl);
    p->slots = calloc(c->jobs, sizeof *p->slots);
    /* a background pool (cmd &) starts with SIGINT ignored: it is ours now */
    signal(SIGINT, SIG_DFL);
    if (!p->slots || ibx_signals_block() || ibx_loop_new(&p->loop) ||
        ibx_loop_signal(p->loop, SIGCHLD, on_chld, p) ||
        ibx_loop_signal(p->loop, SIGINT, on_stop, p) ||
        ibx_loop_signal(p->loop, SIGTERM, on_stop, p) ||
        ibx_loop_signal(p->loop, SIGHUP, on_stop, p)) {
        fprintf(stderr, "ipcbox pool: cannot set up the event loop\n");
        return -1;
    }
    fd_budget(p);
    return 0;
}

int pool_run(const struct pool_cfg *cfg, struct pool_input *in)
{
    struct pool p = {.cfg = cfg, .in = in, .devnull = -1};
    struct progress prog;
    bool dry = false;
    int status = 255;
    if (setup(&p, &dry))
        goto out;
    if (dry) {
        status = dry_run(&p);
        goto out;
    }
    if (cfg->bar || cfg->eta) {
        progress_init(&prog, "pool", true, PROGRESS_ON);
        progress_counting(&prog, "job");
        progress_expect(&prog, p.total > UINT32_MAX ? 0 : (unsigned)p.total, 0, false);
        p.progress = &prog;
    }
    pool_fill(&p);
    /* the signalfd does not keep ibx_loop_run alive: turn it by hand
     * while jobs run (a job is there until reaped and read to EOF) */
    while (p.running) {
        int r = ibx_loop_run_once(p.loop, -1);
        if (r < 0 && r != -EINTR) {
            fprintf(stderr, "ipcbox pool: event loop: %s\n", strerror(-r));
            p.error = true;
            break;
        }
    }
    if (p.progress)
        progress_finish(p.progress);
    status = halt_exit_status(&cfg->halt, &p.hs);
    if (p.stop_signal)
        status = 128 + p.stop_signal;
    else if (p.error)
        status = 255;
out:
    pool_free_jobs(&p);
    free(p.slots);
    if (p.loop)
        ibx_loop_free(p.loop);
    if (p.joblog)
        fclose(p.joblog);
    if (p.devnull >= 0)
        close(p.devnull);
    if (!dry && p.envp)
        posix_spawnattr_destroy(&p.attr);
    free(p.envp);
    free(p.prog_path);
    free(p.shell);
    tpl_buf_free(&p.tag);
    tpl_free(&p.tpl);
    joblog_done_free(&p.done);
    return status;
}
