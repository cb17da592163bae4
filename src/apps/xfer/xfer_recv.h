/* The recv server protocol, shared by the recv applet and its serve
 * registration. */
#ifndef IPCBOX_APPS_XFER_RECV_H
#define IPCBOX_APPS_XFER_RECV_H

#include <stdatomic.h>
#include <stdbool.h>

#include "ipcbox/log.h"
#include "ipcbox/server.h"
#include "xfer.h"

/* Configuration shared by every connection of one recv listener. With
 * once, the first connection to close shuts the server down (single
 * loop models only: status is written without locking). */
struct recv_cfg {
    int rootfd;             /* the served directory */
    struct xfer_rx_opts opts;
    unsigned idle_ms;       /* close connections silent this long */
    const ibx_log *log;
    ibx_server *srv;
    bool once;              /* stop after the first connection */
    int status;             /* worst exit code seen (for --once) */
    uint64_t part_ttl_s;    /* remove part files unused this long; 0 = keep */
    struct recv_sweeper *sweep; /* the sweeper of the main loop, or NULL */
    uint64_t min_free;      /* bytes kept free on the disk (--min-free), */
    unsigned min_free_pct;  /* ... or this percent of it, if not 0 */
    /* bytes that accepted uploads may still write, counted against the
     * free space: in memory shared with the processes the server forks
     * (recv_shared_map), so every connection counts, whatever thread or
     * process (fork, prefork) serves it */
    _Atomic uint64_t *promised;
    const struct xfer_token *token; /* shared secret; NULL = anonymous */
    unsigned handshake_ms;  /* HELLO and authentication must be over by then */
    atomic_ulong auth_failures; /* failed proofs since start (log lines) */
    /* lines about connections that have not finished the handshake
     * (anyone can open any number): RECV_PREAUTH_LOG_BURST a second for
     * the whole server, the rest summed up by the sweeper's timer; in the
     * same shared mapping as promised */
    ibx_log_gate *preauth_log;
};

/* Lines about unauthenticated connections logged in full per second. */
#define RECV_PREAUTH_LOG_BURST 5
/* Refusals (OFFER, GET) logged in full per authenticated connection; the
 * rest are counted in one line at its close. */
#define RECV_REFUSAL_LOG_MAX 16

/* Default --min-free: 1% of the file system stays free. */
#define RECV_MIN_FREE_PCT 1u
/* Largest --min-free percentage. */
#define RECV_MIN_FREE_PCT_MAX 90u
/* Default --max-conns of recv: this many, or fewer when the descriptor
 * limit would not hold RECV_FDS_PER_CONN for each. */
#define RECV_MAX_CONNS 256u
#define RECV_FDS_PER_CONN 6u
/* recv's default connection cap for the current RLIMIT_NOFILE. */
unsigned recv_default_max_conns(void);
/* Parse --min-free: "N%" (0 .. RECV_MIN_FREE_PCT_MAX) or a size with an
 * optional k, m, g suffix. Returns 0 or -EINVAL. */
int recv_parse_min_free(const char *s, struct recv_cfg *cfg);

/* Default time a connection has for HELLO and authentication
 * (--handshake-timeout): 10 s. */
#define RECV_HANDSHAKE_MS 10000u
/* A failed proof is answered this late (each try costs a brute-forcer a
 * connection slot for this long; the token itself is 128+ random bits). */
#define RECV_AUTH_FAIL_DELAY_MS 1000u

/* Default time to live of an unused part file (--part-ttl): 7 days. */
#define RECV_PART_TTL_S (7ull * 86400)

/* Sweep stale part files under cfg->rootfd (cfg->part_ttl_s, if not 0)
 * when srv starts and then every ttl/2, at least every hour, on srv's
 * main loop; one log line per file removed. Returns 0 or -errno. */
int recv_sweep_add(ibx_server *srv, struct recv_cfg *cfg);
/* Free the sweeper (after the server was freed). */
void recv_sweep_free(struct recv_cfg *cfg);
/* Parse a duration "N" (seconds) or "Ns", "Nm", "Nh", "Nd" up to 100
 * years. Returns 0 or -EINVAL. */
int recv_parse_duration(const char *s, uint64_t *out_s);

/* Map cfg->promised in anonymous shared memory (inherited by fork) and
 * zero it. Returns 0 or -errno. */
int recv_shared_map(struct recv_cfg *cfg);
/* Unmap it (after the server was freed); NULL is fine. */
void recv_shared_unmap(struct recv_cfg *cfg);

/* The protocol; ctx is a struct recv_cfg. */
extern const struct ibx_proto xfer_recv_proto;

#endif
