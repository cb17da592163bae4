/* ipcbench output: a markdown table (default), CSV, JSON, and an SVG
 * chart (round-trip p50 at the smallest size, stream MB/s per size).
 * Measurements only: the rows, the CPU they cost, and the "which
 * mechanism for which job" table built from them (guide.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const char *size_label(size_t n, char *buf, size_t len)
{
    if (n == 0)
        snprintf(buf, len, "-");
    else if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(buf, len, "%zu MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%zu KiB", n >> 10);
    else
        snprintf(buf, len, "%zu B", n);
    return buf;
}

static const char *fmt_us(double ns, char *buf, size_t len)
{
    double us = ns / 1000;
    snprintf(buf, len, us < 10 ? "%.2f" : us < 100 ? "%.1f" : "%.0f", us);
    return buf;
}

static const char *fmt_big(double v, char *buf, size_t len)
{
    if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
    return buf;
}

static const char *status_word(const struct row *r)
{
    if (r->status == ROW_NA)
        return "n/a";
    if (r->status == ROW_FAIL)
        return "FAIL";
    return r->verified ? "yes" : "NO";
}

/* Machine-readable status: ok, n/a or fail. */
static const char *status_code(const struct row *r)
{
    if (r->status == ROW_NA)
        return "n/a";
    return r->status == ROW_OK && r->verified ? "ok" : "fail";
}

static const struct row *find(const struct row *rows, size_t n, const char *name, size_t size)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].m->name, name) == 0 && rows[i].size == size &&
            rows[i].status == ROW_OK)
            return &rows[i];
    return NULL;
}

static void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v += strspn(v + 1, " \t") + 1;
                v[strcspn(v, "\n")] = 0;
                snprintf(buf, len, "%s", v);
            }
            break;
        }
    fclose(f);
}

/* Cores busy, or empty when not measured (see report_cores). */
static const char *fmt_cores(bool has, double busy, double wanted, char *buf, size_t len)
{
    if (has)
        report_cores(busy, wanted, buf, len);
    else
        snprintf(buf, len, "%s", "");
    return buf;
}

const char *report_cores(double busy, double wanted, char *buf, size_t len)
{
    if (wanted >= 0 && wanted - busy >= 0.05)
        snprintf(buf, len, "%.2f (%.2f)", busy, wanted);
    else
        snprintf(buf, len, "%.2f", busy);
    return buf;
}

/* The 1-minute load average, or -1. */
static double loadavg(void)
{
    double v = -1;
    FILE *f = fopen("/proc/loadavg", "re");
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void print_markdown(const struct plan *pl, const struct row *rows, size_t n)
{
    char when[64], cpu[128];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    cpu_model(cpu, sizeof cpu);
    printf("ipcbench %s, %s, %ld CPUs online, load average %.2f at the end; side A on "
           "CPU %d, side B on CPU %d; %s run\n\n", when, cpu,
           sysconf(_SC_NPROCESSORS_ONLN), loadavg(), pl->cpu_a, pl->cpu_b,
           pl->quick ? "quick" : "full");
    printf("| mechanism | size | rtt p50 µs | rtt p99 µs | rtt max µs | MB/s | msg/s "
           "| CPU rtt | CPU stream | verified | note |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---|\n");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        char sz[32], a[32], b[32], c[32], d[32], e[32], f[48], g[48];
        printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r->m->label,
               size_label(r->size, sz, sizeof sz),
               r->has_lat ? fmt_us(r->p50_ns, a, sizeof a) : "",
               r->has_lat ? fmt_us(r->p99_ns, b, sizeof b) : "",
               r->has_lat ? fmt_us(r->max_ns, c, sizeof c) : "",
               r->has_tput ? fmt_big(r->mb_s, d, sizeof d) : "",
               r->has_tput ? fmt_big(r->msg_s, e, sizeof e) : "",
               fmt_cores(r->has_lat_cores, r->lat_cores, r->lat_wanted, f, sizeof f),
               fmt_cores(r->has_tput_cores, r->tput_cores, r->tput_wanted, g, sizeof g),
               status_word(r), r->note);
    }
    printf("\nCPU rtt / CPU stream: cores busy during the ping-pong / the stream, "
           "both sides together (CPU seconds per second of wall time; 2.00 = two "
           "cores the whole run). In parentheses when it differs: the cores the "
           "sides would have kept busy had they not waited for a CPU (time "
           "runnable, from /proc/self/schedstat): on a loaded machine a spinning "
           "side gets only its share of a CPU but wants all of it.\n");
    const struct row *h = find(rows, n, "xxh3", 1u << 20),
                     *q = find(rows, n, "shmq", 1u << 20),
                     *m = find(rows, n, "memcpy", 1u << 20);
    if (h && h->mb_s > 0 && q && q->has_tput && m && m->mb_s > 0) {
        char v[32];
        printf("Bound: every receiver hashes each byte with XXH3, which alone runs at "
               "%s MB/s on 1 MiB messages here (%.2f x in-cache memcpy); the shmq 1 MiB "
               "stream reaches %.2f x that.\n", fmt_big(h->mb_s, v, sizeof v),
               h->mb_s / m->mb_s, q->mb_s / h->mb_s);
    }
    guide_print_markdown(rows, n);
}

/* CSV/JSON strings here are our own labels and kernel error texts: quote
 * and escape the few characters that matter. */
static void csv_field(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

/* Two CSV fields: cores busy and cores wanted (empty when unknown). */
static void csv_cores(bool has, double busy, double wanted)
{
    if (has)
        printf("%.3f", busy);
    putchar(',');
    if (has && wanted >= 0)
        printf("%.3f", wanted);
    putchar(',');
}

static void print_csv(const struct row *rows, size_t n)
{
    printf("mechanism,label,size,status,verified,rtt_count,rtt_p50_ns,rtt_p99_ns,rtt_max_ns,"
           "stream_count,mb_per_s,msg_per_s,rtt_cpu_cores,rtt_cpu_wanted,"
           "stream_cpu_cores,stream_cpu_wanted,note\n");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        printf("%s,", r->m->name);
        csv_field(r->m->label);
        printf(",%zu,%s,%s,", r->size, status_code(r),
               r->status == ROW_OK && r->verified ? "true" : "false");
        if (r->has_lat)
            printf("%llu,%.0f,%.0f,%.0f,", (unsigned long long)r->lat_count,
                   r->p50_ns, r->p99_ns, r->max_ns);
        else
            printf(",,,,");
        if (r->has_tput)
            printf("%llu,%.1f,%.0f,", (unsigned long long)r->tput_count, r->mb_s, r->msg_s);
        else
            printf(",,,");
        csv_cores(r->has_lat_cores, r->lat_cores, r->lat_wanted);
        csv_cores(r->has_tput_cores, r->tput_cores, r->tput_wanted);
        csv_field(r->note);
        putchar('\n');
    }
}

static void json_num(const char *key, double v, bool comma)
{
    printf("\"%s\": ", key);
    if (isnan(v))
        printf("null");
    else
        printf("%.3f", v);
    if (comma)
        printf(", ");
}

static void print_json(const struct plan *pl, const struct row *rows, size_t n)
{
    char cpu[128];
    cpu_model(cpu, sizeof cpu);
    printf("{\"cpu\": ");
    json_string(cpu);
    printf(", \"cpu_a\": %d, \"cpu_b\": %d, \"quick\": %s, \"time\": %lld,\n \"rows\": [\n",
           pl->cpu_a, pl->cpu_b, pl->quick ? "true" : "false", (long long)time(NULL));
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        printf("  {\"mechanism\": \"%s\", \"label\": ", r->m->name);
        json_string(r->m->label);
        printf(", \"size\": %zu, \"status\": \"%s\", \"verified\": %s", r->size,
               status_code(r), r->status == ROW_OK && r->verified ? "true" : "false");
        if (r->has_lat)
            printf(", \"rtt_count\": %llu, \"rtt_p50_ns\": %.0f, \"rtt_p99_ns\": %.0f, "
                   "\"rtt_max_ns\": %.0f", (unsigned long long)r->lat_count,
                   r->p50_ns, r->p99_ns, r->max_ns);
        if (r->has_tput)
            printf(", \"stream_count\": %llu, \"mb_per_s\": %.1f, \"msg_per_s\": %.0f",
                   (unsigned long long)r->tput_count, r->mb_s, r->msg_s);
        if (r->has_lat_cores) {
            printf(", \"rtt_cpu_cores\": %.3f, ", r->lat_cores);
            json_num("rtt_cpu_wanted", r->lat_wanted >= 0 ? r->lat_wanted : NAN, false);
        }
        if (r->has_tput_cores) {
            printf(", \"stream_cpu_cores\": %.3f, ", r->tput_cores);
            json_num("stream_cpu_wanted", r->tput_wanted >= 0 ? r->tput_wanted : NAN, false);
        }
        printf(", \"note\": ");
        json_string(r->note);
        printf("}%s\n", i + 1 < n ? "," : "");
    }
    /* the receivers' own ceiling (see the markdown "bound" line) */
    const struct row *h = find(rows, n, "xxh3", 1u << 20),
                     *q = find(rows, n, "shmq", 1u << 20),
                     *m = find(rows, n, "memcpy", 1u << 20);
    printf(" ],\n \"bound\": {");
    json_num("xxh3_1MiB_vs_memcpy", h && m && m->mb_s > 0 ? h->mb_s / m->mb_s : NAN, true);
    json_num("shmq_1MiB_bw_vs_xxh3", h && q && q->has_tput && h->mb_s > 0 ?
             q->mb_s / h->mb_s : NAN, false);
    printf("},\n \"guide\": ");
    guide_print_json(rows, n);
    printf("\n}\n");
}

void report_print(enum out_format f, const struct plan *pl, const struct row *rows, size_t n)
{
    if (f == OUT_CSV)
        print_csv(rows, n);
    else if (f == OUT_JSON)
        print_json(pl, rows, n);
    else
        print_markdown(pl, rows, n);
    fflush(stdout);
}
