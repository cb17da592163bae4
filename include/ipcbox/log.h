/* ipcbox levelled logging. A logger is a small value owned by the
 * application and passed down; there is no global logger. Each line is
 * formatted into one buffer and written with one write(), so lines from
 * several threads or processes never interleave. Format (docs/logging.md):
 *
 *   2026-11-22T16:05:54.123Z info echo[1234]: msg="listening on 127.0.0.1:7007" proto=tcp
 *
 * TIMESTAMP (UTC, ISO 8601, milliseconds) LEVEL IDENT[PID]: then logfmt
 * fields `key=value` separated by one space; a value with a space, '=',
 * '"', '\' or a control byte is quoted, with '"' and '\' escaped as \"
 * and \\ and control bytes as \n, \r, \t or \xHH. The library does the
 * quoting, so text from a peer (a file name, a header, a script's stderr)
 * can neither end the line nor add a field of its own.
 *
 * The format string of ibx_log_write() is one of two kinds:
 *  - a logfmt template, when it starts with a key and '=' (a key is made
 *    of letters, digits, '_', '.' and '-'):
 *        ibx_info(log, "msg=\"stored %s\" peer=%s bytes=%llu", path, peer, n);
 *    Fields are separated by single spaces. A value is literal text,
 *    conversions, or both ("time=%.3fs"); the library quotes it if what it
 *    became needs quotes. A value written in quotes in the template
 *    ("msg=\"stored %s\"") stays quoted and what its conversions produce
 *    is escaped. Keys are literal text.
 *  - free text, anything else: the whole formatted text becomes one
 *    field msg="...":  ibx_warn(log, "disk full") -> msg="disk full".
 * Either way the result is valid logfmt, and the printf format checking
 * of the compiler applies (the template is a printf format). */
#ifndef IPCBOX_LOG_H
#define IPCBOX_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Severity, most severe first. */
enum ibx_log_level {
    IBX_LOG_ERROR = 0,
    IBX_LOG_WARN,
    IBX_LOG_INFO,
    IBX_LOG_DEBUG,
};

/* A logger: where lines go, which are kept, and how they are tagged. */
typedef struct ibx_log {
    int fd;                  /* destination, usually 2 */
    enum ibx_log_level level;/* lines above this level are dropped */
    const char *ident;       /* tag, e.g. the applet name */
    bool timestamps;         /* prefix an ISO-8601 UTC timestamp */
    int syslog_facility;     /* 0: plain lines to fd; else fd is a datagram
                              * socket to syslog (ibx_log_open_syslog) and
                              * each line is one RFC 3164 message of this
                              * facility (LOG_DAEMON ...) */
} ibx_log;

/* A logger to stderr at info level with timestamps. */
void ibx_log_init(ibx_log *log, const char *ident);
/* Open path for appending (created 0644 if missing) and make it log's
 * destination (the descriptor is close-on-exec; the one log had before is
 * not closed). Returns 0 or -errno. */
int ibx_log_open_file(ibx_log *log, const char *path);
/* Reopen path in place, for log rotation (SIGHUP): the new file takes
 * over log->fd with dup3(), so every thread and every copy of the logger
 * switches at once, and nothing is lost in between. Returns 0 or -errno
 * (log->fd then still writes to the old file). */
int ibx_log_reopen_file(const ibx_log *log, const char *path);
/* Send log's lines to the local syslog daemon (/dev/log, or path if not
 * NULL) with the given facility (LOG_DAEMON ...): one datagram per line,
 * severity from the level. Returns 0 or -errno (-ENOENT: no syslog here). */
int ibx_log_open_syslog(ibx_log *log, int facility, const char *path);
/* Escape n bytes of src as the inside of a quoted logfmt value into dst
 * (cap bytes, NUL-terminated; an escape is never cut). Returns the length
 * written. */
size_t ibx_log_escape(char *dst, size_t cap, const char *src, size_t n);
/* log tagged ident instead, as a copy in *out (a NULL log stays NULL):
 * for the lines about one service of several sharing a logger (serve).
 * The copy writes to the same descriptor. */
static inline const ibx_log *ibx_log_as(const ibx_log *log, const char *ident,
                                        ibx_log *out)
{
    if (!log)
        return NULL;
    *out = *log;
    out->ident = ident;
    return out;
}
/* Parse "error", "warn", "info" or "debug". Returns 0 or -EINVAL. */
int ibx_log_level_parse(const char *s, enum ibx_log_level *out);
/* True if a line at level would be written (to skip costly formatting). */
static inline bool ibx_log_enabled(const ibx_log *log, enum ibx_log_level level)
{
    return log && level <= log->level;
}
/* Write one line: fmt is a logfmt template or free text (see the top of
 * this file); a trailing newline is added, an over-long line is cut at a
 * field boundary and ends with truncated=true. A NULL log drops it. */
void ibx_log_write(const ibx_log *log, enum ibx_log_level level,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* va_list form of ibx_log_write. */
void ibx_log_vwrite(const ibx_log *log, enum ibx_log_level level,
                    const char *fmt, va_list ap);

/* A log gate bounds the lines one cause may write: at most `burst` lines
 * per period, the rest counted ("held back") for a summary line, so that
 * a peer (perhaps one forging its source address) cannot make a server
 * write log lines, and so spend its disk, without bound. There is no
 * global state: the gate is a caller-owned struct, one per cause (or per
 * connection); its counters are atomic, so the threads of a server, or
 * its processes when the struct lives in a MAP_SHARED mapping, may share
 * one gate. The clock is the caller's (any monotonic milliseconds, e.g.
 * ibx_loop_now()). Typical use:
 *
 *     if (ibx_log_gate_pass(&g, now, &before)) {
 *         if (before) ibx_warn(log, "... %lu more not logged", before);
 *         ibx_warn(log, "the line itself");
 *     }
 *     ... and from a timer, or at close: n = ibx_log_gate_take(&g); */
typedef struct ibx_log_gate {
    unsigned burst;            /* lines let through per period */
    unsigned period_ms;        /* 0: `burst` lines for the gate's whole life */
    atomic_ullong start;       /* start of the current period (ms) */
    atomic_ulong used;         /* lines let through in it */
    atomic_ulong held;         /* lines held back, not yet summed up */
} ibx_log_gate;

/* Let `burst` lines (at least 1) through per period_ms milliseconds (0:
 * for the gate's life); nothing held back yet. */
void ibx_log_gate_init(ibx_log_gate *g, unsigned burst, unsigned period_ms);
/* May a line be written at now_ms? True for the first `burst` lines of a
 * period; otherwise the line is counted as held back and false returned.
 * If held_before is not NULL and this line is the first of a new period,
 * *held_before receives (and the gate forgets) the count held back in
 * earlier periods, for a summary to be written before the line; it is 0
 * otherwise. */
bool ibx_log_gate_pass(ibx_log_gate *g, uint64_t now_ms, unsigned long *held_before);
/* The count of lines held back and not yet summed up, which the gate
 * forgets: for a periodic summary (a timer) or the one at close. */
unsigned long ibx_log_gate_take(ibx_log_gate *g);

#define ibx_err(log, ...)   ibx_log_write((log), IBX_LOG_ERROR, __VA_ARGS__)
#define ibx_warn(log, ...)  ibx_log_write((log), IBX_LOG_WARN, __VA_ARGS__)
#define ibx_info(log, ...)  ibx_log_write((log), IBX_LOG_INFO, __VA_ARGS__)
#define ibx_debug(log, ...) ibx_log_write((log), IBX_LOG_DEBUG, __VA_ARGS__)

#pragma GCC visibility pop

#endif
