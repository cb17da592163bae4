/* `ipcbox pool`'s jobs on the event loop (see pool.h).
 *
 * A job is started with posix_spawn (vfork semantics: nothing of ours is
 * copied) in a process group of its own, stdin from /dev/null, stdout and
 * stderr into two pipes the loop reads. It is over when its process was
 * reaped (SIGCHLD through signalfd): what its pipes hold then is read and
 * they are closed, so a process it left in the background that still
 * holds them (cmd &) does not hold the job. Then it is retried,
 * logged, counted for --halt, and its output written: at once, or in
 * input order with --keep-order. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/loop.h"
#include "pool/joblog.h"
#include "pool/out.h"
#include "pool/pool.h"
#include "pool/run_int.h"

extern char **environ;

/* ---- job structures ------------------------------------------------------- */

static struct pool_job *job_get(struct pool *p)
{
    struct pool_job *j = p->free_jobs;
    if (j) {
        p->free_jobs = j->next;
    } else {
        j = calloc(1, sizeof *j);
        if (!j)
            return NULL;
        pool_out_init(&j->out);
        pool_out_init(&j->err);
    }
    j->next = NULL;
    j->pool = p;
    j->fd_out = j->fd_err = -1;
    j->pid = -1;
    j->tries = 0;
    return j;
}

/* Output j holds in memory no longer counts (printed, or a new attempt). */
static void job_release_mem(struct pool *p, struct pool_job *j)
{
    p->mem_total -= j->mem;
    j->mem = 0;
}

static size_t spill_fds(const struct pool_job *j)
{
    return (size_t)(j->out.spill >= 0) + (size_t)(j->err.spill >= 0);
}

static void job_put(struct pool *p, struct pool_job *j)
{
    job_release_mem(p, j);
    pool_out_reset(&j->out);
    pool_out_reset(&j->err);
    j->vals.len = 0;
    j->line.len = 0;
    if (j->vals.cap > 65536)
        tpl_buf_free(&j->vals);
    if (j->line.cap > 65536)
        tpl_buf_free(&j->line);
    j->next = p->free_jobs;
    p->free_jobs = j;
}

static void job_free(struct pool_job *j)
{
    pool_out_free(&j->out);
    pool_out_free(&j->err);
    tpl_buf_free(&j->vals);
    tpl_buf_free(&j->line);
    tpl_buf_free(&j->words);
    free(j->v);
    free(j->vlen);
    free(j->argv);
    free(j);
}

/* Copy the input's current combination into j (it outlives the input's
 * next step: retries, --tag, the log). */
static int job_set_values(struct pool_job *j, const struct pool_input *in)
{
    if (j->nvcap < in->nsrc) {
        const char **v = realloc(j->v, in->nsrc * sizeof *v);
        if (!v)
            return -ENOMEM;
        j->v = v;
        size_t *l = realloc(j->vlen, in->nsrc * sizeof *l);
        if (!l)
            return -ENOMEM;
        j->vlen = l;
        j->nvcap = in->nsrc;
    }
    j->nv = in->nsrc;
    j->vals.len = 0;
    for (size_t k = 0; k < in->nsrc; k++) {
        if (tpl_buf_add(&j->vals, in->cur[k], in->curlen[k]) ||
            tpl_buf_add(&j->vals, "", 1))
            return -ENOMEM;
        j->vlen[k] = in->curlen[k];
    }
    size_t off = 0;
    for (size_t k = 0; k < in->nsrc; k++) {
        j->v[k] = j->vals.p + off;
        off += j->vlen[k] + 1;
    }
    return 0;
}

static struct tpl_job tjob(const struct pool_job *j)
{
    return (struct tpl_job){.v = j->v, .vlen = j->vlen, .nv = j->nv, .seq = j->seq,
                            .slot = j->slot};
}

/* ---- output ------------------------------------------------------------------ */

/* The tag of j (its values joined by spaces, then a tab) into p->tag. */
static void make_tag(struct pool *p, const struct pool_job *j)
{
    p->tag.len = 0;
    for (size_t k = 0; k < j->nv; k++) {
        if (k && tpl_buf_add(&p->tag, " ", 1))
            return;
        if (tpl_buf_add(&p->tag, j->v[k], j->vlen[k]))
            return;
    }
    tpl_buf_add(&p->tag, "\t", 1);
}

void pool_out_error(struct pool *p, int r)
{
    if (!r || p->out_failed)
        return;
    /* nobody gets the output of further jobs: stop as --halt now does */
    p->out_failed = true;
    p->stop_starting = true;
    if (r == -EPIPE) {
        p->stop_signal = SIGPIPE;   /* exit 141, as a writer killed by SIGPIPE */
    } else {
        fprintf(stderr, "ipcbox pool: cannot write output: %s\n", strerror(-r));
        p->error = true;
    }
    pool_kill_all(p, SIGTERM);
}

/* Write j's held output: the command (--verbose), stdout, stderr. */
static void print_job(struct pool *p, struct pool_job *j)
{
    const char *tag = NULL;
    size_t taglen = 0;
    if (p->cfg->tag) {
        make_tag(p, j);
        tag = p->tag.p;
        taglen = p->tag.len;
    }
    if (p->cfg->verbose && !p->cfg->line_buffer) {
        bool b = true;
        pool_out_error(p, pool_out_write_tagged(1, j->line.p, j->line.len, NULL, 0, &b));
        pool_out_error(p, pool_out_write_tagged(1, "\n", 1, NULL, 0, &b));
    }
    if (p->out_failed)
        return;
    bool bol = true;
    pool_out_error(p, pool_out_print(&j->out, 1, tag, taglen, &bol));
    bol = true;
    int r = pool_out_print(&j->err, 2, tag, taglen, &bol);
    (void)r;   /* stderr we cannot write to is not worth stopping for */
}

/* Write every finished job whose turn it is (--keep-order). */
static void flush_ordered(struct pool *p)
{
    while (p->pending && p->pending->order == p->next_print) {
        struct pool_job *j = p->pending;
        p->pending = j->next;
        p->npending--;
        p->held_fds -= spill_fds(j);
        p->next_print++;
        print_job(p, j);
        job_put(p, j);
    }
}

static void hold_ordered(struct pool *p, struct pool_job *j)
{
    struct pool_job **at = &p->pending;
    while (*at && (*at)->order < j->order)
        at = &(*at)->next;
    j->next = *at;
    *at = j;
    p->npending++;
    p->held_fds += spill_fds(j);
    flush_ordered(p);
}

/* ---- finishing ------------------------------------------------------------- */

static double now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_joblog(struct pool *p, struct pool_job *j)
{
    struct joblog_rec r = {.seq = j->seq, .start = j->start, .runtime = j->runtime,
                           .receive = j->received, .exitval = j->exitval, .sig = j->sig,
                           .cmd = j->line.p, .cmdlen = j->line.len};
    char small[512];
    int n = joblog_format(&r, small, sizeof small);
    if (n < 0)
        return;
    char *buf = small;
    if ((size_t)n >= sizeof small) {
        buf = malloc((size_t)n + 1);
        if (!buf)
            return;
        joblog_format(&r, buf, (size_t)n + 1);
    }
    if (fwrite(buf, 1, (size_t)n, p->joblog) != (size_t)n || fflush(p->joblog))
        if (!p->joblog_failed) {
            p->joblog_failed = true;
            fprintf(stderr, "ipcbox pool: cannot write the job log %s: %s\n",
                    p->cfg->joblog, strerror(errno));
        }
    if (buf != small)
        free(buf);
}

static void job_finished(struct pool *p, struct pool_job *j)
{
    ibx_timer_stop(p->loop, &j->timer);
    p->slots[j->slot - 1] = NULL;
    p->running--;
    j->runtime = now_real() - j->start;
    if (WIFSIGNALED(j->status)) {
        j->exitval = 0;
        j->sig = WTERMSIG(j->status);
    } else {
        j->exitval = WEXITSTATUS(j->status);
        j->sig = 0;
    }
    if (j->spawn_failed)
        j->exitval = 127;
    if (j->timed_out)
        j->exitval = -1;
    else if (j->lost && !j->exitval && !j->sig)
        j->exitval = POOL_LOST_EXIT;   /* its output is not whole: not a success */
    bool failed = j->exitval || j->sig;
    if (failed && j->tries < p->cfg->retries && !p->stop_starting && !p->hs.halting) {
        /* again, in the same slot; only the last attempt's output counts */
        pool_out_reset(&j->out);
        pool_out_reset(&j->err);
        p->slots[j->slot - 1] = j;
        p->running++;
        pool_job_start(p, j);
        return;
    }
    if (p->joblog)
        write_joblog(p, j);
    if (p->progress)
        pool_progress_job(p, j, failed);
    if (halt_job_done(&p->cfg->halt, &p->hs, j->exitval, j->sig, p->total)) {
        p->stop_starting = true;
        if (p->cfg->halt.when == HALT_NOW)
            pool_kill_all(p, SIGTERM);
    }
    if (p->cfg->keep_order) {
        hold_ordered(p, j);
    } else {
        if (!p->cfg->line_buffer)
            print_job(p, j);
        job_put(p, j);
    }
    pool_fill(p);
}

/* ---- reading --------------------------------------------------------------- */

/* n bytes read from one of j's pipes. */
static void take_output(struct pool *p, struct pool_job *j, bool is_out, const char *buf,
                        size_t n)
{
    if (is_out)
        j->received += (uint64_t)n;
    int r;
    size_t before = j->mem;
    if (p->cfg->line_buffer && !p->cfg->keep_order) {
        r = pool_line_out(p, j, is_out, buf, n);
    } else {
        /* the job's own bound, and what is left of the run's */
        uint64_t room = p->mem_total < p->cfg->max_memory ? p->cfg->max_memory - p->mem_total : 0;
        uint64_t bound = p->cfg->max_buffer;
        if (j->mem + room < bound)
            bound = j->mem + room;
        r = pool_out_add(is_out ? &j->out : &j->err, buf, n, &j->mem, (size_t)bound,
                         p->cfg->tmpdir);
    }
    p->mem_total = p->mem_total - before + j->mem;
    if (r && !j->lost) {
        j->lost = true;
        fprintf(stderr, "ipcbox pool: job %llu: output lost: %s\n",
                (unsigned long long)j->seq, strerror(-r));
    }
}

/* One of j's pipes is done with: at end of file, or its process was
 * reaped and what it wrote has been read. */
static void close_pipe(struct pool *p, struct pool_job *j, bool is_out)
{
    int *fd = is_out ? &j->fd_out : &j->fd_err;
    if (p->cfg->line_buffer && !p->cfg->keep_order) {
        size_t before = j->mem;
        pool_line_out(p, j, is_out, NULL, 0);   /* the last partial line */
        p->mem_total = p->mem_total - before + j->mem;
    }
    ibx_io_stop(p->loop, is_out ? &j->io_out : &j->io_err);
    close(*fd);
    *fd = -1;
}

static void on_pipe(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct pool_job *j = io->data;
    struct pool *p = j->pool;
    bool is_out = io == &j->io_out;
    int fd = is_out ? j->fd_out : j->fd_err;
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n > 0) {
        take_output(p, j, is_out, buf, (size_t)n);
        return;
    }
    close_pipe(p, j, is_out);
    pool_job_check(p, j);
}

/* j's process was reaped but a pipe is still open: something it left
 * behind (cmd &, a daemon) holds the write end. Take what is in the pipe
 * now (everything the job wrote: it is dead) and no more, then close it,
 * so the job ends with its process, as in GNU parallel, and --timeout
 * bounds it even when the holder left the process group. */
static void drain_pipe(struct pool *p, struct pool_job *j, bool is_out)
{
    int fd = is_out ? j->fd_out : j->fd_err;
    int avail = 0;
    if (ioctl(fd, FIONREAD, &avail) < 0)
        avail = 0;
    char buf[65536];
    while (avail > 0) {
        ssize_t n = read(fd, buf, (size_t)avail < sizeof buf ? (size_t)avail : sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        take_output(p, j, is_out, buf, (size_t)n);
        avail -= (int)n;
    }
    close_pipe(p, j, is_out);
}

void pool_job_check(struct pool *p, struct pool_job *j)
{
    if (j->pid >= 0)
        return;
    if (j->fd_out >= 0)
        drain_pipe(p, j, true);
    if (j->fd_err >= 0)
        drain_pipe(p, j, false);
    job_finished(p, j);
}

/* ---- starting -------------------------------------------------------------- */

static int lowest_free_slot(const struct pool *p)
{
    for (unsigned i = 0; i < p->cfg->jobs; i++)
        if (!p->slots[i])
            return (int)i + 1;
    return -1;
}

static void set_env(struct pool *p, const struct pool_job *j)
{
    snprintf(p->env_seq, sizeof p->env_seq, "PARALLEL_SEQ=%llu",
             (unsigned long long)j->seq);
    snprintf(p->env_slot, sizeof p->env_slot, "PARALLEL_JOBSLOT=%u", j->slot);
}

/* j could not start for want of descriptors or processes (err) while
 * others run: it goes first when one of them ends, and no more than
 * those run at once from now on (as GNU parallel lowers -j). */
static void requeue(struct pool *p, struct pool_job *j, int err)
{
    p->slots[j->slot - 1] = NULL;
    p->running--;
    j->tries--;
    j->next = p->waiting;
    p->waiting = j;
    if (p->max_jobs > p->running) {
        p->max_jobs = p->running;
        fprintf(stderr, "ipcbox pool: cannot start more jobs (%s): running at most %u at "
                        "once\n", strerror(err), p->max_jobs);
    }
}

void pool_job_start(struct pool *p, struct pool_job *j)
{
    struct tpl_job tj = tjob(j);
    j->tries++;
    job_release_mem(p, j);
    j->received = 0;
    j->timed_out = j->spawn_failed = j->lost = j->killed = false;
    j->pgid = -1;
    j->bol_out = j->bol_err = true;
    j->status = 0;
    char *const *argv;
    char *sh_argv[4] = {p->shell, "-c", NULL, NULL};
    if (p->tpl.shell || !p->prog_path) {
        sh_argv[2] = j->line.p;
        argv = sh_argv;
    } else {
        j->words.len = 0;
        long n = tpl_words(&p->tpl, &tj, &j->words);
        if (n < 0 || (size_t)n + 1 > j->argcap) {
            size_t cap = n > 0 ? (size_t)n + 8 : 8;
            char **a = n < 0 ? NULL : realloc(j->argv, cap * sizeof *a);
            if (!a)
                goto fail;
            j->argv = a;
            j->argcap = cap;
        }
        char *w = j->words.p;
        for (long i = 0; i < n; i++) {
            j->argv[i] = w;
            w += strlen(w) + 1;
        }
        j->argv[n] = NULL;
        argv = j->argv;
    }
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0)
        goto fail_pipes;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p->devnull, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    set_env(p, j);
    j->start = now_real();
    pid_t pid;
    int r = posix_spawn(&pid, argv == sh_argv ? p->shell : p->prog_path, &fa, &p->attr,
                        argv, p->envp);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (r) {
        close(po[0]);
        close(pe[0]);
        errno = r;
        goto fail;
    }
    j->pid = j->pgid = pid;
    fcntl(po[0], F_SETFL, O_NONBLOCK);   /* drain_pipe never waits */
    fcntl(pe[0], F_SETFL, O_NONBLOCK);
    j->fd_out = po[0];
    j->fd_err = pe[0];
    if (ibx_io_start(p->loop, &j->io_out, j->fd_out, IBX_EV_READ, on_pipe, j) ||
        ibx_io_start(p->loop, &j->io_err, j->fd_err, IBX_EV_READ, on_pipe, j)) {
        fprintf(stderr, "ipcbox pool: cannot watch job %llu's output\n",
                (unsigned long long)j->seq);
        p->error = true;
    }
    if (p->cfg->timeout_ms)
        ibx_timer_start(p->loop, &j->timer, p->cfg->timeout_ms, pool_on_timeout, j);
    return;
fail_pipes:
    for (int i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
    }
fail:
    if ((errno == EMFILE || errno == ENFILE || errno == EAGAIN) && p->running > 1) {
        requeue(p, j, errno);
        return;
    }
    fprintf(stderr, "ipcbox pool: cannot start job %llu: %s\n",
            (unsigned long long)j->seq, strerror(errno));
    j->start = now_real();
    j->spawn_failed = true;
    j->pid = -1;
    pool_job_check(p, j);
}

/* j takes the lowest free slot and its command line ({%} is the slot). */
static int job_place(struct pool *p, struct pool_job *j)
{
    j->slot = (unsigned)lowest_free_slot(p);
    struct tpl_job tj = tjob(j);
    j->line.len = 0;
    if ((p->need_line && tpl_line(&p->tpl, &tj, &j->line)) || tpl_buf_add(&j->line, "", 0))
        return -ENOMEM;
    p->slots[j->slot - 1] = j;
    p->running++;
    return 0;
}

/* May another job start? One always may when none runs (so the run goes
 * on); else within -j (as lowered) and the descriptor budget: every
 * running job may come to hold POOL_FDS_PER_JOB, finished jobs waiting
 * for their turn (--keep-order) hold their temporary files. */
static bool can_start(const struct pool *p)
{
    if (p->stop_starting)
        return false;
    if (!p->running)
        return true;
    if (p->running >= p->max_jobs)
        return false;
    return !p->fd_budget ||
           POOL_FDS_PER_JOB * ((size_t)p->running + 1) + p->held_fds <= p->fd_budget;
}

static void fill_fail(struct pool *p)
{
    fprintf(stderr, "ipcbox pool: out of memory\n");
    p->error = true;
    p->stop_starting = true;
}

/* Start jobs while slots are free and input lasts. */
void pool_fill(struct pool *p)
{
    if (p->filling)
        return;   /* a job that failed to start finishes inside */
    p->filling = true;
    size_t backlog = 16 * (size_t)p->cfg->jobs < 64 ? 64 : 16 * (size_t)p->cfg->jobs;
    while (p->waiting && can_start(p)) {
        struct pool_job *j = p->waiting;
        p->waiting = j->next;
        j->next = NULL;
        if (job_place(p, j)) {
            job_put(p, j);
            fill_fail(p);
            break;
        }
        pool_job_start(p, j);
    }
    while (!p->waiting && !p->input_done && can_start(p) && p->npending < backlog) {
        int r = pool_input_next(p->in);
        if (r <= 0) {
            if (r < 0) {
                fprintf(stderr, "ipcbox pool: cannot read input: %s\n", strerror(-r));
                p->error = true;
            }
            p->input_done = true;
            break;
        }
        uint64_t seq = ++p->seq;
        if (p->done.n && joblog_done_has(&p->done, seq))
            continue;
        struct pool_job *j = job_get(p);
        if (!j || job_set_values(j, p->in)) {
            if (j)
                job_put(p, j);
            fill_fail(p);
            break;
        }
        j->seq = seq;
        j->order = p->next_order++;
        if (job_place(p, j)) {
            job_put(p, j);
            fill_fail(p);
            break;
        }
        p->hs.started++;
        if (p->cfg->verbose && p->cfg->line_buffer && !p->cfg->keep_order) {
            bool b = true;
            pool_out_error(p, pool_out_write_tagged(1, j->line.p, j->line.len, NULL, 0, &b));
            pool_out_error(p, pool_out_write_tagged(1, "\n", 1, NULL, 0, &b));
        }
        if (p->progress)
            pool_progress_start(p, j);
        pool_job_start(p, j);
    }
    p->filling = false;
}

/* ---- set-up ---------------------------------------------------------------- */

int pool_setup_env(struct pool *p)
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    p->envp = calloc(n + 3, sizeof *p->envp);
    if (!p->envp)
        return -ENOMEM;
    size_t k = 0;
    p->envp[k++] = p->env_seq;
    p->envp[k++] = p->env_slot;
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "PARALLEL_SEQ=", 13) && strncmp(*e, "PARALLEL_JOBSLOT=", 17))
            p->envp[k++] = *e;
    p->envp[k] = NULL;
    return 0;
}

void pool_free_jobs(struct pool *p)
{
    while (p->free_jobs) {
        struct pool_job *j = p->free_jobs;
        p->free_jobs = j->next;
        job_free(j);
    }
    while (p->pending) {
        struct pool_job *j = p->pending;
        p->pending = j->next;
        job_free(j);
    }
    while (p->waiting) {
        struct pool_job *j = p->waiting;
        p->waiting = j->next;
        job_free(j);
    }
    for (unsigned i = 0; p->slots && i < p->cfg->jobs; i++)
        if (p->slots[i])
            job_free(p->slots[i]);
}
