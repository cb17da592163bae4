/* chatd: a chat server that plain-line users (nc, telnet, socat) and IRC
 * clients share; one room is one room for both.
 *
 * Files: main.c (the service and its options), conn.c (a connection of
 * the core: input lines, the dialect decision, timers), outq.c (output
 * queues of shared messages written with writev), msg.c (shared
 * refcounted messages, formatting per dialect, text neutralising),
 * room.c (rooms, members, nicknames, history), irc.c (IRC commands),
 * chat.c (what users do, in either dialect), plain.c (plain-line
 * commands), flood.c (the token bucket), map.c (the name and id tables),
 * hub.c and hubunit.c (the core's side of the hub), edge.c (the edges),
 * hubio.c (the records between them).
 *
 * Fan-out: an event (a message, a join ...) is formatted at most once per
 * dialect into a refcounted struct chat_msg; each recipient's output queue
 * holds a reference, and is written with writev at the end of the loop
 * pass.
 *
 * Models. One *core* holds every piece of chat state (nicks, rooms,
 * history, timers, flood control, both dialects) on one loop. Under the
 * one-loop models (epoll) it owns the sockets too: rooms are plain memory
 * and nothing below is used. Under every other model but iterative
 * (threadpool, reuseport, thread: loops on several threads; prefork,
 * fork: loops in several processes) the core runs as a unit on the
 * server's main loop and each worker loop runs an *edge*: it owns the
 * sockets of its worker's connections and only does socket I/O. It
 * forwards the bytes it reads to the core and writes what the core sends
 * back (enforcing --sendq itself, so a slow member never slows the core).
 *
 * The hub: one mechanism for threads and processes alike. Each edge has
 * two shared-memory rings of the library (ibx_shmq, anonymous memfds):
 * edge->core and core->edge, each with one producer and one consumer, so
 * no lock is held on the write path (the per-loop "mailbox" of the
 * thread models is such a ring too: lock-free, and the same code serves
 * fork children). A socketpair per edge is the doorbell both ways and the
 * liveness signal (the core sees HUP when the edge's thread or process
 * is gone); the edge registers by sending the three descriptors over the
 * hub's control socket (SCM_RIGHTS). A message for a room goes to each
 * edge once, with the list of that edge's recipients, not once per
 * member. See docs/architecture.md. */
#ifndef IPCBOX_APPS_CHATD_H
#define IPCBOX_APPS_CHATD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ipcbox/buf.h"
#include "ipcbox/irc.h"
#include "ipcbox/log.h"
#include "ipcbox/net.h"
#include "ipcbox/server.h"
#include "ipcbox/shmq.h"

#define CHATD_PORT 6667
#define CHATD_SERVER_NAME "ipcbox.chatd"
#define CHATD_NICK_MAX 30          /* hard ceiling of --nick-len */
#define CHATD_PROMPT_MS 500        /* plain prompt after this much silence */
#define CHATD_MODES 4              /* nick modes (+o/+v) per MODE command (ISUPPORT MODES=) */

/* ---- configuration ---------------------------------------------------- */

struct chat_cfg {
    const char *password;    /* IRC PASS, NULL: none */
    const char *motd_path;
    const char *default_room;
    unsigned history;        /* lines kept per room */
    unsigned flood_burst;    /* lines; 0 = no flood control */
    unsigned flood_rate;     /* lines per second; 0 = no flood control */
    uint64_t sendq;          /* bytes queued per client before disconnect */
    uint64_t sendq_bulk;     /* the same for bulk replies (NAMES, WHO, LIST) */
    unsigned nick_len, room_len, topic_len;
    unsigned max_rooms;      /* rooms per client */
    unsigned max_rooms_total;   /* rooms on the server; 0 = no limit */
    uint64_t history_bytes;  /* history text of all rooms; 0 = no limit */
    unsigned max_per_addr;   /* clients per address; 0 = no limit */
    unsigned max_clients;    /* 0 = no limit */
    unsigned reg_timeout_ms, ping_ms, idle_ms;
    const char *redis;       /* redis://HOST:PORT[/DB]: nodes over Redis; NULL off */
    unsigned redis_ttl_ms;   /* alive and nick keys' lifetime */
    unsigned redis_queue;    /* publications kept while Redis is away */
    /* made by start */
    char *motd;              /* the file's text, or NULL */
};

/* ---- name tables (map.c) ------------------------------------------------ */

struct map_ent {
    struct map_ent *next;
    void *val;
    char key[];              /* folded */
};
struct map {
    struct map_ent **b;
    size_t nb, n;
};
/* The value under key (folded by the caller, or fold = true), or NULL. */
void *map_get(const struct map *m, const char *key);
/* Add key -> val (key not present). Returns 0 or -ENOMEM. */
int map_put(struct map *m, const char *key, void *val);
/* Where key's value is stored, or NULL. */
void **map_slot(const struct map *m, const char *key);
/* Remove key; returns its value or NULL. */
void *map_del(struct map *m, const char *key);
void map_free(struct map *m);
/* Call fn for every value. */
void map_each(const struct map *m, void (*fn)(void *val, void *arg), void *arg);

/* ---- messages (msg.c) --------------------------------------------------- */

/* One formatted line shared by every recipient's output queue. */
struct chat_msg {
    unsigned refs;
    size_t len;
    char data[];
};
struct chat_msg *msg_new(size_t len);
struct chat_msg *msg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline struct chat_msg *msg_ref(struct chat_msg *m) { m->refs++; return m; }
void msg_unref(struct chat_msg *m);

enum dialect { D_NONE = 0, D_PLAIN, D_IRC };

/* What happened, to be formatted for each dialect. */
enum ev_kind {
    EV_MSG, EV_ACTION, EV_NOTICE, EV_JOIN, EV_PART, EV_QUIT, EV_NICK,
    EV_TOPIC, EV_MODE, EV_KICK,
};
struct chat_event {
    enum ev_kind kind;
    const struct conn *from;
    const char *nick;        /* the sender's nick if not from->nick (NICK:
                              * the old one) */
    const char *target;      /* room or nick */
    const char *text;        /* message, reason, topic, mode string */
    const char *arg;         /* new nick, kicked nick */
    bool to_nick;            /* private: target is the recipient */
    struct chat_msg *m[3];   /* formatted lazily per dialect */
};
/* The formatted line of ev for dialect d (made on first use). NULL on
 * ENOMEM. */
struct chat_msg *event_msg(struct chat_event *ev, enum dialect d);
/* Drop the event's messages. */
void event_done(struct chat_event *ev);
/* Copy text into dst (cap bytes) made safe for a terminal: IRC formatting
 * codes dropped, then the rules of src/apps/termtext.h (the chat client's):
 * C0, DEL, C1, line separators, bidi overrides and isolates and every byte
 * of invalid UTF-8 shown as '?'. */
void text_clean(char *dst, size_t cap, const char *text);
/* Longest prefix of s of at most max bytes that ends on a UTF-8 boundary. */
size_t utf8_cut(const char *s, size_t max);

/* ---- flood control (flood.c) -------------------------------------------- */

struct flood {
    double tokens;
    uint64_t last_ms;
};
void flood_init(struct flood *f, unsigned burst, uint64_t now);
/* Take one token; returns 0, or the milliseconds until one is there. */
uint64_t flood_take(struct flood *f, unsigned burst, unsigned rate, uint64_t now);

/* ---- output queues (outq.c) --------------------------------------------- */

struct outq_ent {
    struct chat_msg *m;
    bool bulk;               /* part of a bulk reply (WHO, NAMES, LIST) */
};

/* Bulk replies (the member list of a room, WHO, LIST) are counted against
 * their own allowance (--sendq-bulk, 4 MiB), not --sendq: asking about a
 * room of 10,000 must not cost the asker its connection, and a client that
 * asks again and again without reading is still disconnected. */

/* A ring of references to messages; zeroed is empty. */
struct outq {
    struct outq_ent *q;
    size_t head, n, cap;
    size_t off;              /* bytes of q[head] already written */
    uint64_t queued;         /* bytes not yet written */
    uint64_t bulk_queued;    /* of which bulk replies' */
};
/* Queue m (a new reference). Returns 0 or -ENOMEM. */
int outq_push(struct outq *q, struct chat_msg *m, bool bulk);
/* Write what the socket takes (writev). Returns 0 (emptied, or the socket
 * is full) or -errno; an emptied queue frees its ring. */
int outq_write(struct outq *q, int fd);
/* Drop everything queued. */
void outq_drop(struct outq *q);
/* A closing connection lingers until its queue is written (the error line
 * last): what the client still sends is read and dropped, so that the
 * close is not turned into a reset over unread input, which would lose
 * the lines still on their way. Returns true once the client has nothing
 * more to send (end of file or an error): stop reading then. */
bool linger_discard(int fd);
/* Drop everything but the message being written (a client past --sendq). */
void outq_keep_head(struct outq *q);
/* Would len more bytes (bulk or not) pass the bound of cfg (--sendq, or
 * --sendq-bulk for bulk)? */
static inline bool outq_over(const struct outq *q, bool bulk, size_t len,
                             const struct chat_cfg *cfg)
{
    uint64_t used = bulk ? q->bulk_queued : q->queued - q->bulk_queued;
    return used + len > (bulk ? cfg->sendq_bulk : cfg->sendq);
}
/* The line that tells a client why it is closed, in its dialect. */
struct chat_msg *error_line(enum dialect d, const char *error);

/* ---- id tables (map.c) ---------------------------------------------------- */

/* Open addressing, keys > 0. */
struct imap {
    struct imap_ent {
        uint64_t k;
        void *v;
    } *t;
    size_t cap, n;
};
void *imap_get(const struct imap *m, uint64_t k);
/* Add k -> v (k not present). Returns 0 or -ENOMEM. */
int imap_put(struct imap *m, uint64_t k, void *v);
/* Remove k; returns its value or NULL. */
void *imap_del(struct imap *m, uint64_t k);
void imap_free(struct imap *m);

/* ---- heap trimming (trim.c) ------------------------------------------------ */

/* The main loop's unit that returns freed heap to the kernel. */
struct chat_trim {
    ibx_conn base;           /* first */
    ibx_timer t;
    ibx_worker *w;
    bool running;
};
/* Register tr as a unit of srv (before it runs). Returns 0 or -errno. */
int trim_add_unit(struct chat_trim *tr, ibx_server *srv);

/* ---- the server state ------------------------------------------------- */

struct room;
struct hub;
struct hub_edge;

struct chat_srv {
    struct chat_cfg *cfg;
    const ibx_log *log;
    ibx_log log_as;
    struct map nicks;        /* folded nick -> struct conn */
    struct map rooms;        /* folded name -> struct room */
    struct map addrs;        /* address text -> (uintptr_t) count */
    unsigned clients;
    ibx_log_gate refuse_gate;   /* connection refusals: lines per second */
    ibx_log_gate quit_gate;     /* disconnect lines per second */
    ibx_log_gate rooms_gate;    /* --max-rooms-total refusals */
    ibx_log_gate hist_gate;     /* --history-bytes evictions */
    struct hist *hold, *hnew;   /* every room's history lines, oldest first */
    uint64_t hist_bytes;     /* their text bytes */
    uint64_t gen;            /* marks for dedup fan-out */
    time_t started;
    struct node *node;       /* the Redis backplane, NULL when off (node.h) */
    struct hub *hub;         /* NULL under the one-loop models */
    struct conn *conns;      /* every connection not yet freed */
};

/* ---- connections (conn.c) --------------------------------------------- */

struct conn {
    ibx_conn base;           /* first */
    ibx_io io;
    ibx_timer tick;          /* prompt, registration, ping */
    ibx_timer flood_t;       /* throttled input resumes */
    ibx_defer flush_d, detach_d, free_d;
    struct chat_srv *srv;
    ibx_buf in;              /* partial and waiting lines */
    struct outq out;         /* local: what is left to write */
    struct hub_edge *edge;   /* remote: its edge, NULL once closed */
    uint64_t rid;            /* remote: its id at the edge */
    uint64_t hub_seq;        /* remote: its last batch (hub.c) */
    struct flood flood;
    uint64_t last_in_ms;
    uint64_t opened_ms;      /* when it connected: the registration deadline */
    uint64_t mark;
    enum dialect dialect;
    bool registered, prompted, pinged, dead, detached, closed, has_nick, got_user,
        pass_ok, throttled, skipping, capping;
    bool in_eof;             /* dead: the client sends no more (linger_discard) */
    bool remote;             /* its socket is on an edge (hub.c) */
    struct conn *prev, *next;   /* the server's list */
    bool bulk;               /* what is queued now is a bulk reply */
    char why[128];           /* the reason it was killed */
    struct room **rooms;     /* rooms joined */
    size_t nrooms;
    struct room *cur;        /* plain: the current room */
    char *away;
    char nick[CHATD_NICK_MAX + 1];
    char user[16];
    char host[IBX_ADDRSTRLEN];
};

/* Queue m (a new reference is taken) for c; past --sendq c is killed. */
void conn_send(struct conn *c, struct chat_msg *m);
/* Send the member list of r to c as IRC 353 lines of at most 512 bytes
 * (no 366), or as plain notices "in #r: a b c" of at most 512 bytes. */
void chat_names(struct conn *c, struct room *r);
/* Queue a formatted line for c. */
void conn_sendf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Disconnect c after telling the others (reason in QUIT and the log);
 * error, if not NULL, is sent first as an IRC ERROR or a plain notice. */
void conn_kill(struct conn *c, const char *reason, const char *error);
/* Registration is complete (nick known; IRC: USER, PASS): welcome. */
void conn_registered(struct conn *c);
/* Set c's nick (unique, checked by the caller) and announce the change. */
int conn_set_nick(struct conn *c, const char *nick);
/* The conn with nick, or NULL. */
struct conn *conn_by_nick(struct chat_srv *s, const char *nick);
/* Send ev to everyone sharing a room with c (once each) except c. */
void conn_tell_peers(struct conn *c, struct chat_event *ev, bool self);

extern const struct ibx_proto chatd_proto;

/* The core: a client of edge e (id) connected from host. Returns the
 * connection, or NULL with *refused set to the error line's text (the
 * limits, logged) or NULL (out of memory). */
struct conn *conn_open_remote(struct chat_srv *s, ibx_worker *w, struct hub_edge *e,
                              uint64_t id, const char *host, const char **refused);
/* The core: bytes a remote client sent. */
void conn_data(struct conn *c, const void *p, size_t n);
/* The core: a remote client is gone (closed, or its edge died). */
void conn_gone(struct conn *c, const char *reason);
/* In a forked child: free every connection's memory, loop untouched. */
void conn_release_all(struct chat_srv *s);

/* ---- the hub (hub.c: the core's side; edge.c: the workers'; hubio.c) ---- */

/* Ring sizes: per edge of a model with a worker per connection (fork,
 * thread), and of a pool's worker (threadpool, reuseport, prefork). */
#define CHATD_RING_CONN ((size_t)64 << 10)
#define CHATD_RING_POOL ((size_t)2 << 20)
/* Records the core could not put in an edge's ring wait, up to this; past
 * it the edge is stuck and its clients are disconnected. */
#define CHATD_HUB_PEND_MAX ((uint64_t)64 << 20)
/* An edge stops reading its sockets while this much waits for the core's
 * ring (TCP pushes back on the clients). */
#define CHATD_EDGE_PEND_MAX ((size_t)256 << 10)
/* Retry of records waiting for room in a ring, ms. */
#define CHATD_HUB_RETRY_MS 10
/* A closed connection's remaining output gets this long. */
#define CHATD_LINGER_MS 5000

enum hub_type {
    HUB_OPEN = 1,            /* e->c: id, payload = host */
    HUB_DATA,                /* e->c: id, payload = bytes read */
    HUB_CLOSED,              /* e->c: id, payload = reason */
    HUB_SEND,                /* c->e: id = bulk, n ids, then the message */
    HUB_DIALECT,             /* c->e: id, n = dialect */
    HUB_CLOSE,               /* c->e: id, n = drop queued, payload = line */
};
/* One record: one ibx_shmq message. Host byte order (one machine). */
struct hub_rec {
    uint32_t type;
    uint32_t n;
    uint64_t id;
};
/* The hub's control message: an edge registers (fds: its ring to the
 * core, the core's ring to it, the core's end of the doorbell). */
struct hub_hello {
    uint32_t magic;
    int32_t pid;
};
#define HUB_MAGIC 0x43484142u

/* Records into a ring; what does not fit waits in order. */
struct hub_tx {
    ibx_shmq *q;
    ibx_buf pend;            /* [u32 length][record] ... */
    bool committed;          /* something went in since the last ring */
};
/* Queue one record: h, then a (alen bytes), then b (blen bytes). Returns
 * 0, -EPIPE or -EOWNERDEAD (the reader is gone), -EMSGSIZE or -ENOMEM. */
int hubtx_put(struct hub_tx *t, const struct hub_rec *h, const void *a, size_t alen,
              const void *b, size_t blen);
/* Move waiting records into the ring. Returns 0 (some may still wait)
 * or the reader's end (-EPIPE, -EOWNERDEAD). */
int hubtx_flush(struct hub_tx *t);
/* Records that fit in one ring message beside the header and the rest. */
size_t hubtx_room(const struct hub_tx *t);
/* The next record of ring q: 1 (h, payload p of n bytes, valid until
 * ibx_shmq_release(q)), 0 none, or the writer's end (-EPIPE,
 * -EOWNERDEAD) once everything was read, or -EPROTO. */
int hubrx_next(ibx_shmq *q, const struct hub_rec **h, const void **p, size_t *n);
/* Ring a doorbell (one byte; a full socket has rung already). */
void hub_ring(int fd);
/* Empty a doorbell. Returns 0, or -EPIPE when the other end is gone. */
int hub_bell_drain(int fd);

/* The core, for a server whose model has traits (ibx_model_traits).
 * Returns 0 or -errno. */
int hub_new(struct chat_srv *s, unsigned traits, struct hub **out);
/* Register the core as a unit of the server's main loop. */
int hub_add_unit(struct hub *h, ibx_server *srv);
void hub_free(struct hub *h);
/* The core: queue m for remote c (batched per edge and message). */
void hub_send(struct conn *c, struct chat_msg *m, bool bulk);
/* The core: tell c's edge its dialect. */
void hub_dialect(struct conn *c);
/* The core: close remote c at its edge (drop: what was queued but not
 * started goes), after error (may be NULL); c leaves the edge's table. */
void hub_close(struct conn *c, bool drop, const char *error);
/* In a forked child: free the core this process inherited, loop
 * untouched (at most once). */
void hub_release(struct hub *h);
/* The control socket an edge registers through, the ring size. */
int hub_ctl_fd(const struct hub *h);
size_t hub_ring_size(const struct hub *h);
/* Whether this process is the core's. */
bool hub_is_core_process(const struct hub *h);

/* An edge's side: open socket fd from host on worker w. Returns 0 or
 * -errno (fd closed). */
int edge_open(ibx_worker *w, int fd, const char *host, struct chat_srv *s);

/* ---- rooms (room.c) ------------------------------------------------------ */

struct member {
    struct conn *c;
    bool op;
    bool voice;
};
struct hist {
    time_t t;
    bool action;
    char *nick;
    char *text;
    size_t bytes;            /* counted against --history-bytes */
    struct room *room;
    struct hist *gprev, *gnext;   /* the server's list, oldest first */
};
struct room {
    struct chat_srv *srv;
    char *name;
    char *topic;
    char topic_by[CHATD_NICK_MAX + 1];
    time_t topic_at, created;
    bool mode_n, mode_t, mode_m;
    struct member *m;
    size_t n, cap;
    struct hist *h;          /* ring of cfg->history */
    size_t hhead, hn;
};
/* The room called name, or NULL. */
struct room *room_find(struct chat_srv *s, const char *name);
/* Join c to name (created if missing, c its operator). Returns the room,
 * or NULL with *err set: -EMLINK (too many rooms for c), -ENOSPC (too
 * many rooms on the server: --max-rooms-total), -EINVAL (bad name),
 * -ENOMEM. Already a member: the room, *err = -EALREADY. */
struct room *room_join(struct chat_srv *s, struct conn *c, const char *name, int *err);
/* Remove c from r (announcing with reason if not NULL); frees an empty room. */
void room_part(struct chat_srv *s, struct room *r, struct conn *c, const char *reason,
               bool announce);
/* c's membership of r, or NULL. */
struct member *room_member(struct room *r, const struct conn *c);
/* Send ev to every member of r, except skip (may be NULL). */
void room_send(struct room *r, struct chat_event *ev, const struct conn *skip);
/* Record a message in r's history (its oldest line goes past --history;
 * the server's oldest lines go past --history-bytes). */
void room_remember(struct chat_srv *s, struct room *r, const char *nick, const char *text,
                   bool action);
/* Replay r's history to c. */
void room_replay(struct chat_srv *s, struct room *r, struct conn *c);
/* One replayed line, in c's dialect. */
void room_replay_line(struct room *r, struct conn *c, time_t t, const char *nick,
                      const char *text, bool action);
/* The name list of r ("@alice bob"), with the op prefix when irc. */
void room_names(struct room *r, ibx_buf *out, bool irc);
void room_free(void *r);

/* ---- dialects (irc.c, plain.c) ----------------------------------------- */

/* One line from an IRC client (NUL-terminated, line end removed). */
void irc_line(struct conn *c, char *line, size_t len);
/* Length of the IRCv3 tags ("@a=b;c ") that start line, spaces after them
 * included, or 0 when it starts with none. */
size_t irc_tags_len(const char *line, size_t len);
/* The welcome numerics, MOTD, after registration. */
void irc_welcome(struct conn *c);
/* One line from a plain user. */
void plain_line(struct conn *c, char *line, size_t len);
/* The welcome of a plain user. */
void plain_welcome(struct conn *c);
/* An error for c: IRC ":server NUM nick ARGS :TEXT", plain "*** ARGS: TEXT". */
void chat_err(struct conn *c, const char *num, const char *args, const char *text);
/* Server notice to c in its dialect. */
void conn_notice(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Join c to name and tell everyone (both dialects), replay history. */
void chat_join(struct conn *c, const char *name);
/* Send text (action or not, notice or not) from c to target (room or nick). */
void chat_say(struct conn *c, const char *target, const char *text, enum ev_kind kind);
/* Change nick with the checks; returns 0, the IRC numeric of the refusal,
 * or CHAT_NICK_PENDING: the other nodes are asked first (nodes over
 * Redis), and chat_nick_claimed completes it. */
int chat_nick(struct conn *c, const char *nick);
#define CHAT_NICK_PENDING 1
/* The answer to a pending claim (ok: nick is c's): set it, and go on with
 * the registration. Returns as chat_nick. */
int chat_nick_claimed(struct conn *c, const char *nick, bool ok);
/* The nick of an unregistered client is set: go on registering. */
void irc_nick_set(struct conn *c);
void plain_nick_set(struct conn *c);
/* Set the topic of r. */
void chat_topic(struct conn *c, struct room *r, const char *topic);

/* ---- nodes over Redis (node*.c; every hook does nothing when off) ---- */

struct node;
/* Start the backplane of s (cfg->redis set) as a unit of srv. Returns 0
 * or -errno after logging. */
int node_start(struct chat_srv *s, ibx_server *srv);
/* Free it (after the loop ended). */
void node_free(struct chat_srv *s);
/* c joined r (after the local JOIN). */
void node_join(struct conn *c, struct room *r);
/* c leaves r (before it is removed): PART if announce, QUIT if c is dead,
 * else a KICK published by node_pub. */
void node_part(struct room *r, struct conn *c, const char *reason, bool announce);
/* Tell the other nodes about ev of room r (a line, a topic, a mode, a kick). */
void node_pub(struct room *r, const struct chat_event *ev);
/* A private message to a nick that is not here: true if sent on (or
 * looked up; a 401 follows if nobody has it). */
bool node_pm(struct conn *c, const char *target, const char *text, enum ev_kind kind);
/* c changed its nick from old (after the local NICK). */
void node_nick(struct conn *c, const char *old);
/* c leaves the server (from detach). */
void node_conn_gone(struct conn *c);
/* Append the members of r on other nodes to a name list. */
void node_names(struct room *r, ibx_buf *out, bool irc);
/* WHO lines for the members of r on other nodes. */
void node_who(struct conn *c, struct room *r);
/* How many members of r are on other nodes. */
size_t node_count(struct room *r);
/* Replay the shared history of r to c (from Redis): true if asked for
 * (the lines follow), false to replay the local one. */
bool node_replay(struct conn *c, struct room *r);
/* Claim nick for c across nodes: 0 (go on: no nodes, or Redis away), 433
 * (a member of another node has it), or CHAT_NICK_PENDING (asked; the
 * answer calls chat_nick_claimed). */
int node_claim(struct conn *c, const char *nick);
/* Kick nick (of another node) from r: true if it is a member there. */
bool node_kick(struct conn *c, struct room *r, const char *nick, const char *reason);

#endif
