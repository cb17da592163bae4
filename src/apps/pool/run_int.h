/* Private state shared by run.c (jobs) and ctl.c (signals, timeouts,
 * progress, the run as a whole) of `ipcbox pool`. */
#ifndef IPCBOX_APPS_POOL_RUN_INT_H
#define IPCBOX_APPS_POOL_RUN_INT_H

#include <spawn.h>
#include <stdio.h>
#include <sys/types.h>

#include "ipcbox/loop.h"
#include "pool/joblog.h"
#include "pool/out.h"
#include "pool/pool.h"
#include "progress.h"

struct pool;

/* One job (reused for the next one once printed). */
struct pool_job {
    struct pool *pool;
    struct pool_job *next;     /* free list, or the --keep-order queue */
    uint64_t seq;              /* {#}: its number in the input */
    uint64_t order;            /* among the jobs run (--keep-order) */
    unsigned slot;             /* {%}: 1..jobs */
    unsigned tries;
    /* its values (copied from the input) */
    struct tpl_buf vals;
    const char **v;
    size_t *vlen, nv, nvcap;
    struct tpl_buf line;       /* the command line (shell, log, --verbose) */
    struct tpl_buf words;      /* argv strings when run without a shell */
    char **argv;
    size_t argcap;
    /* the process */
    pid_t pid;                 /* -1 once reaped */
    pid_t pgid;                /* its process group (= the first pid) */
    int status;                /* from waitpid */
    bool spawn_failed, timed_out, killed, lost;
    ibx_timer timer;           /* --timeout, then the grace before KILL */
    double start, runtime;     /* epoch seconds, seconds */
    /* output */
    int fd_out, fd_err;        /* pipe read ends, -1 at EOF */
    ibx_io io_out, io_err;
    struct pool_out out, err;
    size_t mem;                /* bytes held in memory, both streams */
    uint64_t received;         /* stdout bytes (the log's Receive) */
    bool bol_out, bol_err;     /* --line-buffer: at the start of a line */
    long exitval;
    int sig;
};

/* The whole run. */
struct pool {
    const struct pool_cfg *cfg;
    struct pool_input *in;
    ibx_loop *loop;
    struct tpl tpl;
    char *prog_path;           /* the program, when run without a shell */
    char *shell;               /* the shell, when one is needed (pick_shell) */
    bool need_line;            /* build the command line for every job */
    struct pool_job **slots;   /* cfg->jobs of them, NULL when free */
    unsigned running;
    unsigned max_jobs;         /* at once: cfg->jobs, lowered by the fd limit or
                                * when a job could not start for want of fds or
                                * processes */
    struct pool_job *waiting;  /* could not start for that reason: next to go */
    size_t fd_budget;          /* descriptors jobs may use (0: no limit) */
    size_t held_fds;           /* temp files of finished jobs (--keep-order) */
    uint64_t mem_total;        /* output held in memory, every job together */
    struct pool_job *free_jobs;
    struct pool_job *pending;  /* --keep-order: finished, sorted by order */
    size_t npending;
    uint64_t seq, next_order, next_print, total;
    bool input_done, stop_starting, filling, error, out_failed, joblog_failed;
    int signals;               /* SIGINTs seen */
    int stop_signal;           /* the signal that stopped the run, or 0 */
    struct halt_state hs;
    FILE *joblog;
    struct joblog_done done;   /* --resume: sequence numbers to skip */
    char **envp;
    char env_seq[40], env_slot[40];
    int devnull;
    posix_spawnattr_t attr;
    struct tpl_buf tag;        /* scratch for --tag */
    struct progress *progress; /* --bar / --eta, or NULL */
};

/* Start (or restart, for a retry) j, already in its slot. */
void pool_job_start(struct pool *p, struct pool_job *j);
/* Finish j if its process was reaped (reading what its pipes hold). */
void pool_job_check(struct pool *p, struct pool_job *j);
/* Start jobs while slots are free and input lasts. */
void pool_fill(struct pool *p);
/* The environment of jobs: ours plus PARALLEL_SEQ and PARALLEL_JOBSLOT. */
int pool_setup_env(struct pool *p);
/* Free every job structure. */
void pool_free_jobs(struct pool *p);

/* Writing stdout failed with r (0: nothing): the first time, stop the
 * run as --halt now (exit 141 for EPIPE: the reader is gone, else 255). */
void pool_out_error(struct pool *p, int r);
/* --timeout fired (TERM to the group), or its grace ran out (KILL). */
void pool_on_timeout(ibx_loop *loop, ibx_timer *t);
/* Send sig to every running job's group (SIGTERM: KILL after the grace). */
void pool_kill_all(struct pool *p, int sig);
/* --line-buffer: write j's whole lines now (buf NULL, n 0: the rest at
 * EOF). A stdout write error goes to pool_out_error; returns 0, or -errno
 * when the partial line could not be held. */
int pool_line_out(struct pool *p, struct pool_job *j, bool is_out, const char *buf,
                  size_t n);
/* --bar / --eta: a job started, or ended. */
void pool_progress_start(struct pool *p, struct pool_job *j);
/* A job ended (after its retries). */
void pool_progress_job(struct pool *p, struct pool_job *j, bool failed);

#endif
