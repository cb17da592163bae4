/* The peers udpchat knows about, and the per-sender mechanisms that keep
 * what a peer can make us do bounded: a window of recent sequence numbers
 * (duplicates and replays dropped, jumps capped) and token buckets (rate,
 * per sender and per source address). A peer is a sender id heard from
 * one source address and port: a datagram with the same id from anywhere
 * else is another peer, and can change nothing of this one. Pure: no I/O;
 * the caller passes the clock (monotonic ms). */
#ifndef IPCBOX_APPS_UDPCHAT_PEERS_H
#define IPCBOX_APPS_UDPCHAT_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ipcbox/udpchat.h"

/* Sequence numbers remembered behind the newest one seen. */
#define UC_WINDOW 64u
/* Presence intervals a peer may miss before it expires. */
#define UC_MISSES 3u
/* Farthest a sequence number may jump ahead of the newest one seen
 * (more is dropped, counted `jump`): a forged number cannot push a
 * window so far that the sender's own next datagrams all look old. A
 * real sender whose datagrams are refused stops refreshing its entry and
 * is heard afresh once it expires. */
#define UC_JUMP_MAX 1024u
/* Most peers one source address may hold in the table at once. */
#define UC_ADDR_PEERS 8u
/* Longest "host" kept for a peer (an IPv6 address with %interface). */
#define UC_HOST_MAX 64

/* Recent sequence numbers of one sender (zero-initialise). */
struct uc_window {
    uint32_t top;            /* newest accepted */
    uint64_t seen;           /* bit i: top - i accepted (bit 0 is top) */
    bool started;
};

/* What a window says of a sequence number. */
enum uc_seq_verdict {
    UC_SEQ_NEW = 0,          /* not seen: accept (then uc_window_mark) */
    UC_SEQ_DUP,              /* seen already */
    UC_SEQ_OLD,              /* older than the window remembers */
    UC_SEQ_JUMP,             /* more than UC_JUMP_MAX ahead */
};

/* Judge seq against w (serial-number arithmetic: a sequence number more
 * than 2^31 ahead of top counts as behind; one more than UC_JUMP_MAX
 * ahead is a jump). */
enum uc_seq_verdict uc_window_check(const struct uc_window *w, uint32_t seq);
/* Record seq as accepted (after UC_SEQ_NEW). */
void uc_window_mark(struct uc_window *w, uint32_t seq);

/* A token bucket: rate tokens per second, at most burst stored. */
struct uc_bucket {
    double tokens;
    uint64_t at_ms;          /* when tokens was last brought up to date */
};

/* Start full at now_ms. */
void uc_bucket_init(struct uc_bucket *b, unsigned burst, uint64_t now_ms);
/* Take one token if there is one. rate 0 means no limit. */
bool uc_bucket_take(struct uc_bucket *b, unsigned rate, unsigned burst, uint64_t now_ms);
/* Take one token even into debt (our own sending: a long line is several
 * datagrams). */
void uc_bucket_charge(struct uc_bucket *b, unsigned rate, unsigned burst, uint64_t now_ms);
/* Milliseconds until a token is there (0: now). rate must not be 0. */
uint64_t uc_bucket_wait(const struct uc_bucket *b, unsigned rate, unsigned burst,
                        uint64_t now_ms);

/* A source address (IPv4, or IPv6 with its scope), and a port; port 0
 * when only the address matters. */
struct uc_ep {
    uint16_t family;         /* AF_INET, AF_INET6; 0 for anything else */
    uint16_t port;
    uint32_t scope;
    unsigned char addr[16];
};

/* The endpoint of a socket address (family 0 when neither IPv4 nor
 * IPv6). */
struct uc_ep uc_ep_of(const struct sockaddr *sa, socklen_t len);
/* Same address (and port, when with_port). */
bool uc_ep_equal(const struct uc_ep *a, const struct uc_ep *b, bool with_port);

/* One source address with peers in the table: its bucket (every sender
 * id from it together) and how many peers it holds. */
struct uc_source {
    struct uc_ep ep;         /* port 0 */
    uint32_t npeers;
    struct uc_bucket bucket;
};

/* One peer. */
struct uc_peer {
    uint64_t id;
    struct uc_ep ep;         /* where its datagrams come from (address and port) */
    char nick[IBX_UDPCHAT_NICK_MAX + 1];
    char host[UC_HOST_MAX];
    uint64_t first_ms, last_ms;
    uint32_t interval_ms;    /* announced (or the default until it is) */
    bool gone;               /* sent leave: kept (to drop late copies) until expiry */
    struct uc_window win;
    struct uc_bucket bucket;
};

/* An open-addressing index (linear probing, backward-shift deletion):
 * slot holds entry + 1 (0 empty), home the slot each entry hashes to. */
struct uc_index {
    uint32_t *slot;
    size_t mask;
};

/* A bounded table of peers, found by (id, endpoint), and of their source
 * addresses. */
struct uc_peers {
    struct uc_peer *v;       /* max entries, n used (unordered) */
    size_t n, max;
    struct uc_index index;   /* by id: every peer of one id on one probe path */
    struct uc_source *src;   /* max + 1 entries, nsrc used: each holds >= 1 peer */
    size_t nsrc;
    struct uc_index src_index;
    uint64_t key;            /* random: where ids and addresses land */
    unsigned burst;          /* new peers start with this many tokens */
    unsigned src_burst;      /* new source addresses, this many */
};

/* A table for at most max peers (>= 1); a new peer's bucket starts with
 * burst tokens, a new source address's with src_burst. Returns 0 or
 * -ENOMEM. */
int uc_peers_init(struct uc_peers *t, size_t max, unsigned burst, unsigned src_burst,
                  uint64_t key);
/* Free. */
void uc_peers_free(struct uc_peers *t);
/* The peer with id heard from ep (address and port), or NULL; *other (if
 * not NULL) is set when a peer of the same id has another endpoint. */
struct uc_peer *uc_peers_find(struct uc_peers *t, uint64_t id, const struct uc_ep *ep,
                              bool *other);
/* The entry of ep's address (its port ignored): found, or added with a
 * full bucket and no peers (an address left without peers is dropped
 * when room is needed). NULL when max + 1 addresses all hold peers,
 * which cannot happen. */
struct uc_source *uc_peers_source(struct uc_peers *t, const struct uc_ep *ep,
                                  uint64_t now_ms);
/* Add (id, ep), not in the table, at now_ms; its address must have its
 * entry (uc_peers_source). When the table is full one peer is evicted
 * first: the one seen least recently among those of ep's address when
 * it has some, else among all; copied to *evicted (if not NULL) and
 * *was_evicted set. Returns the new entry (zeroed but for id, ep, times,
 * interval default_ms and a full bucket). Pointers into the table (peers
 * and sources) are valid until the next add or remove. */
struct uc_peer *uc_peers_add(struct uc_peers *t, uint64_t id, const struct uc_ep *ep,
                             uint64_t now_ms, uint32_t default_ms, struct uc_peer *evicted,
                             bool *was_evicted);
/* Remove p (a pointer into the table); its address goes with its last
 * peer. */
void uc_peers_remove(struct uc_peers *t, struct uc_peer *p);
/* When p expires: last seen + UC_MISSES announcement intervals. */
uint64_t uc_peer_expiry(const struct uc_peer *p);
/* The first peer expired at now_ms (to be removed by the caller), or
 * NULL. */
struct uc_peer *uc_peers_expired(struct uc_peers *t, uint64_t now_ms);

#endif
