/* chatd nodes over Redis: what a node reads back from Redis about the
 * rooms (member lists), the resync after an outage, and node death.
 *
 * Member lists read from Redis: the first one of a room (just joined)
 * only fills the list; later ones (after a reconnect) announce who joined
 * meanwhile, and the full check one grace period after a reconnect also
 * parts who left meanwhile. Departures seen while a list is being read
 * are remembered so the list cannot bring them back.
 *
 * Node death: every third of --redis-ttl each node checks the alive key of
 * every node with members here; a missing key means the node is gone: its
 * members quit ("node lost") and leave the member hashes. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

static void fold(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
    ibx_irc_fold(dst);
}

static bool was_gone(const struct nroom *nr, const char *nick)
{
    char key[CHATD_NICK_MAX + 1];
    fold(key, sizeof key, nick);
    for (size_t i = 0; i < nr->ngone; i++)
        if (!strcmp(nr->gone[i], key))
            return true;
    return false;
}

/* ---- member lists ---------------------------------------------------------- */

struct list_req {
    struct node *n;
    bool full;
    char key[WIRE_ROOM_MAX + 1];
};

static void apply_list(struct node *n, struct nroom *nr, const struct resp *r, bool full);

static void on_list(struct rconn *rc, struct resp *r, void *arg)
{
    struct list_req *q = arg;
    struct node *n = q->n;
    struct nroom *nr = map_get(&n->rooms, q->key);
    if (r && nr && r->type == RESP_ARRAY && !(r->n % 2))
        apply_list(n, nr, r, q->full);
    if (nr && nr->pending && !--nr->pending) {
        free(nr->gone);   /* the last list asked for: departures forgotten after it */
        nr->gone = NULL;
        nr->ngone = 0;
    }
    free(q);
}

struct gone_req {
    struct node *n;
    char room[WIRE_ROOM_MAX + 1];
    char nick[CHATD_NICK_MAX + 1];
    uint64_t node;
};

static void node_lost(struct node *n, uint64_t id);

/* A member missing from the room's hash: its node is gone (then every
 * member of it goes, as when the alive check finds it), or it left. */
static void on_gone_alive(struct rconn *rc, struct resp *r, void *arg)
{
    struct gone_req *q = arg;
    struct node *n = q->n;
    struct nroom *nr = r && r->type == RESP_INT ? map_get(&n->rooms, q->room) : NULL;
    struct rnick *rn = nr ? rnick_of(n, q->nick) : NULL;
    if (rn && rn->node == q->node && rnick_in(rn, nr)) {
        if (r->i == 0) {
            node_lost(n, q->node);
        } else {
            struct chat_event ev = {.kind = EV_PART, .target = nr->room->name,
                                    .text = "gone while cross-node delivery was paused",
                                    .from = node_as(n, rn->nick, rn->user, rn->host)};
            room_send(nr->room, &ev, NULL);
            event_done(&ev);
            rnick_unlink(n, rn, nr);
        }
    }
    free(q);
}

static void check_gone(struct node *n, struct nroom *nr, const struct rnick *rn)
{
    struct gone_req *q = malloc(sizeof *q);
    if (!q)
        return;
    *q = (struct gone_req){.n = n, .node = rn->node};
    snprintf(q->room, sizeof q->room, "%s", nr->key);
    snprintf(q->nick, sizeof q->nick, "%s", rn->nick);
    char key[64], hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, rn->node);
    const char *argv[] = {"EXISTS", node_key(key, sizeof key, "alive", hex)};
    if (node_cmd(n, on_gone_alive, q, 2, argv, NULL) < 0)
        free(q);
}

/* Merge the member list r (HGETALL) into nr. */
static void apply_list(struct node *n, struct nroom *nr, const struct resp *r, bool full)
{
    bool first = !nr->synced;
    nr->synced = true;
    size_t seen_n = 0;
    struct rnick **seen = full ? calloc(r->n / 2 + 1, sizeof *seen) : NULL;
    for (size_t i = 0; i + 1 < r->n; i += 2) {
        struct wire_member m;
        const struct resp *v = &r->e[i + 1];
        if (v->type != RESP_STR || wire_member_decode(v->s, v->n, &m) < 0 ||
            m.origin == n->id || conn_by_nick(n->s, m.nick) || was_gone(nr, m.nick))
            continue;
        struct rnick *rn = rnick_of(n, m.nick);
        if (!rn && !(rn = rnick_new(n, m.origin, m.nick, m.user, m.host)))
            continue;
        if (!rnick_in(rn, nr)) {
            if (rnick_link(rn, nr) < 0) {
                if (!rn->nrooms)
                    rnick_free(n, rn);
                continue;
            }
            if (!first) {
                struct chat_event ev = {.kind = EV_JOIN, .target = nr->room->name,
                                        .from = node_as(n, rn->nick, rn->user, rn->host)};
                room_send(nr->room, &ev, NULL);
                event_done(&ev);
            }
        }
        if (seen)
            seen[seen_n++] = rn;
    }
    if (seen) {   /* the full check: who is not in Redis any more left */
        for (size_t i = nr->n; i-- > 0;) {
            struct rnick *rn = nr->m[i];
            bool there = false;
            for (size_t k = 0; k < seen_n && !there; k++)
                there = seen[k] == rn;
            if (!there)
                check_gone(n, nr, rn);
        }
        free(seen);
    }
}

void nroom_read_list(struct node *n, struct nroom *nr, bool full)
{
    struct list_req *q = calloc(1, sizeof *q);
    if (!q)
        return;
    q->n = n;
    q->full = full;
    snprintf(q->key, sizeof q->key, "%s", nr->key);
    char key[WIRE_ROOM_MAX + 64];
    const char *argv[] = {"HGETALL", node_key(key, sizeof key, "members", nr->key)};
    if (!nr->gone && !(nr->gone = calloc(NODE_GONE_MAX, sizeof *nr->gone))) {
        free(q);
        return;
    }
    if (node_cmd(n, on_list, q, 2, argv, NULL) < 0) {
        free(q);
        if (!nr->pending) {
            free(nr->gone);
            nr->gone = NULL;
        }
        return;
    }
    nr->pending++;
}
static void up_one(void *val, void *arg)
{
    struct nroom *nr = val;
    struct node *n = arg;
    nroom_sync(n, nr);
    for (size_t i = 0; i < nr->room->n; i++) {
        struct conn *c = nr->room->m[i].c;
        if (c->dead)
            continue;
        nroom_hset(n, nr->key, c);
        struct wire_ev w = {.kind = EV_JOIN};
        node_sender(&w, c, NULL);
        snprintf(w.target, sizeof w.target, "%s", nr->room->name);
        nroom_publish(n, nr->key, &w);
    }
}

void node_rooms_up(struct node *n) { map_each(&n->rooms, up_one, n); }

static void resync_one(void *val, void *arg) { nroom_read_list(arg, val, true); }

void node_rooms_resync(struct node *n) { map_each(&n->rooms, resync_one, n); }

/* ---- node death ------------------------------------------------------------ */

struct alive_req {
    struct node *n;
    uint64_t id;
};

struct lost_ctx {
    uint64_t id;
    struct rnick **v;
    size_t n, cap;
};

static void collect(void *val, void *arg)
{
    struct rnick *rn = val;
    struct lost_ctx *l = arg;
    if (l->id && rn->node != l->id)
        return;
    if (!l->id) {   /* distinct nodes */
        for (size_t i = 0; i < l->n; i++)
            if (l->v[i]->node == rn->node)
                return;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct rnick **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = rn;
}

static void node_lost(struct node *n, uint64_t id)
{
    struct lost_ctx l = {.id = id};
    map_each(&n->remote, collect, &l);
    if (!l.n)
        return;
    ibx_info(n->s->log, "msg=\"chat node lost: its members quit\" node=%016" PRIx64
             " members=%zu", id, l.n);
    for (size_t i = 0; i < l.n; i++) {
        struct rnick *rn = l.v[i];
        struct chat_event ev = {.kind = EV_QUIT, .text = "node lost"};
        rnick_tell(n, rn, &ev);
        event_done(&ev);
        for (size_t k = 0; k < rn->nrooms; k++)
            nroom_hdel(n, rn->rooms[k]->key, rn->nick, id);
        rnick_unlink_all(n, rn);
    }
    free(l.v);
}

static void on_alive_reply(struct rconn *rc, struct resp *r, void *arg)
{
    struct alive_req *q = arg;
    if (r && r->type == RESP_INT && r->i == 0)
        node_lost(q->n, q->id);
    free(q);
}

void node_check_nodes(struct node *n)
{
    struct lost_ctx l = {0};
    map_each(&n->remote, collect, &l);
    for (size_t i = 0; i < l.n; i++) {
        struct alive_req *q = malloc(sizeof *q);
        if (!q)
            break;
        *q = (struct alive_req){n, l.v[i]->node};
        char key[64], hex[17];
        snprintf(hex, sizeof hex, "%016" PRIx64, q->id);
        const char *argv[] = {"EXISTS", node_key(key, sizeof key, "alive", hex)};
        if (node_cmd(n, on_alive_reply, q, 2, argv, NULL) < 0)
            free(q);
    }
    free(l.v);
}
