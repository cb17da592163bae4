/* ipcbench's "which mechanism for which job" table: the classic
 * comparison of IPC methods (subprocess, signals, pipes, FIFOs, sockets,
 * message queues, shared memory, mmap'd files, messaging libraries), one
 * line per method, with what it costs to write and what it is for, and
 * its speed taken from the rows of this very run, never from a table of
 * remembered figures:
 *
 *   latency     channel rows: the round-trip p50 at the smallest message
 *               size this run measured for the mechanism; spawn rows: the
 *               p50 of starting a child and reaping it
 *   stream      the highest one-way MB/s of any size this run measured,
 *               with that size
 *   CPU         the CPU cost of waiting: cores busy (CPU seconds of both
 *               sides per second of wall time) during the ping-pong at
 *               that smallest size. A mechanism that sleeps while it
 *               waits stays well under 2; one that spins costs two cores
 *               whatever it moves.
 *
 * The table always has the same lines in the same order: a mechanism
 * this run did not measure (not selected with --only, n/a on this
 * machine, or failed) says so in its speed cells. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* One line of the guide. */
struct guide_entry {
    const char *method;        /* the classic name */
    const char *mech;          /* the ipcbench mechanism measured for it (--only) */
    const char *complexity;    /* low / medium / high, and why */
    const char *use;           /* the job it is for */
};

static const struct guide_entry guide[] = {
    {"subprocess: exec, argv in, exit status out", "forkexec",
     "low: spawn, wait, read the status",
     "run a tool once per job; its output through a pipe"},
    {"signals", "signal",
     "high: async-signal-safe handlers; a word of payload at most",
     "notify: stop, reload (SIGHUP), child exited"},
    {"pipe", "pipe",
     "low: a descriptor pair inherited by the child",
     "parent to child byte stream; shell pipelines"},
    {"FIFO (named pipe)", "fifo",
     "low: a path in the file system, one reader",
     "unrelated processes on one host, no server"},
    {"Unix stream socket", "unix",
     "medium: listen/accept, your own framing",
     "local client/server; peer credentials, fd passing"},
    {"Unix datagram socket", "unixdgram",
     "medium: message boundaries kept, size limited",
     "local messages (syslog's /dev/log)"},
    {"TCP socket (loopback)", "tcp",
     "medium: framing, connection handling",
     "services that must also work across machines"},
    {"UDP socket (loopback)", "udp",
     "medium: loss and order are yours",
     "datagrams across machines: discovery, telemetry"},
    {"POSIX message queue", "mq",
     "medium: kernel-bounded queue, priorities",
     "small prioritised messages between local processes"},
    {"SysV message queue", "sysvmq",
     "medium: legacy API, keys instead of paths",
     "existing System V code"},
    {"shared memory + eventfd wake-up", "eventfd",
     "high: your own ring and synchronisation",
     "bulk data in place; the reader sleeps until told"},
    {"shared memory, busy-wait", "shmspin",
     "high: your own ring; burns a core per waiting side",
     "lowest latency when each side owns a core"},
    {"mmap'd file", "mmapfile",
     "high: as shared memory, plus a file's lifetime",
     "shared state with a name that outlives processes"},
    {"ipcbox shmq (shared-memory queue)", "shmq",
     "low: a library call; spins briefly, then sleeps",
     "fast local messages without writing a ring"},
    {"ZeroMQ (library)", "zmq",
     "low: a library; patterns built in",
     "pub/sub, request/reply, pipelines over ipc:// or tcp://"},
    {"nng (library)", "nng",
     "low: a library; patterns built in",
     "the same patterns, from the nanomsg line"},
};

const size_t guide_nentries = sizeof guide / sizeof guide[0];

/* What this run has for one mechanism. */
struct guide_speed {
    enum { G_MEASURED, G_NOT_RUN, G_NA, G_FAILED } status;
    bool spawn;                /* latency is start + reap of a child */
    const struct row *lat;     /* the latency row (smallest size), or NULL */
    const struct row *tput;    /* the fastest stream row, or NULL */
    const char *why;           /* n/a or failure note */
};

static void speed_of(const char *mech, const struct row *rows, size_t n,
                     struct guide_speed *g)
{
    memset(g, 0, sizeof *g);
    bool seen = false, any_ok = false;
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->m->name, mech) != 0)
            continue;
        seen = true;
        if (r->status != ROW_OK || !r->verified) {
            if (!g->why)
                g->why = r->note;
            if (r->status != ROW_NA)
                g->status = G_FAILED;
            continue;
        }
        any_ok = true;
        g->spawn = r->m->kind == MECH_SPAWN;
        if (r->has_lat && (!g->lat || r->size < g->lat->size))
            g->lat = r;
        if (r->has_tput && (!g->tput || r->mb_s > g->tput->mb_s))
            g->tput = r;
    }
    if (!seen)
        g->status = G_NOT_RUN;
    else if (any_ok)
        g->status = G_MEASURED;
    else if (g->status != G_FAILED)
        g->status = G_NA;
}

static const char *status_text(const struct guide_speed *g)
{
    return g->status == G_NOT_RUN ? "not measured in this run"
         : g->status == G_NA ? "n/a in this run"
         : g->status == G_FAILED ? "failed in this run" : "measured";
}

/* Like the main table: KiB and MiB when exact. */
static const char *size_text(size_t n, char *buf, size_t len)
{
    if (n >= (1u << 20) && n % (1u << 20) == 0)
        snprintf(buf, len, "%zu MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%zu KiB", n >> 10);
    else
        snprintf(buf, len, "%zu B", n);
    return buf;
}

static const char *us_text(double ns, char *buf, size_t len)
{
    double us = ns / 1000;
    if (us >= 1000)
        snprintf(buf, len, "%.1f ms", us / 1000);
    else
        snprintf(buf, len, us < 10 ? "%.2f µs" : us < 100 ? "%.1f µs" : "%.0f µs", us);
    return buf;
}

void guide_print_markdown(const struct row *rows, size_t n)
{
    printf("\nWhich mechanism for which job (speed and CPU from the rows above; "
           "latency: round-trip p50 at the smallest size measured, or start and "
           "reap of a child; stream: the fastest size; CPU: cores busy during that "
           "ping-pong, both sides, as in CPU rtt):\n\n");
    printf("| mechanism | measured as | latency | stream | CPU (ping-pong) "
           "| complexity | typical use |\n");
    printf("|---|---|---:|---:|---:|---|---|\n");
    for (size_t k = 0; k < guide_nentries; k++) {
        const struct guide_entry *e = &guide[k];
        struct guide_speed g;
        speed_of(e->mech, rows, n, &g);
        char lat[96] = "-", tput[96] = "-", cpu[96] = "-", a[32], b[32];
        if (g.status != G_MEASURED) {
            snprintf(lat, sizeof lat, "%s", status_text(&g));
            snprintf(tput, sizeof tput, "%s", status_text(&g));
            snprintf(cpu, sizeof cpu, "%s", status_text(&g));
        } else {
            if (g.lat && g.spawn)
                snprintf(lat, sizeof lat, "%s per child", us_text(g.lat->p50_ns, a, sizeof a));
            else if (g.lat)
                snprintf(lat, sizeof lat, "%s (%s)", us_text(g.lat->p50_ns, a, sizeof a),
                         size_text(g.lat->size, b, sizeof b));
            if (g.tput)
                snprintf(tput, sizeof tput, "%.0f MB/s (%s)", g.tput->mb_s,
                         size_text(g.tput->size, b, sizeof b));
            if (g.lat && g.lat->has_lat_cores)
                report_cores(g.lat->lat_cores, g.lat->lat_wanted, cpu, sizeof cpu);
        }
        printf("| %s | `%s` | %s | %s | %s | %s | %s |\n", e->method, e->mech, lat, tput,
               cpu, e->complexity, e->use);
    }
}

void guide_print_json(const struct row *rows, size_t n)
{
    static const char *const code[] = {"measured", "not measured", "n/a", "failed"};
    printf("[\n");
    for (size_t k = 0; k < guide_nentries; k++) {
        const struct guide_entry *e = &guide[k];
        struct guide_speed g;
        speed_of(e->mech, rows, n, &g);
        printf("  {\"method\": ");
        json_string(e->method);
        printf(", \"mechanism\": \"%s\", \"status\": \"%s\"", e->mech, code[g.status]);
        if (g.status == G_MEASURED && g.lat)
            printf(", \"latency\": \"%s\", \"latency_p50_ns\": %.0f, \"latency_size\": %zu",
                   g.spawn ? "spawn" : "rtt", g.lat->p50_ns, g.lat->size);
        else
            printf(", \"latency\": null, \"latency_p50_ns\": null, \"latency_size\": null");
        if (g.status == G_MEASURED && g.tput)
            printf(", \"stream_mb_per_s\": %.1f, \"stream_size\": %zu", g.tput->mb_s,
                   g.tput->size);
        else
            printf(", \"stream_mb_per_s\": null, \"stream_size\": null");
        if (g.status == G_MEASURED && g.lat && g.lat->has_lat_cores)
            printf(", \"cpu_cores\": %.3f", g.lat->lat_cores);
        else
            printf(", \"cpu_cores\": null");
        if (g.status == G_MEASURED && g.lat && g.lat->has_lat_cores && g.lat->lat_wanted >= 0)
            printf(", \"cpu_wanted\": %.3f", g.lat->lat_wanted);
        else
            printf(", \"cpu_wanted\": null");
        printf(", \"complexity\": ");
        json_string(e->complexity);
        printf(", \"use\": ");
        json_string(e->use);
        printf(", \"note\": ");
        if (g.why && g.status != G_MEASURED)
            json_string(g.why);
        else
            printf("null");
        printf("}%s\n", k + 1 < guide_nentries ? "," : "");
    }
    printf(" ]");
}
