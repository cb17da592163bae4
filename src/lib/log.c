/* Levelled logging in logfmt: one formatted line, one write() (see
 * ipcbox/log.h and docs/logging.md). */
#include "ipcbox/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The conversions of a template are run one at a time with a format
 * rebuilt from the template (never from data). */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

static const char *const level_names[] = {"error", "warn", "info", "debug"};
/* syslog severities of the levels: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int level_severity[] = {3, 4, 6, 7};

#define LINE_BYTES 4096   /* longest line written */
#define VALUE_BYTES 2048  /* longest single value (or free-text message) */
/* room kept at the end of a line for a closing quote, " truncated=true"
 * and the newline */
#define LINE_RESERVE 24

void ibx_log_init(ibx_log *log, const char *ident)
{
    log->fd = 2;
    log->level = IBX_LOG_INFO;
    log->ident = ident;
    log->timestamps = true;
    log->syslog_facility = 0;
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

/* ---- destinations ------------------------------------------------------------ */

static int open_append(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    return fd < 0 ? -errno : fd;
}

int ibx_log_open_file(ibx_log *log, const char *path)
{
    int fd = open_append(path);
    if (fd < 0)
        return fd;
    log->fd = fd;
    log->syslog_facility = 0;
    return 0;
}

int ibx_log_reopen_file(const ibx_log *log, const char *path)
{
    int fd = open_append(path);
    if (fd < 0)
        return fd;
    int r = fd == log->fd ? 0 : dup3(fd, log->fd, O_CLOEXEC) < 0 ? -errno : 0;
    if (fd != log->fd)
        close(fd);
    return r;
}

static int syslog_connect(int fd, const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return -ENAMETOOLONG;
    strcpy(sun.sun_path, path);
    return connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ? -errno : 0;
}

int ibx_log_open_syslog(ibx_log *log, int facility, const char *path)
{
    /* non-blocking: a stalled syslog daemon costs lines, never the loop */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    int r = syslog_connect(fd, path ? path : "/dev/log");
    if (r < 0) {
        close(fd);
        return r;
    }
    log->fd = fd;
    log->syslog_facility = facility ? facility : 3 << 3;   /* LOG_DAEMON */
    return 0;
}

/* ---- logfmt -------------------------------------------------------------------- */

/* The line being built: bytes p[0..n); values stop at lim, the reserve
 * after it is for what closes a cut line. */
struct out {
    char *p;
    size_t n, lim;
    bool cut;
};

/* Append n bytes, all or nothing; false (and the line marked cut) if they
 * do not fit. */
static bool put(struct out *o, const char *s, size_t n)
{
    if (o->cut || n > o->lim - o->n) {
        o->cut = true;
        return false;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    return true;
}

/* Append into the reserve (closing quote, the truncation mark). */
static void put_force(struct out *o, const char *s, size_t n)
{
    memcpy(o->p + o->n, s, n);
    o->n += n;
}

/* The escape of one byte inside a quoted value; returns its length. */
static size_t esc_byte(unsigned char c, char e[5])
{
    switch (c) {
    case '"':  memcpy(e, "\\\"", 2); return 2;
    case '\\': memcpy(e, "\\\\", 2); return 2;
    case '\n': memcpy(e, "\\n", 2); return 2;
    case '\r': memcpy(e, "\\r", 2); return 2;
    case '\t': memcpy(e, "\\t", 2); return 2;
    default:
        if (c < 0x20 || c == 0x7f) {
            snprintf(e, 5, "\\x%02x", c);
            return 4;
        }
        e[0] = (char)c;
        return 1;
    }
}

static void put_escaped(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char e[5];
        if (!put(o, e, esc_byte((unsigned char)s[i], e)))
            return;
    }
}

size_t ibx_log_escape(char *dst, size_t cap, const char *src, size_t n)
{
    if (!cap)
        return 0;
    struct out o = {.p = dst, .lim = cap - 1};
    put_escaped(&o, src, n);
    dst[o.n] = '\0';
    return o.n;
}

static bool needs_quotes(const char *s, size_t n)
{
    if (!n)
        return true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f)
            return true;
    }
    return false;
}

/* A value as it is if it needs no quotes, else quoted and escaped. */
static void put_value(struct out *o, const char *s, size_t n)
{
    if (!needs_quotes(s, n)) {
        put(o, s, n);
        return;
    }
    if (!put(o, "\"", 1))
        return;
    put_escaped(o, s, n);
    put_force(o, "\"", 1);
}

static bool key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

/* Does fmt start with a key and '='? */
static bool is_template(const char *f)
{
    const char *k = f;
    while (key_char(*k))
        k++;
    return k > f && *k == '=';
}

enum len_mod { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T, LEN_LD };

/* Run the one printf conversion at f (just after its '%') into buf (cap
 * bytes), taking its arguments from *ap. Returns the count of format
 * bytes it spans and sets *len to the length produced (at most cap - 1),
 * or returns -1 for a conversion this does not know (then nothing was
 * taken from *ap). */
static int conv(const char *f, va_list *ap, char *buf, size_t cap, size_t *len)
{
    char spec[48];
    size_t k = 0;
    const char *q = f;
    spec[k++] = '%';
    while ((*q == '-' || *q == '+' || *q == ' ' || *q == '#' || *q == '0') && k < 8)
        spec[k++] = *q++;
    /* '*' arguments come before the value: check the conversion first */
    const char *scan = q;
    while (*scan == '*' || *scan == '.' || (*scan >= '0' && *scan <= '9'))
        scan++;
    while (*scan == 'h' || *scan == 'l' || *scan == 'z' || *scan == 'j' ||
           *scan == 't' || *scan == 'L')
        scan++;
    if (!*scan || !strchr("diouxXcsfFeEgGaAp", *scan))
        return -1;
    if (*q == '*') {
        k += (size_t)snprintf(spec + k, sizeof spec - k, "%d", va_arg(*ap, int));
        q++;
    } else {
        while (*q >= '0' && *q <= '9' && k < 24)
            spec[k++] = *q++;
    }
    if (*q == '.') {
        q++;
        if (*q == '*') {
            int p = va_arg(*ap, int);
            if (p >= 0)
                k += (size_t)snprintf(spec + k, sizeof spec - k, ".%d", p);
            q++;
        } else {
            spec[k++] = '.';
            while (*q >= '0' && *q <= '9' && k < 36)
                spec[k++] = *q++;
        }
    }
    enum len_mod lm = LEN_NONE;
    if (q[0] == 'h' && q[1] == 'h') { lm = LEN_HH; q += 2; }
    else if (q[0] == 'l' && q[1] == 'l') { lm = LEN_LL; q += 2; }
    else if (*q == 'h') { lm = LEN_H; q++; }
    else if (*q == 'l') { lm = LEN_L; q++; }
    else if (*q == 'z') { lm = LEN_Z; q++; }
    else if (*q == 'j') { lm = LEN_J; q++; }
    else if (*q == 't') { lm = LEN_T; q++; }
    else if (*q == 'L') { lm = LEN_LD; q++; }
    char c = *q++;
    int n = 0;
    switch (c) {
    case 'd': case 'i':
        strcpy(spec + k, lm == LEN_NONE || lm == LEN_H || lm == LEN_HH ? "d" : "lld");
        if (lm == LEN_LL)
            n = snprintf(buf, cap, spec, va_arg(*ap, long long));
        else if (lm == LEN_L)
            n = snprintf(buf, cap, spec, (long long)va_arg(*ap, long));
        else if (lm == LEN_Z)
            n = snprintf(buf, cap, spec, (long long)va_arg(*ap, ssize_t));
        else if (lm == LEN_J)
            n = snprintf(buf, cap, spec, (long long)va_arg(*ap, intmax_t));
        else if (lm == LEN_T)
            n = snprintf(buf, cap, spec, (long long)va_arg(*ap, ptrdiff_t));
        else
            n = snprintf(buf, cap, spec, va_arg(*ap, int));
        break;
    case 'o': case 'u': case 'x': case 'X': {
        bool wide = !(lm == LEN_NONE || lm == LEN_H || lm == LEN_HH);
        spec[k] = 'l';
        spec[k + 1] = 'l';
        spec[wide ? k + 2 : k] = c;
        spec[wide ? k + 3 : k + 1] = '\0';
        if (lm == LEN_LL)
            n = snprintf(buf, cap, spec, va_arg(*ap, unsigned long long));
        else if (lm == LEN_L)
            n = snprintf(buf, cap, spec, (unsigned long long)va_arg(*ap, unsigned long));
        else if (lm == LEN_Z)
            n = snprintf(buf, cap, spec, (unsigned long long)va_arg(*ap, size_t));
        else if (lm == LEN_J)
            n = snprintf(buf, cap, spec, (unsigned long long)va_arg(*ap, uintmax_t));
        else if (lm == LEN_T)
            n = snprintf(buf, cap, spec, (unsigned long long)va_arg(*ap, ptrdiff_t));
        else
            n = snprintf(buf, cap, spec, va_arg(*ap, unsigned));
        break;
    }
    case 'c':
        memcpy(spec + k, "c", 2);
        n = snprintf(buf, cap, spec, va_arg(*ap, int));
        break;
    case 's': {
        memcpy(spec + k, "s", 2);
        const char *s = va_arg(*ap, const char *);
        n = snprintf(buf, cap, spec, s ? s : "(null)");
        break;
    }
    case 'p':
        memcpy(spec + k, "p", 2);
        n = snprintf(buf, cap, spec, va_arg(*ap, void *));
        break;
    default:   /* floating point */
        if (lm == LEN_LD) {
            spec[k] = 'L';
            spec[k + 1] = c;
            spec[k + 2] = '\0';
            n = snprintf(buf, cap, spec, va_arg(*ap, long double));
        } else {
            spec[k] = c;
            spec[k + 1] = '\0';
            n = snprintf(buf, cap, spec, va_arg(*ap, double));
        }
        break;
    }
    *len = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
    return (int)(q - f);
}

/* The fields of a logfmt template (see ipcbox/log.h). */
static void put_template(struct out *o, const char *f, va_list *ap)
{
    char val[VALUE_BYTES];
    bool first = true;
    while (*f && !o->cut) {
        while (*f == ' ')
            f++;
        if (!*f)
            break;
        size_t field = o->n;
        if (!first)
            put(o, " ", 1);
        first = false;
        /* the key: literal; anything but key bytes becomes '_' */
        size_t key = o->n;
        while (*f && *f != '=' && *f != ' ') {
            char ch = key_char(*f) ? *f : '_';
            put(o, &ch, 1);
            f++;
        }
        if (o->n == key)
            put(o, "_", 1);
        if (*f != '=') {
            if (o->cut)
                o->n = field;
            continue;   /* a bare key */
        }
        f++;
        put(o, "=", 1);
        size_t value = o->n;
        if (*f == '"') {
            /* quoted in the template: literal bytes and conversions,
             * escaped, up to the closing quote */
            f++;
            put(o, "\"", 1);
            while (*f && *f != '"' && !o->cut) {
                size_t vn;
                int used;
                if (*f == '\\' && f[1]) {
                    put(o, f, 2);   /* the template's own escape */
                    f += 2;
                } else if (*f == '%' && f[1] == '%') {
                    put(o, "%", 1);
                    f += 2;
                } else if (*f == '%' && (used = conv(f + 1, ap, val, sizeof val, &vn)) >= 0) {
                    put_escaped(o, val, vn);
                    f += 1 + used;
                } else {
                    put_escaped(o, f, 1);
                    f++;
                }
            }
            if (o->cut && o->n <= value + 1) {
                o->n = field;
                break;
            }
            put_force(o, "\"", 1);
            while (*f && *f != ' ')
                f++;   /* past the closing quote */
            continue;
        }
        /* unquoted in the template: gather the value, then quote it if
         * what it became needs quotes */
        size_t vn = 0;
        while (*f && *f != ' ') {
            size_t n = 0;
            int used;
            if (*f == '%' && f[1] == '%') {
                f += 2;
                if (vn < sizeof val - 1)
                    val[vn++] = '%';
            } else if (*f == '%' &&
                       (used = conv(f + 1, ap, val + vn, sizeof val - vn, &n)) >= 0) {
                vn += n;
                f += 1 + used;
            } else {
                if (vn < sizeof val - 1)
                    val[vn++] = *f;
                f++;
            }
        }
        put_value(o, val, vn);
        if (o->cut && o->n <= value)
            o->n = field;
    }
}

/* Free text: the whole formatted text as msg="...". */
static void put_text(struct out *o, const char *fmt, va_list ap)
{
    char text[VALUE_BYTES];
    int k = vsnprintf(text, sizeof text, fmt, ap);
    size_t n = k < 0 ? 0 : (size_t)k < sizeof text ? (size_t)k : sizeof text - 1;
    put(o, "msg=\"", 5);
    put_escaped(o, text, n);
    put_force(o, "\"", 1);
    if ((size_t)k >= sizeof text)
        o->cut = true;
}

void ibx_log_vwrite(const ibx_log *log, enum ibx_log_level level,
                    const char *fmt, va_list ap)
{
    if (!ibx_log_enabled(log, level))
        return;
    char line[LINE_BYTES];
    struct out o = {.p = line, .lim = sizeof line - LINE_RESERVE};
    const char *ident = log->ident ? log->ident : "ipcbox";
    struct timespec ts;
    struct tm tm;
    char head[160];
    int h = 0;
    if (log->syslog_facility) {
        /* RFC 3164 as syslog(3) sends it: <PRI>Mmm dd hh:mm:ss ident[pid]: */
        static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
        time_t now = time(NULL);
        localtime_r(&now, &tm);
        h = snprintf(head, sizeof head, "<%d>%s %2d %02d:%02d:%02d %s[%ld]: ",
                     log->syslog_facility | level_severity[level], mon[tm.tm_mon],
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ident, (long)getpid());
    } else if (log->timestamps) {
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        h = snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s[%ld]: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], ident,
                     (long)getpid());
    } else {
        h = snprintf(head, sizeof head, "%s %s[%ld]: ", level_names[level], ident,
                     (long)getpid());
    }
    put(&o, head, h < 0 ? 0 : (size_t)h < sizeof head ? (size_t)h : sizeof head - 1);
    if (is_template(fmt)) {
        va_list aq;
        va_copy(aq, ap);
        put_template(&o, fmt, &aq);
        va_end(aq);
    } else {
        put_text(&o, fmt, ap);
    }
    if (o.cut)
        put_force(&o, " truncated=true", 15);
    ssize_t w;
    if (log->syslog_facility) {
        for (int tries = 0; tries < 2; tries++) {
            w = send(log->fd, line, o.n, MSG_NOSIGNAL);
            if (w >= 0 || (errno != ECONNREFUSED && errno != ENOTCONN))
                break;
            syslog_connect(log->fd, "/dev/log");   /* the daemon restarted */
        }
        return;
    }
    put_force(&o, "\n", 1);
    do
        w = write(log->fd, line, o.n);
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

/* ---- log gates ----------------------------------------------------------------- */

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
