//applet: ipcbench measure every local IPC mechanism: latency, throughput, verified
/* ipcbox ipcbench: between two processes pinned to different CPUs, the
 * round-trip latency (p50/p99/max) and one-way stream throughput of every
 * local IPC mechanism, for 64 B, 1 KiB, 64 KiB and 1 MiB messages, each
 * row verified by checksum. See docs/ipcbench.md for the method. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"

/* Table (and run) order: the floor, the queue and the one-core references
 * first, close together in time, because the "bound" line compares them and
 * a shared machine's load drifts during a run; then every other mechanism. */
const struct mech *const ipcbench_mechs[] = {
    &mech_cacheline, &mech_shmq, &mech_memcpy, &mech_memcpy_dram, &mech_hash,
    &mech_pipe, &mech_shm_spin, &mech_mmap_file, &mech_eventfd_shm, &mech_fifo,
    &mech_unix_stream, &mech_unix_dgram, &mech_tcp, &mech_udp, &mech_posix_mq,
    &mech_sysv_mq, &mech_signal, &mech_zmq, &mech_nng, &mech_fork_exec,
    &mech_vfork_exec, &mech_posix_spawn, &mech_fork_only,
};
const size_t ipcbench_nmechs = sizeof ipcbench_mechs / sizeof ipcbench_mechs[0];

#define MAX_SIZES 8
#define MAX_ROWS 256

/* What the command line asks for. */
struct bench_cfg {
    bool quick;
    bool list;
    bool sel[64];               /* --only: the mechanisms chosen */
    bool any_sel;
    size_t sizes[MAX_SIZES];
    size_t nsizes;
    enum out_format fmt;
    const char *svg;
    unsigned cap_ms;            /* 0: 1000, or 20 with --quick */
    int cpu_a, cpu_b;
};

static const struct mech *find_mech(const char *name, size_t len)
{
    for (size_t i = 0; i < ipcbench_nmechs; i++)
        if (strlen(ipcbench_mechs[i]->name) == len &&
            strncmp(ipcbench_mechs[i]->name, name, len) == 0)
            return ipcbench_mechs[i];
    return NULL;
}

/* --only a,b,c: mechanism names (every --only adds to the choice). */
static int set_only(void *cfg, const char *s, char *err, size_t errlen)
{
    struct bench_cfg *bc = cfg;
    const char *all = s;
    if (!*s) {
        snprintf(err, errlen, "wants mechanism names from --list");
        return -1;
    }
    while (*s) {
        size_t len = strcspn(s, ",");
        const struct mech *m = find_mech(s, len);
        if (!m && len == strlen(all)) {
            snprintf(err, errlen, "wants mechanism names from --list");
            return -1;
        }
        if (!m) {
            snprintf(err, errlen, "wants mechanism names from --list ('%.*s' is not one)",
                     (int)len, s);
            return -1;
        }
        for (size_t i = 0; i < ipcbench_nmechs; i++)
            if (ipcbench_mechs[i] == m)
                bc->sel[i] = true;
        s += len;
        if (*s == ',')
            s++;
    }
    bc->any_sel = true;
    return 0;
}

/* --sizes 64,1024: message sizes in bytes (the last --sizes wins). */
static int set_sizes(void *cfg, const char *s, char *err, size_t errlen)
{
    struct bench_cfg *bc = cfg;
    const char *all = s;
    size_t n = 0;
    char buf[32];
    while (*s) {
        size_t len = strcspn(s, ",");
        uint64_t v;
        if (len == 0 || len >= sizeof buf || n == MAX_SIZES) {
            snprintf(err, errlen, "wants up to %d sizes like 64,1024", MAX_SIZES);
            return -1;
        }
        memcpy(buf, s, len);
        buf[len] = 0;
        if (opt_parse_uint(buf, 8, 16u << 20, &v) < 0) {
            if (len == strlen(all))
                snprintf(err, errlen, "wants sizes in 8..16777216 like 64,1024");
            else
                snprintf(err, errlen, "wants sizes in 8..16777216 ('%s' is not)", buf);
            return -1;
        }
        bc->sizes[n++] = (size_t)v;
        s += len;
        if (*s == ',')
            s++;
    }
    if (!n) {
        snprintf(err, errlen, "wants at least one size");
        return -1;
    }
    bc->nsizes = n;
    return 0;
}

static int set_format(void *cfg, const char *s, char *err, size_t errlen)
{
    struct bench_cfg *bc = cfg;
    if (strcmp(s, "md") == 0 || strcmp(s, "markdown") == 0)
        bc->fmt = OUT_MARKDOWN;
    else if (strcmp(s, "csv") == 0)
        bc->fmt = OUT_CSV;
    else if (strcmp(s, "json") == 0)
        bc->fmt = OUT_JSON;
    else {
        snprintf(err, errlen, "wants md, csv or json");
        return -1;
    }
    return 0;
}

static int set_cpus(void *cfg, const char *s, char *err, size_t errlen)
{
    struct bench_cfg *bc = cfg;
    unsigned a, b;
    char tail;
    if (sscanf(s, "%u,%u%c", &a, &b, &tail) != 2 || a >= CPU_SETSIZE ||
        b >= CPU_SETSIZE) {
        snprintf(err, errlen, "wants two CPU numbers like 0,1");
        return -1;
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 &&
        (!CPU_ISSET(a, &allowed) || !CPU_ISSET(b, &allowed))) {
        snprintf(err, errlen, "wants CPUs this process may run on");
        return -1;
    }
    bc->cpu_a = (int)a;
    bc->cpu_b = (int)b;
    return 0;
}

static const struct opt bench_opts[] = {
    OPT_B(struct bench_cfg, quick, "quick",
          "short runs (a few seconds in total), for CI"),
    OPT_C(struct bench_cfg, sel, "only", "NAME,...", NULL, set_only,
          "only these mechanisms (see --list); may be repeated"),
    OPT_C(struct bench_cfg, sizes, "sizes", "N,...", "64,1024,65536,1048576", set_sizes,
          "message sizes in bytes"),
    OPT_C(struct bench_cfg, fmt, "format", "FMT", "md", set_format, "md, csv or json"),
    OPT_S(struct bench_cfg, svg, "svg", "FILE", "also write a bar chart to FILE"),
    OPT_C(struct bench_cfg, cpu_a, "cpus", "A,B", NULL, set_cpus,
          "pin side A and side B to these CPUs (default: the first two CPUs this "
          "process may run on)"),
    OPT_U(struct bench_cfg, cap_ms, "cap-ms", "N", NULL, 1, 600000,
          "time cap per measurement in milliseconds (default: 1000, with --quick 20)"),
    OPT_B(struct bench_cfg, list, "list", "list the mechanisms and exit"),
    OPT_TABLE_END,
};

static const char bench_about[] =
    "Measure local IPC between two processes pinned to different CPUs. For "
    "64 B, 1 KiB, 64 KiB and 1 MiB messages: round-trip latency (ping-pong "
    "p50/p99/max) and one-way stream throughput (MB/s, msg/s). Every row checks "
    "by XXH3 that every byte arrived, in order, and gives the CPU both sides "
    "used (cores busy). After the table, a \"which mechanism for which job\" "
    "table: every classic IPC method with its speed and CPU cost from this "
    "run's rows.\n\n"
    "The argument 'full' is the default: every mechanism, every size.";

static const char bench_footer[] =
    "ZeroMQ and nng rows are loaded at run time (libzmq.so.5, libnng.so.1)\n"
    "and show n/a when the library is absent. Exit status: 0 if every row\n"
    "ran verified (or is n/a), 1 if any row failed, 2 on bad usage.\n";

/* The first two CPUs we may run on (or the one we have, twice). */
static void default_cpus(int *a, int *b)
{
    cpu_set_t set;
    *a = *b = -1;
    if (sched_getaffinity(0, sizeof set, &set) < 0)
        return;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set)) {
            if (*a < 0)
                *a = i;
            else if (*b < 0) {
                *b = i;
                break;
            }
        }
    if (*b < 0)
        *b = *a;
}

static const char *find_true(void)
{
    static const char *const cand[] = {"/bin/true", "/usr/bin/true"};
    for (size_t i = 0; i < 2; i++)
        if (access(cand[i], X_OK) == 0)
            return cand[i];
    return NULL;
}

static int list_mechs(void)
{
    for (size_t i = 0; i < ipcbench_nmechs; i++)
        printf("%-12s %s\n", ipcbench_mechs[i]->name, ipcbench_mechs[i]->label);
    return 0;
}

/* Run the rows bc asks for and print them. Returns the exit status. */
static int run_bench(const struct bench_cfg *bc, const ibx_log *log)
{
    struct plan pl = {.quick = bc->quick, .cpu_a = bc->cpu_a, .cpu_b = bc->cpu_b};
    pl.cap_s = bc->cap_ms ? bc->cap_ms / 1000.0 : pl.quick ? 0.02 : 1.0;
    pl.true_path = find_true();
    if (pl.cpu_a == pl.cpu_b)
        ibx_warn(log, "sides A and B both on CPU %d: they share it (busy-wait rows suffer)",
                 pl.cpu_a);

    static struct row rows[MAX_ROWS];
    size_t nrows = 0;
    int fails = 0;
    for (size_t i = 0; i < ipcbench_nmechs; i++) {
        const struct mech *m = ipcbench_mechs[i];
        if (bc->any_sel && !bc->sel[i])
            continue;
        size_t one = m->fixed_size ? m->fixed_size : 0;
        size_t count = m->kind == MECH_SPAWN ? 1 : one ? 1 : bc->nsizes;
        for (size_t k = 0; k < count && nrows < MAX_ROWS; k++) {
            size_t size = m->kind == MECH_SPAWN ? 0 : one ? one : bc->sizes[k];
            struct row *r = &rows[nrows++];
            if (m->kind == MECH_SPAWN && !pl.true_path) {
                memset(r, 0, sizeof *r);
                r->m = m;
                r->status = ROW_NA;
                snprintf(r->note, sizeof r->note, "no /bin/true to exec");
                continue;
            }
            ibx_debug(log, "running %s, %zu bytes", m->name, size);
            run_row(&pl, m, size, r);
            if (r->status == ROW_FAIL) {
                fails++;
                ibx_err(log, "%s %zu B failed: %s", m->name, size, r->note);
            } else if (r->status == ROW_NA) {
                ibx_info(log, "%s %zu B n/a: %s", m->name, size, r->note);
            }
        }
    }
    report_print(bc->fmt, &pl, rows, nrows);
    if (bc->svg) {
        int r = report_svg(bc->svg, rows, nrows);
        if (r < 0) {
            ibx_err(log, "writing %s: %s", bc->svg, strerror(-r));
            return 1;
        }
        ibx_info(log, "chart written to %s", bc->svg);
    }
    ibx_info(log, "%zu rows, %d failed", nrows, fails);
    return fails ? 1 : 0;
}

int ipcbench_main(int argc, char **argv)
{
    struct bench_cfg bc;
    memset(&bc, 0, sizeof bc);
    default_cpus(&bc.cpu_a, &bc.cpu_b);
    opt_defaults(bench_opts, &bc);
    struct cli cli;
    cli_init(&cli, "ipcbench");
    opt_defaults(cli_log_opts, &cli);
    struct opt_cmd cmd;
    opt_cmd_init(&cmd, "ipcbench", "[full] [options]", bench_about);
    cmd.footer = bench_footer;
    cmd.max_args = UINT_MAX;   /* only 'full', checked below */
    opt_cmd_add(&cmd, "options", NULL, NULL, bench_opts, &bc);
    opt_cmd_add(&cmd, "options", NULL, NULL, cli_log_opts, &cli);
    int rc = opt_parse(&cmd, argc, argv);
    for (size_t i = 0; rc < 0 && i < cmd.nargs; i++)
        if (strcmp(cmd.args[i], "full") != 0)
            rc = opt_usage("ipcbench", "unexpected argument '%s'", cmd.args[i]);
    if (rc < 0) {
        cli_finish(&cli);
        rc = bc.list ? list_mechs() : run_bench(&bc, &cli.log);
    }
    opt_cmd_free(&cmd);
    return rc;
}
