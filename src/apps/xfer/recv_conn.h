/* Internals of the recv server shared by recv.c (connection lifecycle,
 * input, output, dispatch) and recv_file.c (per-file protocol). */
#ifndef IPCBOX_APPS_XFER_RECV_CONN_H
#define IPCBOX_APPS_XFER_RECV_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "ipcbox/buf.h"
#include "ipcbox/loop.h"
#include "ipcbox/job.h"
#include "xfer.h"
#include "xfer_list.h"
#include "xfer_recv.h"

/* DATA payload per frame when serving a GET (bounds per-client memory). */
#define RECV_CHUNK (256u * 1024)
/* File bytes hashed per loop pass (resume prefix, existing file, final
 * verification), so that one large file never stalls the other clients. */
#define RECV_HASH_SLICE (8u << 20)

/* Where a connection is in the protocol. */
enum recv_state {
    RS_HELLO,       /* waiting for the client's HELLO */
    RS_AUTH,        /* sent CHALLENGE, waiting for the client's PROOF */
    RS_AUTH_FAILED, /* the proof failed: ERROR after a delay, then close */
    RS_IDLE,        /* between files: OFFER, GET or LIST */
    RS_RX_CONFIRM,  /* sent RESUME for an OFFER, waiting for the confirm */
    RS_RX_DATA,     /* receiving DATA until END */
    RS_TX_RESUME,   /* sent OFFER for a GET, waiting for RESUME */
    RS_TX_DATA,     /* sending DATA and END */
    RS_TX_ACK,      /* waiting for the client's ACK */
    RS_LIST,        /* sending LIST entries */
    RS_HASH_OFFER,  /* hashing a resume prefix / existing file for OFFER */
    RS_HASH_END,    /* verifying the received file before commit */
    RS_HASH_TX,     /* hashing our prefix for a GET resume */
    RS_COMMIT,      /* a verified file is fsynced and renamed (thread) */
};

/* True while a hash job runs (a slice per loop pass). */
static inline bool recv_hashing(int st)
{
    return st == RS_HASH_OFFER || st == RS_HASH_END || st == RS_HASH_TX;
}
/* True while we owe the peer an answer that our own work decides (a hash
 * job, a commit): input waits. */
static inline bool recv_busy(int st)
{
    return recv_hashing(st) || st == RS_COMMIT || st == RS_AUTH_FAILED;
}

/* One client connection. */
struct recv_conn {
    ibx_conn base;          /* first: ibx_conn* <-> recv_conn* */
    ibx_io io;
    ibx_timer idle;
    ibx_timer lease_watch;  /* releases a broken lease while data stalls */
    ibx_defer free_later;
    ibx_defer work;         /* one hash slice per loop pass */
    struct recv_cfg *cfg;
    enum recv_state st;
    bool closing, draining, close_when_flushed;
    uint64_t last_active;
    uint64_t opened_at;     /* loop time of accept (--handshake-timeout) */
    uint64_t file_t0;
    uint32_t peer_data_max;
    char peer[IBX_ADDRSTRLEN];
    ibx_buf out;
    struct xfer_rx rx;
    struct xfer_tx tx;
    bool tx_open;
    struct xfer_list *list;
    struct ibx_msg_resume reply;    /* RESUME waiting for a hash job */
    struct ibx_job commit;         /* xfer_rx_commit of rx, off the loop */
    int commit_code;                /* its result, and why */
    char commit_why[XFER_WHY];
    struct ibx_frame_dec dec;
    uint64_t promised;      /* this connection's share of cfg->promised */
    struct ibx_auth auth;           /* the handshake, with cfg->token */
    ibx_timer auth_delay;           /* answers a failed proof late */
    ibx_log_gate refusals;          /* RECV_REFUSAL_LOG_MAX lines, then counted */
};


/* The connection's logger. */
const ibx_log *recv_log(const struct recv_conn *c);
/* May a line about this connection be written now? Before the handshake
 * is over, lines pass the server-wide gate (cfg->preauth_log); after, yes. */
bool recv_log_due(const struct recv_conn *c);
/* May a refusal (OFFER, GET, a skip) on this connection be logged? The
 * first RECV_REFUSAL_LOG_MAX are; the rest are counted and summed up in
 * one line at close. */
bool recv_refusal_due(struct recv_conn *c);
/* Raise the --once exit status to at least exit_code. */
void recv_worse(struct recv_conn *c, int exit_code);
/* Queue an encoded frame (n < 0: encoder failure, the session ends). */
void recv_queue(struct recv_conn *c, const uint8_t *b, ssize_t n);
/* Queue an ACK or ERROR frame. */
void recv_queue_status(struct recv_conn *c, uint8_t type, int code,
                       const char *text);
/* Fatal for the session: log, ERROR frame, close once written. */
void recv_session_error(struct recv_conn *c, int code, const char *text);
/* One file is over: back to idle (or say shutdown and close). */
void recv_file_over(struct recv_conn *c);
/* MB/s of bytes in ms. */
double recv_rate_mbs(uint64_t bytes, uint64_t ms);
/* Write what is queued and re-arm the watcher. */
void recv_update(struct recv_conn *c);

/* Count n more bytes the current upload may write against the free
 * space (cfg->promised) / n bytes fewer (UINT64_MAX: all of them). */
void recv_promise(struct recv_conn *c, uint64_t n);
void recv_unpromise(struct recv_conn *c, uint64_t n);
/* Writing the received file failed with errno err: tell the peer and
 * close; out of space, the partial file is removed first. */
void recv_rx_failed(struct recv_conn *c, int err);
/* Handshake handlers of recv_auth.c: the client's HELLO (answered with
 * HELLO, or HELLO + CHALLENGE when cfg->token is set, or ERROR auth for
 * a client without a token), and its PROOF. */
void recv_on_hello(struct recv_conn *c, const uint8_t *p, size_t n);
void recv_on_proof(struct recv_conn *c, const uint8_t *p, size_t n);
/* In RS_AUTH_FAILED: send the ERROR now (shutdown) instead of later. */
void recv_auth_fail_now(struct recv_conn *c);

/* Frame handlers of recv_file.c (payload p, n). */
void recv_on_offer(struct recv_conn *c, const uint8_t *p, size_t n);
void recv_on_rx_confirm(struct recv_conn *c, const uint8_t *p, size_t n);
void recv_on_rx_end(struct recv_conn *c, const uint8_t *p, size_t n);
void recv_on_get(struct recv_conn *c, const uint8_t *p, size_t n);
void recv_on_tx_resume(struct recv_conn *c, const uint8_t *p, size_t n);
void recv_on_tx_ack(struct recv_conn *c, const uint8_t *p, size_t n);
/* Produce the next DATA/END frame of a GET or LIST entry. 0 or -errno. */
int recv_produce(struct recv_conn *c);
/* How often a receiving connection looks at its file lease: another
 * process opening the temporary file waits at most this long. */
#define RECV_LEASE_WATCH_MS 100

/* Queue the next slice of the connection's hash job on the loop. */
void recv_start_work(struct recv_conn *c);
/* Free a closed connection after this pass (once its commit is over). */
void recv_free_later(struct recv_conn *c);

#endif
