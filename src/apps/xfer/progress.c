/* Progress output of send and get: on a terminal a one-line bar redrawn
 * at most ten times a second (bytes, rate, ETA); otherwise nothing until
 * the single summary line at the end. Everything goes to stderr. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xfer.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

char *xfer_fmt_bytes(double n, char *buf, size_t size)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (n >= 1024 && u < 4) {
        n /= 1024;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", n, unit[u]);
    return buf;
}

void xfer_progress_init(struct xfer_progress *p, bool quiet)
{
    memset(p, 0, sizeof *p);
    p->quiet = quiet;
    p->tty = !quiet && isatty(2);
    p->t0_ns = now_ns();
}

static void draw(struct xfer_progress *p, bool final)
{
    uint64_t t = now_ns();
    if (!final && t - p->last_ns < 100000000u)
        return;
    p->last_ns = t;
    double secs = (double)(t - p->file_t0_ns) / 1e9;
    double rate = secs > 0 ? (double)p->file_done / secs : 0;
    char done[32], size[32], rt[32], eta[32] = "--:--";
    if (rate > 0 && p->file_size > p->file_done) {
        unsigned long s = (unsigned long)((double)(p->file_size - p->file_done) / rate);
        snprintf(eta, sizeof eta, "%lu:%02lu", s / 60, s % 60);
    } else if (p->file_done >= p->file_size) {
        snprintf(eta, sizeof eta, "0:00");
    }
    int pct = p->file_size ? (int)(100.0 * (double)(p->file_done + p->file_skip) /
                                   (double)p->file_size) : 100;
    if (pct > 100)
        pct = 100;
    char bar[21];
    for (int i = 0; i < 20; i++)
        bar[i] = i < pct / 5 ? '#' : '.';
    bar[20] = '\0';
    const char *name = p->name ? p->name : "";
    size_t nl = strlen(name);
    fprintf(stderr, "\r%-24.24s [%s] %3d%% %10s/%-10s %10s/s ETA %s \033[K",
            nl > 24 ? name + nl - 24 : name, bar, pct,
            xfer_fmt_bytes((double)(p->file_done + p->file_skip), done, sizeof done),
            xfer_fmt_bytes((double)p->file_size, size, sizeof size),
            xfer_fmt_bytes(rate, rt, sizeof rt), eta);
    if (final)
        fputc('\n', stderr);
}

void xfer_progress_file(struct xfer_progress *p, const char *name,
                        uint64_t size, uint64_t skipped)
{
    p->name = name;
    p->file_size = size;
    p->file_skip = skipped;
    p->file_done = 0;
    p->file_t0_ns = now_ns();
    p->last_ns = 0;
    if (p->tty)
        draw(p, false);
}

void xfer_progress_add(struct xfer_progress *p, uint64_t n)
{
    p->file_done += n;
    p->moved += n;
    if (p->tty)
        draw(p, false);
}

void xfer_progress_done(struct xfer_progress *p, int code, uint64_t resumed)
{
    if (code == IBX_XC_OK)
        p->ok++;
    else if (code == IBX_XC_UNCHANGED)
        p->unchanged++;
    if (resumed && code == IBX_XC_OK)
        p->resumed++;
    p->resumed_bytes += code == IBX_XC_OK ? resumed : 0;
    if (p->tty && p->name)
        draw(p, true);
    p->name = NULL;
}

void xfer_progress_finish(struct xfer_progress *p, const char *verb)
{
    if (p->quiet)
        return;
    double secs = (double)(now_ns() - p->t0_ns) / 1e9;
    double rate = secs > 0 ? (double)p->moved / secs : 0;
    char moved[32], rt[32], res[32];
    p->files = p->ok + p->unchanged + p->failed;
    fprintf(stderr, "%s: %u file%s: %u ok, %u unchanged, %u resumed (%s skipped), "
            "%u failed; %s in %.2f s (%.1f MB/s, %s/s)\n",
            verb, p->files, p->files == 1 ? "" : "s", p->ok, p->unchanged,
            p->resumed, xfer_fmt_bytes((double)p->resumed_bytes, res, sizeof res),
            p->failed, xfer_fmt_bytes((double)p->moved, moved, sizeof moved), secs,
            rate / 1e6, xfer_fmt_bytes(rate, rt, sizeof rt));
}
