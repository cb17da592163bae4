/* Levelled logging: one formatted line, one write() (see ipcbox/log.h). */
#include "ipcbox/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void ibx_log_init(ibx_log *log, const char *ident)
{
    log->fd = 2;
    log->level = IBX_LOG_INFO;
    log->ident = ident;
    log->timestamps = true;
}

int ibx_log_level_parse(const char *s, enum ibx_log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum ibx_log_level)i;
            return 0;
        }
    if (strcmp(s, "warning") == 0) {
        *out = IBX_LOG_WARN;
        return 0;
    }
    return -EINVAL;
}

void ibx_log_vwrite(const ibx_log *log, enum ibx_log_level level,
                    const char *fmt, va_list ap)
{
    if (!ibx_log_enabled(log, level))
        return;
    char line[2048];
    size_t n = 0;
    if (log->timestamps) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ ",
                              ts.tv_nsec / 1000000);
    }
    int k = snprintf(line + n, sizeof line - n, "%s %s[%ld]: ",
                     level_names[level], log->ident ? log->ident : "ipcbox",
                     (long)getpid());
    if (k > 0)
        n += (size_t)k;
    size_t msg = n;
    if (n < sizeof line) {
        k = vsnprintf(line + n, sizeof line - n, fmt, ap);
        if (k > 0)
            n += (size_t)k;
    }
    if (n > sizeof line - 2)
        n = sizeof line - 2;   /* truncated: keep the newline */
    /* Peers control parts of messages (names, paths): one event must stay
     * one line, so control characters are masked. */
    for (size_t i = msg; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[n++] = '\n';
    ssize_t w;
    do
        w = write(log->fd, line, n);
    while (w < 0 && errno == EINTR);
}

void ibx_log_write(const ibx_log *log, enum ibx_log_level level,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ibx_log_vwrite(log, level, fmt, ap);
    va_end(ap);
}

void ibx_log_gate_init(ibx_log_gate *g, unsigned burst, unsigned period_ms)
{
    g->burst = burst ? burst : 1;
    g->period_ms = period_ms;
    atomic_init(&g->start, 0);
    atomic_init(&g->used, 0);
    atomic_init(&g->held, 0);
}

bool ibx_log_gate_pass(ibx_log_gate *g, uint64_t now_ms, unsigned long *held_before)
{
    if (held_before)
        *held_before = 0;
    if (g->period_ms) {
        unsigned long long start = atomic_load(&g->start);
        /* the first caller to see the period over starts the next one
         * (another thread may let a line or two more through meanwhile:
         * the bound is approximate by the number of threads, never lost) */
        if (now_ms - start >= g->period_ms &&
            atomic_compare_exchange_strong(&g->start, &start, now_ms)) {
            atomic_store(&g->used, 0);
            if (held_before)
                *held_before = atomic_exchange(&g->held, 0);
        }
    }
    /* the load first: a flood does not grow (nor ever wrap) the count */
    if (atomic_load(&g->used) < g->burst && atomic_fetch_add(&g->used, 1) < g->burst)
        return true;
    atomic_fetch_add(&g->held, 1);
    return false;
}

unsigned long ibx_log_gate_take(ibx_log_gate *g)
{
    return atomic_exchange(&g->held, 0);
}
