/* The decisions of `ipcbox pool` that are pure arithmetic on its options,
 * kept apart so they are unit-tested against GNU parallel's numbers:
 * how many jobs run at once (-j), the --timeout value, when to halt
 * (--halt) and the exit status. */
#ifndef IPCBOX_APPS_POOL_POLICY_H
#define IPCBOX_APPS_POOL_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Most jobs at once (-j 0 means this many, as "unlimited"). */
#define POOL_JOBS_MAX 4096

/* -j: "N" (0 = POOL_JOBS_MAX), "+N" / "-N" (CPUs plus or minus N, at
 * least 1), "N%" (that share of the CPUs, at least 1). Returns 0 and
 * *out, or -EINVAL. */
int pool_parse_jobs(const char *s, unsigned cpus, unsigned *out);
/* --timeout: seconds, a decimal fraction allowed ("0.5"), > 0, at most a
 * day. Returns 0 and *ms (at least 1), or -EINVAL. */
int pool_parse_seconds(const char *s, uint64_t *ms);

/* When to halt. */
enum halt_when { HALT_NEVER, HALT_SOON, HALT_NOW };
/* What is counted. */
enum halt_why { HALT_FAIL, HALT_SUCCESS, HALT_DONE };

/* A --halt specification. */
struct halt {
    enum halt_when when;
    enum halt_why why;
    bool pct;             /* value is a percentage of all jobs */
    double value;         /* a count, or a percentage */
};

/* Parse --halt: never | now|soon,fail|success|done=N|N% | the short forms
 * 0, 1, 2, -1, -2 and N% (as parallel). Returns 0 or -EINVAL. */
int halt_parse(const char *s, struct halt *h);
/* True when the halt condition needs the total number of jobs up front. */
static inline bool halt_needs_total(const struct halt *h)
{
    return h->when != HALT_NEVER && h->pct;
}

/* Running counts for the halt decision and the exit status. */
struct halt_state {
    uint64_t started, completed, failed;
    bool halting;          /* the condition held: start nothing more */
    bool have_status;
    int status;            /* exit status the halt decided */
};

/* A job ended (after its last retry): exitval -1 for a timeout, sig the
 * signal that ended it. total is the number of jobs (for percentages).
 * Returns true the first time the condition holds (then h->when says
 * whether to kill the running jobs). */
bool halt_job_done(const struct halt *h, struct halt_state *st, long exitval, int sig,
                   uint64_t total);
/* The exit status when everything is over: the number of failed jobs,
 * at most 101; with --halt what the halt decided (the failed job's own
 * status for fail=1, 0 for success=..., a percentage for N%). */
int halt_exit_status(const struct halt *h, const struct halt_state *st);

#endif
