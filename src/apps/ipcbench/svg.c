/* ipcbench SVG chart: two horizontal bar panels on log axes.
 *   1. round-trip p50 per mechanism, at its smallest measured size
 *   2. one-way stream MB/s per mechanism, one bar per message size */
#include <errno.h>
#include <math.h>     /* INFINITY only */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define W_LABEL 270
#define W_PLOT 600
#define W_TOTAL (W_LABEL + W_PLOT + 40)

static const size_t sizes[] = {64, 1024, 65536, 1u << 20};
static const char *const colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759"};
static const char *const size_names[] = {"64 B", "1 KiB", "64 KiB", "1 MiB"};

static void text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

/* The binary does not link libm; the chart needs only these, for
 * positive finite values. */
static double lg10(double v)
{
    int e = 0;
    while (v >= 2) {
        v /= 2;
        e++;
    }
    while (v < 1) {
        v *= 2;
        e--;
    }
    double t = (v - 1) / (v + 1), t2 = t * t, term = t, ln = 0;
    for (int k = 1; k < 40; k += 2) {   /* ln v = 2 atanh(t) */
        ln += term / k;
        term *= t2;
    }
    return (2 * ln + e * 0.69314718055994531) / 2.30258509299404568;
}

static double ifloor(double v)
{
    double i = (double)(long long)v;
    return i > v ? i - 1 : i;
}

static double iceil(double v)
{
    double i = (double)(long long)v;
    return i < v ? i + 1 : i;
}

static double p10(int d)
{
    double v = 1;
    for (; d > 0; d--)
        v *= 10;
    for (; d < 0; d++)
        v /= 10;
    return v;
}

struct axis {
    double lo, hi;      /* log10 bounds */
};

static struct axis axis_for(double mn, double mx)
{
    struct axis a = {ifloor(lg10(mn)), iceil(lg10(mx))};
    if (a.hi <= a.lo)
        a.hi = a.lo + 1;
    return a;
}

static double xpos(struct axis a, double v)
{
    double l = lg10(v);
    if (l < a.lo)
        l = a.lo;
    return W_LABEL + (l - a.lo) / (a.hi - a.lo) * W_PLOT;
}

static void draw_axis(FILE *f, struct axis a, int y0, int y1, const char *unit)
{
    for (int d = (int)a.lo; d <= (int)a.hi; d++) {
        double x = W_LABEL + (d - a.lo) / (a.hi - a.lo) * W_PLOT;
        fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/>\n", x, y0, x, y1);
        double v = p10(d);
        fprintf(f, "<text x='%.1f' y='%d' font-size='10' text-anchor='middle'>", x, y1 + 12);
        if (v >= 1e6)
            fprintf(f, "%gM", v / 1e6);
        else if (v >= 1e3)
            fprintf(f, "%gk", v / 1e3);
        else
            fprintf(f, "%g", v);
        fprintf(f, "%s</text>\n", unit);
    }
}

int report_svg(const char *path, const struct row *rows, size_t n)
{
    /* panel 1 rows: first latency row of each mechanism */
    const struct row *lat[64];
    size_t nl = 0;
    double lmin = INFINITY, lmax = 0;
    for (size_t i = 0; i < n && nl < 64; i++) {
        if (!rows[i].has_lat || rows[i].status != ROW_OK)
            continue;
        if (nl && lat[nl - 1]->m == rows[i].m)
            continue;
        lat[nl++] = &rows[i];
        double us = rows[i].p50_ns / 1000;
        lmin = us < lmin ? us : lmin;
        lmax = us > lmax ? us : lmax;
    }
    /* panel 2: mechanisms with any throughput row */
    const struct mech *tm[64];
    size_t nt = 0;
    double tmin = INFINITY, tmax = 0;
    for (size_t i = 0; i < n && nt < 64; i++) {
        if (!rows[i].has_tput || rows[i].status != ROW_OK || rows[i].mb_s <= 0)
            continue;
        if (!nt || tm[nt - 1] != rows[i].m)
            tm[nt++] = rows[i].m;
        tmin = rows[i].mb_s < tmin ? rows[i].mb_s : tmin;
        tmax = rows[i].mb_s > tmax ? rows[i].mb_s : tmax;
    }
    const int bar = 14, gap = 4, group = 4 * 7 + 8;
    int y1 = 50, h1 = (int)nl * (bar + gap);
    int y2 = y1 + h1 + 70, h2 = (int)nt * group;
    int height = y2 + h2 + 60;
    /* written to a temporary file next to path, then renamed over it */
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -errno;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return -e;
    }
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
            W_TOTAL, height);
    fprintf(f, "<text x='10' y='%d' font-size='14' font-weight='bold'>Round trip p50 "
               "(µs, log scale; 64 B, or the mechanism's only size)</text>\n", y1 - 20);
    if (nl) {
        struct axis a = axis_for(lmin, lmax);
        draw_axis(f, a, y1 - 4, y1 + h1, "");
        for (size_t i = 0; i < nl; i++) {
            int y = y1 + (int)i * (bar + gap);
            double us = lat[i]->p50_ns / 1000;
            fprintf(f, "<text x='%d' y='%d' font-size='11' text-anchor='end'>",
                    W_LABEL - 6, y + bar - 3);
            text(f, lat[i]->m->label);
            fprintf(f, "</text>\n<rect x='%d' y='%d' width='%.1f' height='%d' fill='%s'/>\n",
                    W_LABEL, y, xpos(a, us) - W_LABEL + 1, bar,
                    lat[i]->m->kind == MECH_SPAWN ? "#9c755f" : "#4e79a7");
            fprintf(f, us >= 1000 ? "<text x='%.1f' y='%d' font-size='10'>%.0f</text>\n"
                                  : "<text x='%.1f' y='%d' font-size='10'>%.3g</text>\n",
                    xpos(a, us) + 4, y + bar - 3, us);
        }
    }
    fprintf(f, "<text x='10' y='%d' font-size='14' font-weight='bold'>One-way stream "
               "throughput (MB/s, log scale)</text>\n", y2 - 36);
    for (int s = 0; s < 4; s++)
        fprintf(f, "<rect x='%d' y='%d' width='12' height='10' fill='%s'/>"
                   "<text x='%d' y='%d' font-size='11'>%s</text>\n",
                W_LABEL + s * 90, y2 - 24, colors[s], W_LABEL + s * 90 + 16, y2 - 15,
                size_names[s]);
    if (nt) {
        struct axis a = axis_for(tmin, tmax);
        draw_axis(f, a, y2 - 4, y2 + h2, "");
        for (size_t i = 0; i < nt; i++) {
            int y = y2 + (int)i * group;
            fprintf(f, "<text x='%d' y='%d' font-size='11' text-anchor='end'>",
                    W_LABEL - 6, y + group / 2);
            text(f, tm[i]->label);
            fprintf(f, "</text>\n");
            for (int s = 0; s < 4; s++)
                for (size_t k = 0; k < n; k++) {
                    const struct row *r = &rows[k];
                    if (r->m != tm[i] || r->size != sizes[s] || !r->has_tput ||
                        r->status != ROW_OK || r->mb_s <= 0)
                        continue;
                    fprintf(f, "<rect x='%d' y='%d' width='%.1f' height='6' fill='%s'>"
                               "<title>%s: %.0f MB/s</title></rect>\n",
                            W_LABEL, y + s * 7, xpos(a, r->mb_s) - W_LABEL + 1,
                            colors[s], size_names[s], r->mb_s);
                }
        }
    }
    fprintf(f, "<text x='%d' y='%d' font-size='10' fill='#666'>generated by ipcbox ipcbench; "
               "every bar's bytes were verified by checksum</text>\n</svg>\n",
            10, height - 10);
    int r = fflush(f) != 0 || ferror(f) ? -EIO : 0;
    if (r == 0 && fsync(fileno(f)) < 0)
        r = -errno;
    if (fclose(f) != 0 && r == 0)
        r = -errno;
    if (r == 0 && fchmodat(AT_FDCWD, tmp, 0644, 0) < 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        unlink(tmp);
    return r;
}
