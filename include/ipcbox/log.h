/* ipcbox levelled logging. A logger is a small value owned by the
 * application and passed down; there is no global logger. Each line is
 * formatted into one buffer and written with one write(), so lines from
 * several threads or processes never interleave. Format:
 *   2026-11-22T16:05:54.123Z info echo[1234]: listening on 127.0.0.1:7007
 */
#ifndef IPCBOX_LOG_H
#define IPCBOX_LOG_H

#include <stdarg.h>
#include <stdbool.h>

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

#define ibx_err(log, ...)   ibx_log_write((log), IBX_LOG_ERROR, __VA_ARGS__)
#define ibx_warn(log, ...)  ibx_log_write((log), IBX_LOG_WARN, __VA_ARGS__)
#define ibx_info(log, ...)  ibx_log_write((log), IBX_LOG_INFO, __VA_ARGS__)
#define ibx_debug(log, ...) ibx_log_write((log), IBX_LOG_DEBUG, __VA_ARGS__)

#endif
