/* ipcbench internals: a mechanism is a duplex channel between two pinned
 * processes, A and B. The runner (runner.c) owns timing, warm-up, process
 * handling and verification; a mechanism only moves bytes. */
#ifndef IPCBOX_IPCBENCH_H
#define IPCBOX_IPCBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a mechanism measures. */
enum mech_kind {
    MECH_CHANNEL,   /* latency (ping-pong) and throughput (one-way stream) */
    MECH_LATENCY,   /* channel, latency rows only (signals, cache line) */
    MECH_SPAWN,     /* cost of starting a child */
    MECH_MEMCPY,    /* one core, no IPC, throughput only (references) */
};

struct chan;

/* A channel mechanism. All hooks return 0 or -errno. */
struct mech {
    const char *name;           /* --only name */
    const char *label;          /* table label */
    enum mech_kind kind;
    size_t fixed_size;          /* non-zero: one row of this size only */
    bool optional;              /* peer library rows (ZeroMQ, nng) */
    /* Parent, before fork: create what both sides inherit. May set
     * c->why and return -EMSGSIZE/-ENOSYS etc. for an n/a row. */
    int (*open)(struct chan *c);
    /* Child, after fork: become side 0 (A) or 1 (B). */
    int (*side)(struct chan *c, int side);
    /* Send one message of c->size bytes. */
    int (*send)(struct chan *c, const void *buf);
    /* Receive one message; *data points at its c->size bytes, valid until
     * release (or the next recv when release is NULL). */
    int (*recv)(struct chan *c, const void **data);
    /* Optional: done with the data of the last recv. */
    void (*release)(struct chan *c);
    /* Child, at the end (optional). */
    void (*leave)(struct chan *c);
    /* Parent, after both children are gone (optional). */
    void (*destroy)(struct chan *c);
    /* MECH_SPAWN: start a child and wait for it; 0 if it ran and exited 0. */
    int (*spawn)(const char *true_path);
};

/* Per-row channel state: created in the parent, each child works on its
 * own (forked) copy; state both sides must see lives behind priv. */
struct chan {
    const struct mech *m;
    size_t size;                /* message size in bytes */
    bool stream;                /* throughput run: A sends, B receives */
    int side;                   /* after side(): 0 A, 1 B */
    int fd[8];                  /* generic descriptors, -1 if unused */
    int rfd, wfd;               /* after side(): this side's descriptors */
    void *priv;                 /* mechanism state (parent-allocated) */
    unsigned char *rbuf;        /* receive buffer of size bytes */
    char tmpdir[64];            /* per-row scratch directory, if needed */
    char why[96];               /* why the row is n/a or failed */
};

/* Row status. */
enum row_status { ROW_OK, ROW_NA, ROW_FAIL };

/* One row of the result table. */
struct row {
    const struct mech *m;
    size_t size;
    enum row_status status;
    bool verified;
    bool has_lat, has_tput;
    uint64_t lat_count;         /* round trips measured (after warm-up) */
    double p50_ns, p99_ns, max_ns;
    uint64_t tput_count;        /* messages measured (after warm-up) */
    double mb_s, msg_s;         /* MB = 10^6 bytes */
    /* CPU cost of the ping-pong and of the stream: CPU seconds of both
     * sides together per second of wall time (2.0 = two cores busy the
     * whole run), from CLOCK_PROCESS_CPUTIME_ID and CLOCK_MONOTONIC read
     * by each side around its run. Channel rows only. */
    bool has_lat_cores, has_tput_cores;
    double lat_cores, tput_cores;
    /* The same plus the time the sides waited for a CPU while runnable
     * (/proc/self/schedstat): what they would have kept busy on an idle
     * machine. A spinning side wants a whole core however little a loaded
     * machine gives it. Negative when the kernel does not report it. */
    double lat_wanted, tput_wanted;
    char note[128];
};

/* Run parameters. */
struct plan {
    bool quick;
    double cap_s;               /* time cap per measurement */
    int cpu_a, cpu_b;           /* -1: not pinned */
    const char *true_path;      /* binary for the spawn rows */
};

/* All mechanisms, in table order (mechs.c). */
extern const struct mech *const ipcbench_mechs[];
extern const size_t ipcbench_nmechs;

/* Mechanism tables per family. */
extern const struct mech mech_pipe, mech_fifo, mech_unix_stream, mech_tcp;
extern const struct mech mech_unix_dgram, mech_udp, mech_posix_mq, mech_sysv_mq;
extern const struct mech mech_eventfd_shm, mech_shm_spin, mech_mmap_file,
                         mech_shmq, mech_cacheline;
extern const struct mech mech_signal, mech_fork_exec, mech_vfork_exec,
                         mech_posix_spawn, mech_fork_only;
extern const struct mech mech_memcpy, mech_memcpy_dram, mech_hash;
extern const struct mech mech_zmq, mech_nng;

/* Runner (runner.c): fill row for mechanism m at size (channel kinds),
 * or the spawn / memcpy rows. */
void run_row(const struct plan *pl, const struct mech *m, size_t size, struct row *row);

/* Reference rows (reference.c): single-core memcpy, no IPC. */
void run_reference(const struct plan *pl, const struct mech *m, size_t size,
                   struct row *row);

/* Runner helpers shared with the reference rows (runner.c). */
/* A random pool for messages of size bytes (malloc'd; free it). */
unsigned char *pool_make(size_t size);
/* Message i in direction dir: a window into pool that moves with i. */
const unsigned char *pool_msg(const unsigned char *pool, uint64_t i, int dir);
/* Warm-up and maximum measured counts for a measurement. */
void plan_counts(const struct plan *pl, size_t size, bool stream,
                 uint64_t *warm, uint64_t *max);
/* Pin the calling process to cpu (-1: leave it). */
void pin_cpu(int cpu);

/* Helpers shared by mechanisms (mech_util.c). */
int fd_write_all(int fd, const void *buf, size_t n);
int fd_read_all(int fd, void *buf, size_t n);
/* Make a private scratch directory for c (c->tmpdir) under base (NULL:
 * $TMPDIR, else /tmp; a base longer than 32 bytes falls back to /tmp so
 * socket paths stay short). */
int chan_tmpdir(struct chan *c, const char *base);
/* Remove c->tmpdir and the given file names inside it. */
void chan_tmpdir_remove(struct chan *c, const char *const *names, size_t n);
/* Allocate zeroed memory shared with children (MAP_SHARED). */
void *shared_alloc(size_t n);
void shared_free(void *p, size_t n);
int64_t now_ns(void);
/* CPU time of the calling process (all its threads), in ns. */
int64_t cpu_now_ns(void);
/* Time the calling thread has spent runnable but waiting for a CPU, in
 * ns (/proc/self/schedstat), or -1 when the kernel does not say. */
int64_t runq_wait_ns(void);
void cpu_relax(void);

/* Output (report.c). */
enum out_format { OUT_MARKDOWN, OUT_CSV, OUT_JSON };
void report_print(enum out_format f, const struct plan *pl, const struct row *rows,
                  size_t n);
int report_svg(const char *path, const struct row *rows, size_t n);
/* Cores busy as printed: "0.18", or "0.18 (1.98)" when the sides wanted
 * noticeably more than they got (wanted < 0: unknown). */
const char *report_cores(double busy, double wanted, char *buf, size_t len);
/* Write s to stdout as a JSON string (quotes and control bytes escaped). */
void json_string(const char *s);

/* The "which mechanism for which job" table (guide.c): every classic IPC
 * mechanism, always in the same order and number, with its speed and CPU
 * cost taken from the rows of this run (or "not measured in this run"). */
void guide_print_markdown(const struct row *rows, size_t n);
/* The same as a JSON array (no trailing newline). */
void guide_print_json(const struct row *rows, size_t n);
/* Rows of the guide (for tests and documentation). */
extern const size_t guide_nentries;

#endif
