/* `ipcbox pool`: run a command for every input argument, several at once,
 * GNU parallel style (see main.c for the options). run.c drives the jobs
 * on the event loop: started with posix_spawn in a process group of their
 * own, output read from pipes and held per job (out.c), written when the
 * job ends (or line by line), a job log (joblog.c), timeouts, retries and
 * halting (policy.c). */
#ifndef IPCBOX_APPS_POOL_POOL_H
#define IPCBOX_APPS_POOL_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opt.h"
#include "pool/input.h"
#include "pool/policy.h"
#include "pool/template.h"

/* Default bound of a job's output held in memory (then a temp file). */
#define POOL_MAX_BUFFER (1024 * 1024)
/* Default bound of the output of all jobs together held in memory. */
#define POOL_MAX_MEMORY (64 * 1024 * 1024)
/* Descriptors a job may use: two pipes, two temporary files. */
#define POOL_FDS_PER_JOB 4
/* Descriptors kept for pool itself beyond those open at start. */
#define POOL_FD_RESERVE 16
/* After SIGTERM (timeout, halt, second SIGINT) a job's group gets this
 * long before SIGKILL. */
#define POOL_KILL_GRACE_MS 1000

/* Exit value logged for a job that succeeded but whose output could not
 * be held (no temporary file: disk full, no descriptors): it counts as
 * failed, so --retries and --resume-failed run it again. */
#define POOL_LOST_EXIT 255

/* What the command line asks. */
struct pool_cfg {
    const char *jobs_text;    /* -j as given ("4", "+1", "50%") */
    unsigned jobs;            /* resolved */
    bool keep_order, tag, line_buffer, null_sep, bar, eta, dry_run, verbose;
    bool resume, resume_failed, will_cite, group;
    struct opt_strv argfiles; /* -a FILE ... */
    uint64_t timeout_ms;      /* 0: none */
    unsigned retries;         /* attempts in all (0 and 1: one) */
    struct halt halt;
    const char *joblog;
    uint64_t max_buffer;
    uint64_t max_memory;      /* all jobs' held output in memory */
    const char *tmpdir;
    const char *template;     /* the command, words joined by spaces */
};

/* Run every job of in with cfg; returns the exit status (GNU parallel's:
 * failed jobs capped at 101, or what --halt decided; 255 on errors). */
int pool_run(const struct pool_cfg *cfg, struct pool_input *in);

#endif
