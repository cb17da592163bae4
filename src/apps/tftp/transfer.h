/* The data phase of one TFTP transfer, shared by client and server: a
 * sender (DATA out, ACK in) or a receiver (DATA in, ACK out) over one UDP
 * socket, with RFC 7440 windows, 64-bit block counts that wrap on the wire,
 * retransmission with exponential backoff and a give-up deadline.
 *
 * The engine does no waiting: the owner feeds it packets, calls it when
 * x->deadline has passed and when the socket becomes writable again, and
 * looks at x->state. Times are microseconds of CLOCK_MONOTONIC
 * (tftp_tx_clock()), so a loss on a fast path costs a fraction of a
 * millisecond; the configured rto_max and giveup are milliseconds.
 *
 * Rules that keep it safe:
 *  - An ACK that advances starts the next window right after the
 *    acknowledged block (restart after a loss inside a window). A
 *    duplicate of the last ACK means the window's first block was lost
 *    (RFC 7440: the receiver reports a gap by acknowledging the last block
 *    it has in order) and restarts the window, but only once per restart
 *    episode: not again until every block sent before that restart is
 *    acknowledged, so duplicates our own restart caused can never trigger
 *    another one (no Sorcerer's Apprentice), and with a window of 1 never.
 *  - A receiver acknowledges a gap once, and duplicates at most once per
 *    half millisecond, so a lost ACK is repaired without feeding a
 *    sender that answers every ACK; it repeats an ACK on its own only
 *    after the full timeout, but for ACK 0 when the request's round
 *    trip is known (rtt_hint: four of them, at least 200 ms).
 *  - Packets from another address or port get ERROR 5 and change nothing.
 *  - A receiver whose socket buffer holds less than a window drops the
 *    tail of every window sent back to back (atftp's client with 16
 *    blocks of 8 KiB does). When a timeout is answered by an ACK inside
 *    the window, the sender learns how many packets got through; when two
 *    such cuts in a row agree (a buffer cuts at the same place every
 *    time, random loss almost never does), it sends the window from then
 *    on in bursts of that many (x->burst), pausing
 *    between them (x->pace_wait: the owner calls tftp_tx_pace() after
 *    TFTP_TX_PACE_US); a later burst broken the same way shrinks it again,
 *    and after TFTP_TX_BURST_GROW clean windows it tries one more.
 *  - Anti-amplification (amp_limit, set by the server): until the peer
 *    has proved that it receives what we send, by acknowledging a DATA
 *    block in an ACK that arrived after that block went out, we send it
 *    at most TFTP_TX_AMP_FACTOR times the bytes it sent us (headers
 *    included), beyond one first DATA block, which TFTP cannot avoid.
 *    So the first window to an unverified peer is one block (or as many
 *    as fit); when that is less than the window, an empty DATA 0 (a
 *    "gap probe": RFC 7440 receivers answer a block out of order with an
 *    ACK of the last block they hold) makes the receiver acknowledge at
 *    once instead of after its timeout. An ACK that arrived before what
 *    it acknowledges was sent, or for a block never sent, can only come
 *    from a blind (spoofing) sender: the transfer ends silently. A timer
 *    expiry before verification resends nothing beyond the budget: it
 *    owes one packet (the OACK or block 1), sent when the peer next
 *    speaks (its own retransmission), at most one per backoff period;
 *    but a lost block 1 of at most TFTP_TX_AMP_RESEND_BLK bytes is resent
 *    TFTP_TX_AMP_RESENDS times on the timer alone (curl waits 72 s before
 *    it repeats its ACK, past the give-up time), so a silent or blind
 *    peer gets at most the budget plus three such blocks. */
#ifndef IPCBOX_APPS_TFTP_TRANSFER_H
#define IPCBOX_APPS_TFTP_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ipcbox/net.h"
#include "ipcbox/tftp.h"

/* Transfer state. */
enum tftp_tx_state {
    TFTP_TX_RUNNING,
    TFTP_TX_DONE,      /* every byte delivered and acknowledged */
    TFTP_TX_FAILED,    /* see x->why */
};

/* Most packets sent or received per system call. */
#define TFTP_TX_BATCH 64
/* Pause between two bursts of one window, microseconds. */
#define TFTP_TX_PACE_US 50
/* Clean windows before a limited burst grows by one packet. */
#define TFTP_TX_BURST_GROW 16
/* Bytes sent to an unverified peer per byte received from it (QUIC's
 * anti-amplification factor, RFC 9000 section 8). */
#define TFTP_TX_AMP_FACTOR 3
/* Resends of a lost first block beyond that budget, on the timer alone,
 * when the block is at most TFTP_TX_AMP_RESEND_BLK bytes (one Ethernet
 * frame): receivers that never repeat their ACK still finish, and a blind
 * peer gets at most three such blocks more than the budget. */
#define TFTP_TX_AMP_RESENDS 2
#define TFTP_TX_AMP_RESEND_BLK 1468

/* Scratch memory an owner lends to its transfers (one per loop). */
struct tftp_tx_scratch {
    uint8_t *tx;         /* TFTP_TX_BATCH slots of tx_slot bytes */
    size_t tx_slot;      /* IBX_TFTP_PKT_MAX rounded up */
    uint8_t *na;         /* netascii staging, 2 * IBX_TFTP_PKT_MAX bytes */
};

/* One transfer. Fill the configuration part, then tftp_tx_begin(). */
struct tftp_tx {
    /* configuration */
    int sock;                 /* UDP socket, not connected */
    ibx_addr peer;            /* the peer's transfer ID */
    int file;                 /* read from (sender) or written to (receiver) */
    bool sending;
    enum ibx_tftp_mode mode;
    uint32_t blksize;
    uint32_t window;
    uint32_t rto_max;         /* ms: retransmit timeout ceiling (x4 backoff) */
    bool rto_fixed;           /* a negotiated timeout: retransmit after it */
    uint32_t giveup;          /* ms without progress before giving up */
    uint64_t max_bytes;       /* receiver: refuse more (0 = no limit) */
    bool hold_final;          /* receiver: the owner sends the final ACK
                                 (tftp_tx_ack_final) once the file is stored */
    bool final_acked;         /* receiver: tftp_tx_ack_final() was called */
    struct tftp_tx_scratch *scratch;
    /* a control packet resent until the peer answers it: an OACK (sender:
     * until ACK 0; receiver: until DATA 1), or ACK 0 of a receiver */
    uint8_t ctl[512];
    size_t ctl_len;
    /* the round trip of the request and its answer, when the request went
     * out once (the client knows it): a sender starts its estimate from
     * it, and a receiver resends a lost ACK 0 after a few round trips
     * instead of the full timeout */
    bool rtt_hint_set;
    uint32_t rtt_hint;        /* µs */
    /* anti-amplification (see above) */
    bool amp_limit;
    uint64_t arrived;         /* owner, before tftp_tx_input(): when the datagram
                                 arrived (kernel timestamp on tftp_tx_clock()),
                                 0 = unknown (then `now`) */
    uint32_t req_bytes;       /* size of the request, counted as received */

    /* state */
    enum tftp_tx_state state;
    char why[160];            /* failure text for the log */
    uint64_t deadline;        /* call tftp_tx_timeout() at or after this */
    bool want_write;          /* the socket was full: wait for POLLOUT */
    uint64_t bytes;           /* payload bytes moved (file bytes for octet) */
    uint64_t start, progress; /* clock at begin and at the last progress */
    uint64_t retransmits;     /* packets sent again */
    uint64_t ctl_t;           /* when ctl was last sent */
    uint32_t ctl_rto;         /* receiver: µs before ctl goes out again */
    bool verified;            /* the peer proved it receives (or !amp_limit) */
    uint64_t rx_wire, tx_wire;   /* bytes from / to the peer, with headers */
    uint64_t first_t;         /* tftp_tx_clock() when the OACK or DATA 1 first went out */
    uint64_t high_t;          /* tftp_tx_clock() when block `high` first went out */
    bool owed;                /* unverified: a timed-out packet waits for the peer */
    bool peer_spoke;          /* unverified: the peer sent since our last send */
    bool amp_pass;            /* pump: one block beyond the budget (owed) */
    unsigned amp_resends;     /* timer resends beyond the budget so far */

    /* sender */
    bool ctl_wait;            /* OACK sent, ACK 0 not yet seen */
    uint64_t acked, next, last;  /* last = final block index, or UINT64_MAX */
    uint64_t high;            /* highest block ever sent */
    uint64_t rs_high;         /* high when the window last restarted */
    bool rs_any;              /* it has restarted at least once */
    uint32_t burst;           /* most packets back to back (0 = a window) */
    uint32_t clean;           /* windows acknowledged whole since then */
    uint32_t burst_cand;      /* a cut seen once, adopted if seen again */
    bool timed_out;           /* the last timer expiry resent the window */
    bool pace_wait;           /* a burst went out; tftp_tx_pace() sends more */
    size_t last_len;          /* payload bytes of the final block */
    uint64_t win_t0;          /* when the current window began */
    bool win_retx;            /* the window holds retransmissions (Karn) */
    struct na_mark {          /* netascii: where block i starts */
        uint64_t off;
        struct ibx_netascii st;
    } *marks;                 /* window + 1 entries */
    /* receiver */
    uint64_t got;             /* highest block received in order */
    uint64_t ack_sent;        /* highest block acknowledged */
    uint64_t ack_t;           /* when it was acknowledged */
    bool gap_acked;           /* a gap was reported for got + 1 */
    struct ibx_netascii na;
    struct iovec pend[TFTP_TX_BATCH];  /* in-order payloads not yet written */
    unsigned npend;
    /* round-trip estimate (µs, scaled by 8 like TCP) */
    uint32_t srtt8, rttvar4, rto;
    uint32_t rto_base;        /* rto from the estimate, before backoff (0 = none) */
    bool rtt_provisional;     /* the estimate rests on one control packet's
                                 round trip, which a peer's own resend (a
                                 lost ACK 0) can stretch: the first sample
                                 of a data window replaces it */
};

/* Start a configured transfer at time now: a sender sends its OACK or its
 * first window, a receiver its OACK or ACK 0 (when ctl_len is set). Returns
 * 0 or -errno (-ENOMEM). */
int tftp_tx_begin(struct tftp_tx *x, uint64_t now);
/* Handle one datagram from `from`. Payload pointers of in-order DATA are
 * kept until tftp_tx_flush(): call it before reusing the packet memory. */
void tftp_tx_input(struct tftp_tx *x, const uint8_t *pkt, size_t len,
                   const struct sockaddr *from, socklen_t fromlen, uint64_t now);
/* Write the payloads tftp_tx_input() kept (after each receive batch). */
void tftp_tx_flush(struct tftp_tx *x, uint64_t now);
/* The deadline passed: retransmit with backoff, or give up. */
void tftp_tx_timeout(struct tftp_tx *x, uint64_t now);
/* The peer sent its request (len bytes) again: our control packet (OACK,
 * or ACK 0 to a WRQ without options), or DATA 1 for an RRQ without
 * options, has not reached it. Resend it now if its answer is still
 * awaited; at most once per half millisecond, so a flood of requests is
 * not amplified (and, before the peer is verified, only within the
 * anti-amplification budget or once per timer expiry). */
void tftp_tx_request_again(struct tftp_tx *x, size_t len, uint64_t now);
/* The pause after a burst is over (x->pace_wait): send the next one. */
void tftp_tx_pace(struct tftp_tx *x, uint64_t now);
/* The socket is writable again after want_write. */
void tftp_tx_writable(struct tftp_tx *x, uint64_t now);
/* Receiver with hold_final, after storing the file: send the final ACK. */
void tftp_tx_ack_final(struct tftp_tx *x, uint64_t now);
/* Send ERROR code/msg to the peer and fail the transfer with why = msg. */
void tftp_tx_abort(struct tftp_tx *x, uint16_t code, const char *msg);
/* Free what tftp_tx_begin() allocated (not the socket or file). */
void tftp_tx_release(struct tftp_tx *x);

/* The engine's clock: CLOCK_MONOTONIC in microseconds. */
uint64_t tftp_tx_clock(void);
/* Send one small packet to addr, ignoring a full socket (the peer will
 * retransmit). */
void tftp_tx_send_to(int sock, const void *pkt, size_t len,
                     const struct sockaddr *addr, socklen_t addrlen);
/* Send ERROR code/msg to addr in answer to a packet of `room` bytes,
 * never amplifying it: the message is left out when the ERROR would be
 * larger (the empty-message ERROR, 5 bytes, answers any 4-byte packet:
 * 33 bytes on the wire for 32); nothing answers a packet under 4 bytes. */
void tftp_tx_send_error_fit(int sock, const struct sockaddr *addr, socklen_t addrlen,
                            uint16_t code, const char *msg, size_t room);
/* Send ERROR code/msg to addr. */
void tftp_tx_send_error(int sock, const struct sockaddr *addr, socklen_t addrlen,
                        uint16_t code, const char *msg);
/* True if two socket addresses are the same host and port. */
bool tftp_tx_same_addr(const struct sockaddr *a, const struct sockaddr *b);
/* Allocate / free scratch memory. Returns 0 or -ENOMEM. */
int tftp_tx_scratch_init(struct tftp_tx_scratch *s);
void tftp_tx_scratch_free(struct tftp_tx_scratch *s);
/* Grow the socket buffers toward bytes (SO_*BUFFORCE when privileged). */
void tftp_tx_sock_buffers(int sock, int bytes);

#endif
