/* Progress display of the clients (send, get, tftp), on stderr.
 *
 * A job is one or more files; the caller reports what it expects (when it
 * knows), each file's start, its bytes and its end, and the module shows:
 *  - on a terminal, one line redrawn in place (\r, then ESC[K to clear
 *    what a longer line left) at most PROGRESS_TTY_MS apart: for a
 *    multi-file job the whole job (files done/total, skipped and failed
 *    files, bytes done/total, rate, ETA) and the current file's name; for
 *    a single transfer its bytes, a bar, the rate and the ETA. The line
 *    is fitted to the terminal's width (read with TIOCGWINSZ at every
 *    redraw, so a resized window is followed without a SIGWINCH handler
 *    that would interrupt the clients' blocking calls), never more than
 *    width - 1 columns: less important fields are left out first and the
 *    file name is shortened from the left ("...dir/name.bin");
 *  - otherwise (a file, a pipe) one plain line every PROGRESS_PLAIN_MS,
 *    never a \r;
 *  - at the end one summary line (on a terminal fitted like the others).
 * A file the peer already has (unchanged) is counted as skipped: it never
 * shows as a transfer of its own. Messages the caller prints meanwhile go
 * through progress_clear() first so they do not land inside the line. */
#ifndef IPCBOX_APPS_PROGRESS_H
#define IPCBOX_APPS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

/* Least time between two redraws on a terminal (at most ten a second). */
#define PROGRESS_TTY_MS 100
/* Time between two plain progress lines when stderr is not a terminal. */
#define PROGRESS_PLAIN_MS 5000
/* Width assumed when the terminal does not say. */
#define PROGRESS_DEFAULT_COLS 80

/* What the user asked for. */
enum progress_mode {
    PROGRESS_QUIET,     /* nothing (--quiet) */
    PROGRESS_SUMMARY,   /* the summary line only (--no-progress) */
    PROGRESS_ON,        /* progress and summary (default) */
};

/* How a file ended. */
enum progress_end {
    PROGRESS_OK,        /* transferred (perhaps resumed) and verified */
    PROGRESS_UNCHANGED, /* the peer had it already: skipped */
    PROGRESS_NOT_OK,    /* failed: the caller counts it (progress_fail) */
};

/* The state of one job's display. Fill it with progress_init(). */
struct progress {
    /* output */
    int fd;                 /* 2 */
    enum progress_mode mode;
    bool tty;               /* redraw in place */
    bool multi;             /* a job of files (send, get), not one transfer */
    const char *unit;       /* what a multi job counts ("file"; "job" for
                               pool): progress_counting */
    bool count_only;        /* no bytes: percentage, rate and ETA from counts */
    bool drawn;             /* a progress line is on the terminal */
    const char *verb;       /* "send", "get", "tftp get" */
    uint64_t t0;            /* ns, CLOCK_MONOTONIC */
    uint64_t next_draw;     /* ns: no redraw before */
    uint64_t next_plain;    /* ns: no plain line before */
    /* the job */
    unsigned files_total;   /* expected, 0 = unknown */
    uint64_t bytes_total;   /* expected, if bytes_known */
    bool bytes_known;
    unsigned ok, unchanged, failed, resumed;
    uint64_t bytes_done;    /* of ended files: sent, resumed or skipped */
    uint64_t moved;         /* bytes that crossed the wire */
    uint64_t resumed_bytes; /* not sent thanks to a resume */
    /* the current file */
    char name[256];         /* the current (or last) file's name, or its
                               tail when longer; "" before the first */
    bool in_file;           /* between progress_file_begin and _end */
    uint64_t file_size;
    bool file_size_known;
    uint64_t file_pos;      /* bytes of it done, resumed prefix included */
    /* rate: moved bytes per second, smoothed */
    uint64_t rate_t, rate_moved;
    double rate;
    char note[128];         /* appended to the summary (see progress_note) */
};

/* Start a job of verb ("send"; shown in plain lines and the summary):
 * multi for a job of files, counted; mode as asked. Output goes to fd 2;
 * it redraws in place when fd 2 is a terminal. */
void progress_init(struct progress *p, const char *verb, bool multi,
                   enum progress_mode mode);
/* A multi job of things that are counted, not measured in bytes (pool's
 * jobs): lines and summary say unit ("job", plural with an s) and take
 * percentage, rate and ETA from the counts. Call after progress_init. */
void progress_counting(struct progress *p, const char *unit);
/* What the job holds, when known before it runs: files (0 = unknown) and
 * bytes (bytes_known false = unknown). */
void progress_expect(struct progress *p, unsigned files, uint64_t bytes,
                     bool bytes_known);
/* A file starts: name (copied), its size
 * when known, and pos bytes that need not move (a resumed prefix). */
void progress_file_begin(struct progress *p, const char *name, uint64_t size,
                         bool size_known, uint64_t pos);
/* n more bytes of the current file crossed the wire. */
void progress_add(struct progress *p, uint64_t n);
/* The current file has pos bytes done (for callers that count totals). */
void progress_set(struct progress *p, uint64_t pos);
/* Redraw if due (for callers that wait without moving bytes). */
void progress_tick(struct progress *p);
/* The current file ended; resumed_from is the offset it resumed at. A
 * failure is counted by progress_fail(), not here. */
void progress_file_end(struct progress *p, enum progress_end how,
                       uint64_t resumed_from);
/* A file failed (before or after it started). */
void progress_fail(struct progress *p);
/* Take the progress line off the terminal before printing something
 * else on stderr; the next update draws it again. */
void progress_clear(struct progress *p);
/* Extra text for the end of the summary line (e.g. tftp's block size and
 * retransmissions); the first to go when the line is too wide. */
void progress_note(struct progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The job ended: take the progress line away and print the summary
 * (multi: "VERB: N files: N ok, N unchanged, N resumed (SIZE skipped),
 * N failed; SIZE in T s (RATE)"; one transfer: "VERB NAME: SIZE in T s
 * (RATE)", only when it succeeded). */
void progress_finish(struct progress *p);

/* The progress line for a terminal of width columns at time now (ns), at
 * most width - 1 columns (width <= 0: no limit, as for plain lines), into
 * out (size bytes). Returns its length in bytes. For tests. */
int progress_line(const struct progress *p, uint64_t now, int width, char *out,
                  unsigned size);
/* The summary line fitted likewise (full form when width <= 0). For tests. */
int progress_summary(const struct progress *p, uint64_t now, int width,
                     char *out, unsigned size);

/* "1.5 GiB" style (binary units, one decimal above bytes). */
char *progress_fmt_bytes(double n, char *buf, unsigned size);

#endif
