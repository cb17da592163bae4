/* chatd nodes over Redis: the parts behind the hooks of chatd.h.
 *
 *   node.c       the two Redis connections, reconnecting, the alive key,
 *                the queue of publications, outage notices
 *   node_room.c  rooms across nodes: remote members, their events,
 *                NAMES/WHO
 *   node_sync.c  member lists read from Redis, the resync after an
 *                outage, node death
 *   node_nick.c  nick claims, private messages to other nodes
 *   node_wire.c  the text formats kept in Redis (pure)
 *   resp.c, rconn.c  the Redis client (resp.h)
 *
 * Keys (P = "ipcbox:chat:", ROOM and NICK folded, NODE 16 hex digits):
 *   P alive:NODE        "1", PX --redis-ttl, refreshed every third of it
 *   P nick:NICK         NODE, PX --redis-ttl, refreshed with the alive key
 *   P members:ROOM      hash: NICK -> member (node_wire.c)
 *   P history:ROOM      list of history lines, newest first, --history long
 *   P topic:ROOM        the topic line
 * Channels: P room:ROOM (the room's events), P node:NODE (private messages
 * to the node's members). */
#ifndef IPCBOX_APPS_CHATD_NODE_H
#define IPCBOX_APPS_CHATD_NODE_H

#include "chatd.h"
#include "resp.h"

#define NODE_PREFIX "ipcbox:chat:"
#define WIRE_USER_MAX 16
#define WIRE_ROOM_MAX 200
#define WIRE_EVENT_MAX 1024
/* Reconnect backoff: first retry, cap (ms). */
#define NODE_RETRY_MS 100
#define NODE_RETRY_MAX_MS 2000
/* After an outage, publications wait this long for the other nodes to be
 * back and subscribed. */
#define NODE_SETTLE_MS (2 * NODE_RETRY_MAX_MS)
/* Members of other nodes kept, all rooms together; origins remembered
 * for duplicate detection. */
#define NODE_REMOTE_MAX 100000
#define NODE_ORIGINS_MAX 4096
/* Departures from a room remembered while its member list is read. */
#define NODE_GONE_MAX 256

/* ---- wire formats (node_wire.c) ------------------------------------------ */

struct wire_ev {
    uint64_t origin, seq;
    enum ev_kind kind;
    char nick[CHATD_NICK_MAX + 1];
    char user[WIRE_USER_MAX];
    char host[IBX_ADDRSTRLEN];
    char target[WIRE_ROOM_MAX + 1];  /* room, nick, or "" */
    char arg[CHATD_NICK_MAX + 1];    /* new or kicked nick, or "" */
    bool has_text;
    char text[IBX_IRC_TEXT_MAX + 1];
};
/* Encode w into buf. Returns the length or -ENOSPC. */
int wire_event_encode(char *buf, size_t cap, const struct wire_ev *w);
/* Decode and check an event. Returns 0 or -EPROTO. */
int wire_event_decode(const char *p, size_t n, struct wire_ev *w);

struct wire_member {
    uint64_t origin;
    char nick[CHATD_NICK_MAX + 1];
    char user[WIRE_USER_MAX];
    char host[IBX_ADDRSTRLEN];
};
int wire_member_encode(char *buf, size_t cap, uint64_t origin, const char *nick,
                       const char *user, const char *host);
int wire_member_decode(const char *p, size_t n, struct wire_member *m);

/* A history line (flag 'A' action, 'M' message) or a topic (flag 0). */
struct wire_line {
    int64_t t;
    bool action;
    char who[CHATD_NICK_MAX + 1];
    char text[IBX_IRC_TEXT_MAX + 1];
};
int wire_line_encode(char *buf, size_t cap, int64_t t, char flag, const char *who,
                     const char *text);
int wire_line_decode(const char *p, size_t n, bool flagged, struct wire_line *l);
/* A node id: 16 lowercase hex digits, not zero. Returns 0 or -EINVAL. */
int wire_id_parse(const char *s, uint64_t *out);

/* ---- the node -------------------------------------------------------------- */

struct nroom;
struct pm_wait;

/* A member of another node. */
struct rnick {
    uint64_t node;
    char nick[CHATD_NICK_MAX + 1];
    char user[WIRE_USER_MAX];
    char host[IBX_ADDRSTRLEN];
    struct nroom **rooms;    /* local rooms it is in */
    size_t nrooms;
};

/* The node's side of a local room. */
struct nroom {
    struct room *room;
    char key[WIRE_ROOM_MAX + 1];   /* folded name */
    struct rnick **m;        /* members of other nodes */
    size_t n, cap;
    bool synced;             /* a member list came from Redis */
    unsigned pending;        /* member lists asked for, not come yet */
    char (*gone)[CHATD_NICK_MAX + 1];   /* departures meanwhile (folded) */
    size_t ngone;
};

/* One publication, kept until Redis acknowledges it. */
struct npub {
    struct npub *next;
    size_t clen, plen;
    char data[];             /* channel, then payload */
};

enum node_state { NODE_DOWN, NODE_CONNECTING, NODE_UP };

struct node {
    ibx_conn base;           /* a unit of the main loop (first) */
    struct chat_srv *s;
    ibx_loop *loop;
    ibx_addr addr;
    unsigned db;
    uint64_t id;
    char hex[17];
    uint64_t seq;            /* last publication number */
    struct rconn cmd, sub;
    enum node_state state;
    bool paused;             /* members were told delivery is paused */
    bool stopping, ever_up, fail_logged;
    bool forked;             /* in a fork child: its Redis sockets are closed */
    bool settled;            /* publications flow (up, and settled after an outage) */
    unsigned retry_ms;
    uint64_t up_since;
    ibx_timer retry_t, alive_t, resync_t, stop_t, settle_t;
    struct map rooms;        /* folded room -> struct nroom */
    struct map remote;       /* folded nick -> struct rnick */
    struct map origins;      /* node hex -> (uintptr_t) last seq */
    struct map claims;       /* folded nick -> struct claim, asked of Redis */
    struct npub *qhead, *qtail;   /* publications: in flight, then waiting */
    size_t qn, inflight;
    unsigned long dropped;   /* publications dropped (queue full) */
    bool drop_logged;
    struct conn *scratch;    /* the sender of remote events (formatting) */
    void **waits;            /* replies awaited for a client (node_hist.c) */
    struct pm_wait *pms;     /* private messages waiting for a nick's node (node_nick.c) */
    size_t nwaits, capwaits;
};

/* node.c */
/* Publish payload on channel (queued while Redis is down). */
void node_publish(struct node *n, const char *channel, const char *payload, size_t len);
/* Publish an event of c (or of the sender w describes) to channel. */
void node_publish_ev(struct node *n, const char *channel, struct wire_ev *w);
/* Send a command on the command connection if it is up (reply to cb). */
int node_cmd(struct node *n, rconn_reply_cb cb, void *arg, int argc, const char *const *argv,
             const size_t *lens);
/* Channel or key name: P + kind + ":" + name into buf. */
const char *node_key(char *buf, size_t cap, const char *kind, const char *name);
/* Fill w's sender from c (nick: nick, or c's). */
void node_sender(struct wire_ev *w, const struct conn *c, const char *nick);

/* node_nick.c */
/* Renew the keys of every local nick (finds clashes after an outage). */
void node_nicks_renew(struct node *n);
/* The clients of pending claims are gone (shutting down). */
void node_claims_forget(struct node *n);
/* A local nick is no longer used: free its key. */
void node_nick_released(struct node *n, const char *old);
/* Forget c (NULL: every client) as the sender of private messages
 * waiting for their target's node. */
void node_pms_forget(struct node *n, const struct conn *c);

/* node_hist.c */
/* Forget c (NULL: every client) in the replies awaited. */
void node_waits_forget(struct node *n, const struct conn *c);
/* Push a line of room_key on its shared history. */
void node_history_push(struct node *n, const char *room_key, const char *nick,
                       const char *text, bool action);
/* Keep r's topic (or its absence) in Redis. */
void node_topic_store(struct node *n, const char *room_key, const struct room *r);
/* Read the topic of a room opened here by c's join. */
void node_topic_read(struct node *n, struct nroom *nr, struct conn *c);

/* node_room.c */
/* Subscribe to r's channel and read its members (on join, reconnect). */
void nroom_sync(struct node *n, struct nroom *nr);
/* A message on a subscribed channel. */
void node_on_message(struct node *n, const char *channel, size_t clen, const char *p,
                     size_t len);
/* Free every room's remote state. */
void node_rooms_free(struct node *n);
/* The member of another node with this nick, or NULL. */
struct rnick *rnick_of(struct node *n, const char *nick);
/* Is rn a member of nr? */
bool rnick_in(const struct rnick *rn, const struct nroom *nr);
/* A new member of another node (in no room yet), or NULL (bound, memory). */
struct rnick *rnick_new(struct node *n, uint64_t node, const char *nick, const char *user,
                        const char *host);
/* Add rn to nr. Returns 0 or -ENOMEM. */
int rnick_link(struct rnick *rn, struct nroom *nr);
/* Forget rn (in no room). */
void rnick_free(struct node *n, struct rnick *rn);
/* Remove rn from nr (rn freed when in no room any more). */
void rnick_unlink(struct node *n, struct rnick *rn, struct nroom *nr);
/* Remove rn from every room (and free it). */
void rnick_unlink_all(struct node *n, struct rnick *rn);
/* ev to every local member sharing a room with rn, once each. */
void rnick_tell(struct node *n, struct rnick *rn, struct chat_event *ev);
/* The scratch connection, made to look like a member of another node
 * (the sender of its events). */
struct conn *node_as(struct node *n, const char *nick, const char *user, const char *host);
/* Remove nick from the member hash of a room, if origin's entry. */
void nroom_hdel(struct node *n, const char *room_key, const char *nick, uint64_t origin);
/* Put c in the member hash of a room. */
void nroom_hset(struct node *n, const char *room_key, const struct conn *c);
/* Publish w on the channel of a room. */
void nroom_publish(struct node *n, const char *room_key, struct wire_ev *w);

/* node_sync.c */
/* Read the member list of nr from Redis (full: also part who is gone). */
void nroom_read_list(struct node *n, struct nroom *nr, bool full);
/* After a (re)connect: presence again, member lists again. */
void node_rooms_up(struct node *n);
/* Full member-list check (drops members missing from Redis). */
void node_rooms_resync(struct node *n);
/* Check the alive keys of nodes with members here. */
void node_check_nodes(struct node *n);

#endif
