/* GNU parallel's job log (--joblog), pure: one tab-separated line per
 * finished job under a header line,
 *   Seq Host Starttime JobRuntime Send Receive Exitval Signal Command
 * with Host ":" (this machine), Starttime in seconds since the epoch with
 * three decimals, JobRuntime "%10.3f" (cut, not rounded, to the
 * millisecond), Send 0, Receive the bytes of the job's standard output,
 * Exitval -1 for a job killed by --timeout, Signal the signal that ended
 * it (0: none), and the command line with each newline written as a NUL
 * byte (as parallel does). Reading is for --resume and --resume-failed. */
#ifndef IPCBOX_APPS_POOL_JOBLOG_H
#define IPCBOX_APPS_POOL_JOBLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The header line. */
#define JOBLOG_HEADER "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n"

/* One line of the log. */
struct joblog_rec {
    uint64_t seq;
    double start;         /* seconds since the epoch */
    double runtime;       /* seconds */
    uint64_t send, receive;
    long exitval;
    int sig;
    const char *cmd;      /* not NUL-terminated: cmdlen bytes */
    size_t cmdlen;
};

/* Write r as one line (newline included) into out (cap bytes, NUL
 * terminated when it fits). Returns the line's length, which may exceed
 * cap - 1 (then call again with more room), or -1 on a format error. */
int joblog_format(const struct joblog_rec *r, char *out, size_t cap);

/* Parse one line (without its newline) of a log: fields as written by
 * joblog_format or by parallel; cmd points into line. Returns 0, or
 * -EINVAL when the line is not a job line (the header is not one). */
int joblog_parse(const char *line, size_t len, struct joblog_rec *r);

/* True if the line is the header (what --resume appends below). */
bool joblog_is_header(const char *line, size_t len);

/* The sequence numbers a log says need not run again, from the whole log
 * text buf[0..len): every job line for --resume, or only those that
 * succeeded (Exitval 0 and Signal 0) when failed_too is set
 * (--resume-failed). Sorted, duplicates removed. */
struct joblog_done {
    uint64_t *seq;
    size_t n, cap;
};

/* Fill d from a log (d zeroed first). A last line without a newline that
 * does not parse is a record cut short and is skipped (its job runs
 * again). Returns 0, -ENOMEM, or -EINVAL with *bad_line set to the
 * 1-based number of another line that is neither the header nor a job
 * line. */
int joblog_read(const char *buf, size_t len, bool failed_too, struct joblog_done *d,
                size_t *bad_line);
/* How much of a log to keep before appending to it: all of it, or up to
 * its last newline when the line after it is a record cut short. */
size_t joblog_keep(const char *buf, size_t len);
/* True if seq is in d (binary search). */
bool joblog_done_has(const struct joblog_done *d, uint64_t seq);
/* Free d's array. */
void joblog_done_free(struct joblog_done *d);

#endif
