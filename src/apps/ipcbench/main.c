//applet: ipcbench measure every local IPC mechanism: latency, throughput, verified
/* ipcbox ipcbench: between two processes pinned to different CPUs, the
 * round-trip latency (p50/p99/max) and one-way stream throughput of every
 * local IPC mechanism, for 64 B, 1 KiB, 64 KiB and 1 MiB messages, each
 * row verified by checksum. See docs/ipcbench.md for the method. */
#include <errno.h>
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

static const size_t default_sizes[] = {64, 1024, 65536, 1u << 20};
#define MAX_SIZES 8
#define MAX_ROWS 256

enum {
    OPT_QUICK = IBX_OPT_APPLET_BASE,
    OPT_ONLY,
    OPT_FORMAT,
    OPT_SVG,
    OPT_SIZES,
    OPT_CPUS,
    OPT_CAP_MS,
    OPT_LIST,
};

static const char help[] =
    "usage: ipcbox ipcbench [full] [OPTIONS]\n"
    "\n"
    "Measure local IPC between two processes pinned to different CPUs:\n"
    "round-trip latency (ping-pong p50/p99/max) and one-way stream\n"
    "throughput (MB/s, msg/s) for 64 B, 1 KiB, 64 KiB and 1 MiB messages.\n"
    "Every row checks by XXH3 that every byte arrived, in order, and\n"
    "gives the CPU both sides used (cores busy). After the table, a\n"
    "\"which mechanism for which job\" table: every classic IPC method with\n"
    "its speed and CPU cost from this run's rows.\n"
    "\n"
    "  full               the default: every mechanism, every size\n"
    "  --quick            short runs (a few seconds in total), for CI\n"
    "  --only NAME,...    only these mechanisms (see --list)\n"
    "  --sizes N,...      message sizes in bytes (default 64,1024,65536,1048576)\n"
    "  --format FMT       md (default), csv or json\n"
    "  --svg FILE         also write a bar chart to FILE\n"
    "  --cpus A,B         pin side A and side B to these CPUs (default: the\n"
    "                     first two CPUs this process may run on)\n"
    "  --cap-ms N         time cap per measurement (default 1000, quick 20)\n"
    "  --list             list the mechanisms and exit\n"
    "  --help             this text\n"
    "\n"
    "ZeroMQ and nng rows are loaded at run time (libzmq.so.5, libnng.so.1)\n"
    "and show n/a when the library is absent. Exit status: 0 if every row\n"
    "ran verified (or is n/a), 1 if any row failed, 2 on bad usage.\n";

static const struct mech *find_mech(const char *name, size_t len)
{
    for (size_t i = 0; i < ipcbench_nmechs; i++)
        if (strlen(ipcbench_mechs[i]->name) == len &&
            strncmp(ipcbench_mechs[i]->name, name, len) == 0)
            return ipcbench_mechs[i];
    return NULL;
}

/* Parse "a,b,c" of mechanism names into sel[]. */
static int parse_only(const char *s, bool *sel)
{
    if (!*s)
        return ibx_cli_usage("ipcbench", "--only wants mechanism names; --list shows them");
    while (*s) {
        size_t len = strcspn(s, ",");
        const struct mech *m = find_mech(s, len);
        if (!m)
            return ibx_cli_usage("ipcbench", "unknown mechanism '%.*s'; --list shows them",
                                 (int)len, s);
        for (size_t i = 0; i < ipcbench_nmechs; i++)
            if (ipcbench_mechs[i] == m)
                sel[i] = true;
        s += len;
        if (*s == ',')
            s++;
    }
    return 0;
}

static int parse_sizes(const char *s, size_t *sizes, size_t *n)
{
    *n = 0;
    char buf[32];
    while (*s) {
        size_t len = strcspn(s, ",");
        unsigned long v;
        if (len == 0 || len >= sizeof buf || *n == MAX_SIZES)
            return ibx_cli_usage("ipcbench", "--sizes wants up to %d sizes like 64,1024",
                                 MAX_SIZES);
        memcpy(buf, s, len);
        buf[len] = 0;
        if (ibx_cli_uint(buf, 8, 16u << 20, &v) < 0)
            return ibx_cli_usage("ipcbench", "--sizes: '%s' is not a size in 8..16777216", buf);
        sizes[(*n)++] = v;
        s += len;
        if (*s == ',')
            s++;
    }
    return *n ? 0 : ibx_cli_usage("ipcbench", "--sizes wants at least one size");
}

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

int ipcbench_main(int argc, char **argv)
{
    static const struct option opts[] = {
        IBX_CLI_BASIC_OPTIONS,
        {"quick", no_argument, 0, OPT_QUICK},
        {"only", required_argument, 0, OPT_ONLY},
        {"format", required_argument, 0, OPT_FORMAT},
        {"svg", required_argument, 0, OPT_SVG},
        {"sizes", required_argument, 0, OPT_SIZES},
        {"cpus", required_argument, 0, OPT_CPUS},
        {"cap-ms", required_argument, 0, OPT_CAP_MS},
        {"list", no_argument, 0, OPT_LIST},
        {0, 0, 0, 0},
    };
    struct plan pl = {.quick = false, .cap_s = 1.0};
    bool sel[64] = {false}, any_sel = false;
    size_t sizes[MAX_SIZES], nsizes = 4;
    memcpy(sizes, default_sizes, sizeof default_sizes);
    enum out_format fmt = OUT_MARKDOWN;
    const char *svg = NULL;
    unsigned long cap_ms = 0;
    ibx_log log;
    ibx_log_init(&log, "ipcbench");
    default_cpus(&pl.cpu_a, &pl.cpu_b);

    ibx_cli_getopt_reset();
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case IBX_OPT_HELP:
            fputs(help, stdout);
            return 0;
        case IBX_OPT_QUIET:
            log.level = IBX_LOG_WARN;
            break;
        case IBX_OPT_LOG_LEVEL:
            if (ibx_log_level_parse(optarg, &log.level) < 0)
                return ibx_cli_usage("ipcbench", "--log-level wants error, warn, info "
                                     "or debug, not '%s'", optarg);
            break;
        case OPT_QUICK:
            pl.quick = true;
            break;
        case OPT_ONLY:
            if (parse_only(optarg, sel) != 0)
                return IBX_EXIT_USAGE;
            any_sel = true;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "md") == 0 || strcmp(optarg, "markdown") == 0)
                fmt = OUT_MARKDOWN;
            else if (strcmp(optarg, "csv") == 0)
                fmt = OUT_CSV;
            else if (strcmp(optarg, "json") == 0)
                fmt = OUT_JSON;
            else
                return ibx_cli_usage("ipcbench", "--format wants md, csv or json, not '%s'",
                                     optarg);
            break;
        case OPT_SVG:
            svg = optarg;
            break;
        case OPT_SIZES:
            if (parse_sizes(optarg, sizes, &nsizes) != 0)
                return IBX_EXIT_USAGE;
            break;
        case OPT_CPUS: {
            unsigned a, b;
            char tail;
            if (sscanf(optarg, "%u,%u%c", &a, &b, &tail) != 2 || a >= CPU_SETSIZE ||
                b >= CPU_SETSIZE)
                return ibx_cli_usage("ipcbench", "--cpus wants two CPU numbers like 0,1");
            cpu_set_t allowed;
            if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 &&
                (!CPU_ISSET(a, &allowed) || !CPU_ISSET(b, &allowed)))
                return ibx_cli_usage("ipcbench", "--cpus %u,%u: not CPUs this process "
                                     "may run on", a, b);
            pl.cpu_a = (int)a;
            pl.cpu_b = (int)b;
            break;
        }
        case OPT_CAP_MS:
            if (ibx_cli_uint(optarg, 1, 600000, &cap_ms) < 0)
                return ibx_cli_usage("ipcbench", "--cap-ms wants 1..600000, not '%s'", optarg);
            break;
        case OPT_LIST:
            for (size_t i = 0; i < ipcbench_nmechs; i++)
                printf("%-12s %s\n", ipcbench_mechs[i]->name, ipcbench_mechs[i]->label);
            return 0;
        default:
            return ibx_cli_bad_option("ipcbench", argv);
        }
    }
    for (int i = optind; i < argc; i++)
        if (strcmp(argv[i], "full") != 0)
            return ibx_cli_usage("ipcbench", "unexpected argument '%s'", argv[i]);
    pl.cap_s = cap_ms ? cap_ms / 1000.0 : pl.quick ? 0.02 : 1.0;
    pl.true_path = find_true();
    if (pl.cpu_a == pl.cpu_b)
        ibx_warn(&log, "sides A and B both on CPU %d: they share it (busy-wait rows suffer)",
                 pl.cpu_a);

    static struct row rows[MAX_ROWS];
    size_t nrows = 0;
    int fails = 0;
    for (size_t i = 0; i < ipcbench_nmechs; i++) {
        const struct mech *m = ipcbench_mechs[i];
        if (any_sel && !sel[i])
            continue;
        size_t one = m->fixed_size ? m->fixed_size : 0;
        size_t count = m->kind == MECH_SPAWN ? 1 : one ? 1 : nsizes;
        for (size_t k = 0; k < count && nrows < MAX_ROWS; k++) {
            size_t size = m->kind == MECH_SPAWN ? 0 : one ? one : sizes[k];
            struct row *r = &rows[nrows++];
            if (m->kind == MECH_SPAWN && !pl.true_path) {
                memset(r, 0, sizeof *r);
                r->m = m;
                r->status = ROW_NA;
                snprintf(r->note, sizeof r->note, "no /bin/true to exec");
                continue;
            }
            ibx_debug(&log, "running %s, %zu bytes", m->name, size);
            run_row(&pl, m, size, r);
            if (r->status == ROW_FAIL) {
                fails++;
                ibx_err(&log, "%s %zu B failed: %s", m->name, size, r->note);
            } else if (r->status == ROW_NA) {
                ibx_info(&log, "%s %zu B n/a: %s", m->name, size, r->note);
            }
        }
    }
    report_print(fmt, &pl, rows, nrows);
    if (svg) {
        int r = report_svg(svg, rows, nrows);
        if (r < 0) {
            ibx_err(&log, "writing %s: %s", svg, strerror(-r));
            return 1;
        }
        ibx_info(&log, "chart written to %s", svg);
    }
    ibx_info(&log, "%zu rows, %d failed", nrows, fails);
    return fails ? 1 : 0;
}
