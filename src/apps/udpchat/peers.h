/* The peers udpchat knows about, and the two per-sender mechanisms that
 * keep what a peer can make us do bounded: a window of recent sequence
 * numbers (duplicates and replays dropped) and a token bucket (rate).
 * Pure: no I/O; the caller passes the clock (monotonic ms). */
#ifndef IPCBOX_APPS_UDPCHAT_PEERS_H
#define IPCBOX_APPS_UDPCHAT_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipcbox/udpchat.h"

/* Sequence numbers remembered behind the newest one seen. */
#define UC_WINDOW 64u
/* Presence intervals a peer may miss before it expires. */
#define UC_MISSES 3u
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
};

/* Judge seq against w (serial-number arithmetic: a sequence number more
 * than 2^31 ahead of top counts as behind). */
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

/* One peer. */
struct uc_peer {
    uint64_t id;
    char nick[IBX_UDPCHAT_NICK_MAX + 1];
    char host[UC_HOST_MAX];
    uint64_t first_ms, last_ms;
    uint32_t interval_ms;    /* announced (or the default until it is) */
    bool gone;               /* sent leave: kept (to drop late copies) until expiry */
    struct uc_window win;
    struct uc_bucket bucket;
};

/* A bounded table of peers, indexed by id. */
struct uc_peers {
    struct uc_peer *v;       /* max entries, n used (unordered) */
    size_t n, max;
    uint32_t *index;         /* open addressing: entry + 1, 0 empty */
    size_t index_mask;
    uint64_t key;            /* random: where ids land in the index */
    unsigned burst;          /* new entries start with this many tokens */
};

/* A table for at most max peers (>= 1). Returns 0 or -ENOMEM. */
int uc_peers_init(struct uc_peers *t, size_t max, unsigned burst, uint64_t key);
/* Free. */
void uc_peers_free(struct uc_peers *t);
/* The peer with id, or NULL. */
struct uc_peer *uc_peers_find(struct uc_peers *t, uint64_t id);
/* Add id (not in the table) at now_ms. When the table is full, the peer
 * seen least recently is evicted first: copied to *evicted (if not NULL)
 * and *was_evicted set. Returns the new entry (zeroed but for id, times,
 * interval default_ms and a full bucket). Pointers into the table are
 * valid until the next add or remove. */
struct uc_peer *uc_peers_add(struct uc_peers *t, uint64_t id, uint64_t now_ms,
                             uint32_t default_ms, struct uc_peer *evicted,
                             bool *was_evicted);
/* Remove p (a pointer into the table). */
void uc_peers_remove(struct uc_peers *t, struct uc_peer *p);
/* When p expires: last seen + UC_MISSES announcement intervals. */
uint64_t uc_peer_expiry(const struct uc_peer *p);
/* The first peer expired at now_ms (to be removed by the caller), or
 * NULL. */
struct uc_peer *uc_peers_expired(struct uc_peers *t, uint64_t now_ms);

#endif
