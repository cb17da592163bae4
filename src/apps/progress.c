/* Progress display of the clients (see progress.h). A line is built from
 * fields ("segments"), each with a rank saying how early it is left out
 * when the terminal is too narrow; the file name is elastic and gets the
 * columns the kept fields leave, shortened from the left. */
#include "progress.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "termtext.h"

#define MS 1000000ull
/* Shortest name worth keeping fields out for. */
#define NAME_MIN_COLS 10
/* Columns of the bar, brackets included. */
#define BAR_COLS 12

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- formatting ------------------------------------------------------ */

static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

/* n scaled to its unit (index in units[]). */
static double scale(double n, int *u)
{
    *u = 0;
    while (n >= 1024 && *u < 5) {
        n /= 1024;
        (*u)++;
    }
    return n;
}

/* Decimals worth showing of v in unit u: three significant digits. */
static int prec(double v, int u)
{
    return !u || v >= 99.95 ? 0 : 1;
}

/* "452 KiB": three significant digits, for the live line. */
static char *fmt_short(double n, char *buf, unsigned size)
{
    int u;
    double v = scale(n, &u);
    snprintf(buf, size, "%.*f %s", prec(v, u), v, units[u]);
    return buf;
}

char *progress_fmt_bytes(double n, char *buf, unsigned size)
{
    int u;
    double v = scale(n, &u);
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

/* "1.2/3.4 MiB" when both have one unit, else "512 KiB/3.4 MiB"; three
 * significant digits ("121/300 MiB"). */
static void fmt_pair(uint64_t done, uint64_t total, char *buf, unsigned size)
{
    int ud, ut;
    double d = scale((double)done, &ud), t = scale((double)total, &ut);
    if (ud == ut)
        snprintf(buf, size, "%.*f/%.*f %s", prec(d, ud), d, prec(t, ut), t, units[ut]);
    else
        snprintf(buf, size, "%.*f %s/%.*f %s", prec(d, ud), d, units[ud], prec(t, ut), t,
                 units[ut]);
}

static void fmt_eta(double secs, char *buf, unsigned size)
{
    if (secs < 0 || secs > 99 * 3600.0) {
        snprintf(buf, size, "ETA --:--");
        return;
    }
    unsigned long s = (unsigned long)(secs + 0.5);
    if (s >= 3600)
        snprintf(buf, size, "ETA %lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, size, "ETA %lu:%02lu", s / 60, s % 60);
}

/* ---- fitting a line -------------------------------------------------- */

#define SEG_MAX 12

/* One field of a line. */
struct seg {
    char text[256];
    const char *sep;        /* before it, unless it comes first */
    int rank;               /* left out highest first; 0 = never */
    bool elastic;           /* the name: shortened to fit, from the left */
};

struct line {
    struct seg s[SEG_MAX];
    int n;
};

static struct seg *seg_add(struct line *l, int rank, const char *sep,
                           const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct seg *seg_add(struct line *l, int rank, const char *sep,
                           const char *fmt, ...)
{
    if (l->n == SEG_MAX)
        return NULL;
    struct seg *s = &l->s[l->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text, sizeof s->text, fmt, ap);
    va_end(ap);
    s->sep = sep;
    s->rank = rank;
    s->elastic = false;
    return s;
}

/* The name (NAME_MIN_COLS or its width, whichever is less, is kept free
 * for it before fields go). */
static void seg_name(struct line *l, const char *sep, const char *name)
{
    struct seg *s = seg_add(l, 0, sep, "%s", name);
    if (s)
        s->elastic = true;
}

/* Join the segments into out in at most width - 1 columns (no limit when
 * width <= 0). Returns the bytes written. */
static int render(const struct line *l, int width, char *out, unsigned size)
{
    int limit = width > 0 ? width - 1 : INT_MAX / 2;
    bool keep[SEG_MAX];
    int cols[SEG_MAX], name = -1;
    for (int i = 0; i < l->n; i++) {
        keep[i] = true;
        cols[i] = termtext_cols(l->s[i].text);
        if (l->s[i].elastic)
            name = i;
    }
    int room = 0;   /* for the name */
    for (;;) {
        int used = 0, first = 1;
        for (int i = 0; i < l->n; i++) {
            if (!keep[i])
                continue;
            if (!first)
                used += termtext_cols(l->s[i].sep);
            first = 0;
            if (i != name)
                used += cols[i];
        }
        room = limit - used;
        int want = name < 0 ? 0 : cols[name] < NAME_MIN_COLS ? cols[name] : NAME_MIN_COLS;
        if (room >= want)
            break;
        int drop = -1;
        for (int i = 0; i < l->n; i++)
            if (keep[i] && l->s[i].rank > 0 && (drop < 0 || l->s[i].rank > l->s[drop].rank))
                drop = i;
        if (drop < 0)
            break;
        keep[drop] = false;
    }
    /* join; then a last cut in case even the fields that always stay do
     * not fit (a very narrow terminal) */
    char buf[2048], part[256];
    size_t n = 0;
    int first = 1;
    buf[0] = '\0';
    for (int i = 0; i < l->n; i++) {
        if (!keep[i])
            continue;
        const char *text = l->s[i].text;
        if (i == name) {
            if (room <= 0)
                continue;
            termtext_fit(part, sizeof part, text, room, TERMTEXT_KEEP_TAIL);
            text = part;
        }
        int k = snprintf(buf + n, sizeof buf - n, "%s%s", first ? "" : l->s[i].sep, text);
        if (k < 0 || (size_t)k >= sizeof buf - n)
            break;
        n += (size_t)k;
        first = 0;
    }
    if (width <= 0)
        snprintf(out, size, "%s", buf);
    else
        termtext_fit(out, size, buf, limit, TERMTEXT_KEEP_HEAD);
    return (int)strlen(out);
}

/* ---- the lines ------------------------------------------------------- */

/* Bytes a second, or < 0 when not known yet. */
static double rate_of(const struct progress *p, uint64_t now)
{
    if (p->rate_t > p->t0)
        return p->rate;
    if (now > p->t0 + 100 * MS)
        return (double)p->moved * 1e9 / (double)(now - p->t0);
    return -1;
}

/* Bytes of the job expected in all, if known (for a job whose files
 * announce their sizes one by one: known from its last file on). */
static bool total_of(const struct progress *p, uint64_t *total)
{
    if (p->bytes_known) {
        *total = p->bytes_total;
        return true;
    }
    unsigned ended = p->ok + p->unchanged + p->failed;
    if (p->in_file && p->file_size_known && (!p->multi || ended + 1 == p->files_total)) {
        *total = p->bytes_done + p->file_size;
        return true;
    }
    return false;
}

/* "[###.......]" for pct percent, dropped first when the line is short. */
static void seg_bar(struct line *l, int pct)
{
    char bar[BAR_COLS + 1];
    bar[0] = '[';
    for (int i = 0; i < BAR_COLS - 2; i++)
        bar[1 + i] = i < pct * (BAR_COLS - 2) / 100 ? '#' : '.';
    bar[BAR_COLS - 1] = ']';
    bar[BAR_COLS] = '\0';
    seg_add(l, 7, " ", "%s", bar);
}

/* The line of a counted job: [bar] pct% done/total jobs, failed, rate, ETA,
 * the current one's name. */
static int count_line(const struct progress *p, uint64_t now, int width, char *out,
                      unsigned size)
{
    struct line l = {.n = 0};
    unsigned ended = p->ok + p->unchanged + p->failed;
    double secs = (double)(now - p->t0) / 1e9;
    double rate = secs > 0 ? ended / secs : 0;
    int pct = p->files_total ? (int)(100.0 * ended / p->files_total) : -1;
    if (pct > 100)
        pct = 100;
    if (width <= 0)
        seg_add(&l, 0, " ", "%s:", p->verb);
    if (pct >= 0 && width > 0)
        seg_bar(&l, pct);
    if (pct >= 0)
        seg_add(&l, 6, " ", "%d%%", pct);
    if (p->files_total)
        seg_add(&l, 0, " ", "%u/%u %ss", ended, p->files_total, p->unit);
    else
        seg_add(&l, 0, " ", "%u %s%s", ended, p->unit, ended == 1 ? "" : "s");
    if (p->failed)
        seg_add(&l, 2, ", ", "%u failed", p->failed);
    if (rate > 0)
        seg_add(&l, 5, " ", "%.1f/s", rate);
    if (p->files_total && rate > 0 && ended < p->files_total) {
        char a[48];
        fmt_eta((p->files_total - ended) / rate, a, sizeof a);
        seg_add(&l, 4, " ", "%s", a);
    }
    if (p->name[0])
        seg_name(&l, " ", p->name);
    return render(&l, width, out, size);
}

int progress_line(const struct progress *p, uint64_t now, int width, char *out,
                  unsigned size)
{
    if (p->count_only)
        return count_line(p, now, width, out, size);
    struct line l = {.n = 0};
    bool plain = width <= 0;
    uint64_t done = p->bytes_done + (p->in_file ? p->file_pos : 0), total = 0;
    bool known = total_of(p, &total);
    int pct = known ? (total ? (int)((double)done * 100.0 / (double)total) : 100) : -1;
    if (pct > 100)
        pct = 100;
    double rate = rate_of(p, now);
    char a[48];

    if (plain)
        seg_add(&l, 0, " ", "%s:", p->verb);
    if (pct >= 0 && !plain)
        seg_bar(&l, pct);
    if (pct >= 0)
        seg_add(&l, 6, " ", "%d%%", pct);
    if (p->multi) {
        unsigned ended = p->ok + p->unchanged + p->failed;
        if (p->files_total)
            seg_add(&l, 0, " ", "%u/%u files", ended, p->files_total);
        else
            seg_add(&l, 0, " ", "%u file%s", ended, ended == 1 ? "" : "s");
        if (p->unchanged)
            seg_add(&l, 2, ", ", "%u skipped", p->unchanged);
        if (p->failed)
            seg_add(&l, 2, ", ", "%u failed", p->failed);
    }
    if (known)
        fmt_pair(done, total, a, sizeof a);
    else
        fmt_short((double)done, a, sizeof a);
    seg_add(&l, p->multi ? 3 : 2, " ", "%s", a);
    if (rate >= 0 && p->moved) {
        char r[32];
        seg_add(&l, 5, " ", "%s/s", fmt_short(rate, r, sizeof r));
    }
    if (known && rate > 0 && done < total) {
        fmt_eta((double)(total - done) / rate, a, sizeof a);
        seg_add(&l, 4, " ", "%s", a);
    }
    /* between two files the last one stays in view */
    if (p->name[0])
        seg_name(&l, " ", p->name);
    return render(&l, width, out, size);
}

int progress_summary(const struct progress *p, uint64_t now, int width,
                     char *out, unsigned size)
{
    struct line l = {.n = 0};
    bool full = width <= 0;
    double secs = (double)(now - p->t0) / 1e9;
    double rate = secs > 0 ? (double)p->moved / secs : 0;
    char moved[32], rt[32], res[32];
    progress_fmt_bytes((double)p->moved, moved, sizeof moved);
    progress_fmt_bytes(rate, rt, sizeof rt);
    if (!p->multi) {
        seg_add(&l, 0, "", "%s", p->verb);
        if (p->name[0])
            seg_name(&l, " ", p->name);
        seg_add(&l, 0, "", ": %s in %.2f s", moved, secs);
        if (full)
            seg_add(&l, 3, " ", "(%.1f MB/s, %s/s)", rate / 1e6, rt);
        else
            seg_add(&l, 3, " ", "(%s/s)", rt);
        if (p->note[0])
            seg_add(&l, 4, ", ", "%s", p->note);
        return render(&l, width, out, size);
    }
    /* the full form is what scripts and tests read; on a terminal counts
     * of zero are left out */
    unsigned files = p->ok + p->unchanged + p->failed;
    const char *unit = p->unit ? p->unit : "file";
    seg_add(&l, 0, "", "%s: %u %s%s:", p->verb, files, unit, files == 1 ? "" : "s");
    if (p->count_only) {
        seg_add(&l, 0, "", " %u ok", p->ok);
        if (full || p->failed)
            seg_add(&l, 1, "", ", %u failed", p->failed);
        seg_add(&l, 3, "", " in %.2f s", secs);
        seg_add(&l, 4, " ", "(%.1f %ss/s)", secs > 0 ? files / secs : 0.0, unit);
        return render(&l, width, out, size);
    }
    seg_add(&l, 0, "", " %u ok", p->ok);
    if (full || p->unchanged)
        seg_add(&l, 1, "", ", %u unchanged", p->unchanged);
    if (full || p->resumed)
        seg_add(&l, 2, "", ", %u resumed (%s skipped)", p->resumed,
                progress_fmt_bytes((double)p->resumed_bytes, res, sizeof res));
    if (full || p->failed)
        seg_add(&l, 1, "", ", %u failed", p->failed);
    seg_add(&l, 3, "", "; %s in %.2f s", moved, secs);
    if (full)
        seg_add(&l, 4, " ", "(%.1f MB/s, %s/s)", rate / 1e6, rt);
    else
        seg_add(&l, 4, " ", "(%s/s)", rt);
    return render(&l, width, out, size);
}

/* ---- output ---------------------------------------------------------- */

static void emit(const struct progress *p, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(p->fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;   /* progress is never worth failing for */
        buf += w;
        n -= (size_t)w;
    }
}

/* The terminal's width now (a resize is seen at the next redraw). */
static int term_cols(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return PROGRESS_DEFAULT_COLS;
}

static void rate_update(struct progress *p, uint64_t now)
{
    uint64_t dt = now - p->rate_t;
    if (dt < 500 * MS)
        return;
    double inst = (double)(p->moved - p->rate_moved) * 1e9 / (double)dt;
    /* smoothed over about two seconds; the first sample is taken as is */
    double a = p->rate_t == p->t0 ? 1.0 : (double)dt / ((double)dt + 2e9);
    p->rate += a * (inst - p->rate);
    p->rate_t = now;
    p->rate_moved = p->moved;
}

void progress_tick(struct progress *p)
{
    if (p->mode != PROGRESS_ON)
        return;
    uint64_t now = now_ns();
    char buf[1100];
    if (p->tty) {
        if (now < p->next_draw)
            return;
        p->next_draw = now + PROGRESS_TTY_MS * MS;
        rate_update(p, now);
        buf[0] = '\r';
        int n = 1 + progress_line(p, now, term_cols(p->fd), buf + 1, sizeof buf - 8);
        memcpy(buf + n, "\033[K", 3);
        emit(p, buf, (size_t)n + 3);
        p->drawn = true;
        return;
    }
    rate_update(p, now);
    if (now < p->next_plain)
        return;
    p->next_plain = now + PROGRESS_PLAIN_MS * MS;
    int n = progress_line(p, now, 0, buf, sizeof buf - 2);
    buf[n++] = '\n';
    emit(p, buf, (size_t)n);
}

void progress_init(struct progress *p, const char *verb, bool multi,
                   enum progress_mode mode)
{
    memset(p, 0, sizeof *p);
    p->fd = 2;
    p->verb = verb;
    p->multi = multi;
    p->mode = mode;
    p->tty = mode != PROGRESS_QUIET && isatty(p->fd);
    p->t0 = p->rate_t = now_ns();
    p->next_draw = p->t0;
    p->next_plain = p->t0 + PROGRESS_PLAIN_MS * MS;
}

void progress_counting(struct progress *p, const char *unit)
{
    p->unit = unit;
    p->count_only = true;
}

void progress_expect(struct progress *p, unsigned files, uint64_t bytes,
                     bool bytes_known)
{
    p->files_total = files;
    p->bytes_total = bytes;
    p->bytes_known = bytes_known;
}

void progress_file_begin(struct progress *p, const char *name, uint64_t size,
                         bool size_known, uint64_t pos)
{
    /* the tail of a long name, where a path's file name is */
    size_t len = strlen(name);
    const char *tail = name;
    if (len >= sizeof p->name) {
        tail = name + len - (sizeof p->name - 1);
        while (((unsigned char)*tail & 0xc0) == 0x80)   /* not mid-character */
            tail++;
    }
    snprintf(p->name, sizeof p->name, "%s", tail);
    p->in_file = true;
    p->file_size = size;
    p->file_size_known = size_known;
    p->file_pos = pos;
    progress_tick(p);
}

void progress_add(struct progress *p, uint64_t n)
{
    p->file_pos += n;
    p->moved += n;
    progress_tick(p);
}

void progress_set(struct progress *p, uint64_t pos)
{
    if (pos > p->file_pos)
        p->moved += pos - p->file_pos;
    p->file_pos = pos;
    progress_tick(p);
}

void progress_file_end(struct progress *p, enum progress_end how,
                       uint64_t resumed_from)
{
    if (how == PROGRESS_OK) {
        p->ok++;
        if (resumed_from) {
            p->resumed++;
            p->resumed_bytes += resumed_from;
        }
    } else if (how == PROGRESS_UNCHANGED) {
        p->unchanged++;
    }
    if (p->in_file) {
        p->bytes_done += p->file_size_known && p->file_size > p->file_pos ? p->file_size
                                                                          : p->file_pos;
        p->in_file = false;
    }
    progress_tick(p);
}

void progress_fail(struct progress *p)
{
    p->failed++;
}

void progress_clear(struct progress *p)
{
    if (p->drawn) {
        emit(p, "\r\033[K", 4);
        p->drawn = false;
        p->next_draw = 0;   /* back at the next update */
    }
}

void progress_note(struct progress *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->note, sizeof p->note, fmt, ap);
    va_end(ap);
}

void progress_finish(struct progress *p)
{
    progress_clear(p);
    if (p->mode == PROGRESS_QUIET || (!p->multi && !p->ok))
        return;
    char buf[1100];
    int n = progress_summary(p, now_ns(), p->tty ? term_cols(p->fd) : 0, buf,
                             sizeof buf - 2);
    buf[n++] = '\n';
    emit(p, buf, (size_t)n);
}
