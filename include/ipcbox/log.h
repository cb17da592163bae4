/* ipcbox levelled logging. A logger is a small value owned by the
 * application and passed down; there is no global logger. Each line is
 * formatted into one buffer and written with one write(), so lines from
 * several threads or processes never interleave. Format:
 *   2026-11-22T16:05:54.123Z info echo[1234]: listening on 127.0.0.1:7007
 */
#ifndef IPCBOX_LOG_H
#define IPCBOX_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
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
} ibx_log;

/* A logger to stderr at info level with timestamps. */
void ibx_log_init(ibx_log *log, const char *ident);
/* Parse "error", "warn", "info" or "debug". Returns 0 or -EINVAL. */
int ibx_log_level_parse(const char *s, enum ibx_log_level *out);
/* True if a line at level would be written (to skip costly formatting). */
static inline bool ibx_log_enabled(const ibx_log *log, enum ibx_log_level level)
{
    return log && level <= log->level;
}
/* Write one line (a trailing newline is added). A NULL log drops it. */
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
