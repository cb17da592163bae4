/* chatd nodes over Redis: rooms across nodes.
 *
 * A node subscribes to the channel of each room that has members here,
 * and keeps the members of other nodes (struct rnick, one per nick, in
 * every local room it shares) from the room's events and from the room's
 * member hash, read when the node subscribes. Events of other nodes are
 * delivered through the same path as local ones (room_send,
 * conn_tell_peers), with a scratch connection as the sender: every member
 * gets them in its dialect. A QUIT or NICK comes on each room's channel;
 * the first one that finds the member acts, the others find nothing.
 *
 * The member lists read back from Redis, the resync after an outage and
 * node death are in node_sync.c; the helpers it shares with this file
 * (remote members, delivery, the member hash) are declared in node.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h"


static void fold(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s);
    ibx_irc_fold(dst);
}

static struct nroom *nroom_of(struct node *n, const char *name)
{
    char key[WIRE_ROOM_MAX + 1];
    fold(key, sizeof key, name);
    return map_get(&n->rooms, key);
}

struct rnick *rnick_of(struct node *n, const char *nick)
{
    char key[CHATD_NICK_MAX + 1];
    fold(key, sizeof key, nick);
    return map_get(&n->remote, key);
}

bool rnick_in(const struct rnick *rn, const struct nroom *nr)
{
    for (size_t i = 0; i < rn->nrooms; i++)
        if (rn->rooms[i] == nr)
            return true;
    return false;
}

static void note_gone(struct nroom *nr, const char *nick)
{
    if (nr->pending && nr->gone && nr->ngone < NODE_GONE_MAX)
        fold(nr->gone[nr->ngone++], sizeof nr->gone[0], nick);
}

/* ---- remote members ------------------------------------------------------ */

struct rnick *rnick_new(struct node *n, uint64_t node, const char *nick,
                               const char *user, const char *host)
{
    if (n->remote.n >= NODE_REMOTE_MAX)
        return NULL;
    struct rnick *rn = calloc(1, sizeof *rn);
    char key[CHATD_NICK_MAX + 1];
    fold(key, sizeof key, nick);
    if (!rn || map_put(&n->remote, key, rn) < 0) {
        free(rn);
        return NULL;
    }
    rn->node = node;
    snprintf(rn->nick, sizeof rn->nick, "%s", nick);
    snprintf(rn->user, sizeof rn->user, "%s", user);
    snprintf(rn->host, sizeof rn->host, "%s", host);
    return rn;
}

int rnick_link(struct rnick *rn, struct nroom *nr)
{
    struct nroom **a = realloc(rn->rooms, (rn->nrooms + 1) * sizeof *a);
    if (!a)
        return -ENOMEM;
    rn->rooms = a;
    if (nr->n == nr->cap) {
        size_t cap = nr->cap ? nr->cap * 2 : 8;
        struct rnick **m = realloc(nr->m, cap * sizeof *m);
        if (!m)
            return -ENOMEM;
        nr->m = m;
        nr->cap = cap;
    }
    rn->rooms[rn->nrooms++] = nr;
    nr->m[nr->n++] = rn;
    return 0;
}

void rnick_free(struct node *n, struct rnick *rn)
{
    char key[CHATD_NICK_MAX + 1];
    fold(key, sizeof key, rn->nick);
    map_del(&n->remote, key);
    free(rn->rooms);
    free(rn);
}

/* Remove rn from nr (rn freed when in no room any more). */
void rnick_unlink(struct node *n, struct rnick *rn, struct nroom *nr)
{
    for (size_t i = 0; i < nr->n; i++)
        if (nr->m[i] == rn) {
            nr->m[i] = nr->m[--nr->n];
            break;
        }
    for (size_t i = 0; i < rn->nrooms; i++)
        if (rn->rooms[i] == nr) {
            rn->rooms[i] = rn->rooms[--rn->nrooms];
            break;
        }
    note_gone(nr, rn->nick);
    if (!rn->nrooms)
        rnick_free(n, rn);
}

void rnick_unlink_all(struct node *n, struct rnick *rn)
{
    while (rn->nrooms > 1)
        rnick_unlink(n, rn, rn->rooms[rn->nrooms - 1]);
    rnick_unlink(n, rn, rn->rooms[0]);
}

/* ---- delivery through the local paths --------------------------------- */

struct conn *node_as(struct node *n, const char *nick, const char *user,
                           const char *host)
{
    struct conn *c = n->scratch;
    snprintf(c->nick, sizeof c->nick, "%s", nick);
    snprintf(c->user, sizeof c->user, "%s", user);
    snprintf(c->host, sizeof c->host, "%s", host);
    c->registered = c->has_nick = true;
    return c;
}

/* ev to every local member sharing a room with rn, once each. */
void rnick_tell(struct node *n, struct rnick *rn, struct chat_event *ev)
{
    struct room *stack[16];
    struct room **rooms = rn->nrooms <= 16 ? stack : malloc(rn->nrooms * sizeof *rooms);
    if (!rooms)
        return;
    for (size_t i = 0; i < rn->nrooms; i++)
        rooms[i] = rn->rooms[i]->room;
    struct conn *c = node_as(n, rn->nick, rn->user, rn->host);
    ev->from = c;
    c->rooms = rooms;
    c->nrooms = rn->nrooms;
    conn_tell_peers(c, ev, false);
    c->rooms = NULL;
    c->nrooms = 0;
    if (rooms != stack)
        free(rooms);
}

void nroom_hdel(struct node *n, const char *room_key, const char *nick, uint64_t origin)
{
    /* only the entry of that node: the nick may live elsewhere now */
    static const char script[] =
        "local v = redis.call('HGET', KEYS[1], ARGV[1]) "
        "if v and string.sub(v, 1, 16) == ARGV[2] then "
        "return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0";
    char key[WIRE_ROOM_MAX + 64], field[CHATD_NICK_MAX + 1], hex[17];
    fold(field, sizeof field, nick);
    snprintf(hex, sizeof hex, "%016" PRIx64, origin);
    const char *argv[] = {"EVAL", script, "1", node_key(key, sizeof key, "members", room_key),
                          field, hex};
    node_cmd(n, NULL, NULL, 6, argv, NULL);
}

void nroom_hset(struct node *n, const char *room_key, const struct conn *c)
{
    char key[WIRE_ROOM_MAX + 64], field[CHATD_NICK_MAX + 1], val[256];
    fold(field, sizeof field, c->nick);
    if (wire_member_encode(val, sizeof val, n->id, c->nick, c->user, c->host) < 0)
        return;
    const char *argv[] = {"HSET", node_key(key, sizeof key, "members", room_key), field, val};
    node_cmd(n, NULL, NULL, 4, argv, NULL);
}

void nroom_publish(struct node *n, const char *room_key, struct wire_ev *w)
{
    char ch[WIRE_ROOM_MAX + 64];
    node_publish_ev(n, node_key(ch, sizeof ch, "room", room_key), w);
}

void nroom_sync(struct node *n, struct nroom *nr)
{
    if (n->state != NODE_UP)
        return;
    char ch[WIRE_ROOM_MAX + 64];
    const char *argv[] = {"SUBSCRIBE", node_key(ch, sizeof ch, "room", nr->key)};
    rconn_cmd(&n->sub, NULL, NULL, 2, argv, NULL);
}

/* ---- events of other nodes ------------------------------------------------- */

/* Apply the room flags and member modes of a MODE text ("+nt-m+o nick"). */
static void apply_mode(struct room *r, const char *text)
{
    char buf[IBX_IRC_LINE_MAX];
    snprintf(buf, sizeof buf, "%s", text);
    char *save, *modes = strtok_r(buf, " ", &save);
    bool add = true;
    for (const char *p = modes ? modes : ""; *p; p++) {
        switch (*p) {
        case '+': add = true; break;
        case '-': add = false; break;
        case 'n': r->mode_n = add; break;
        case 't': r->mode_t = add; break;
        case 'm': r->mode_m = add; break;
        case 'o':
        case 'v': {
            char *who = strtok_r(NULL, " ", &save);
            struct conn *t = who ? conn_by_nick(r->srv, who) : NULL;
            struct member *m = t ? room_member(r, t) : NULL;
            if (m)
                *(*p == 'o' ? &m->op : &m->voice) = add;
            break;
        }
        default: break;
        }
    }
}

static void room_event(struct node *n, struct nroom *nr, struct wire_ev *w)
{
    struct chat_srv *s = n->s;
    struct room *r = nr->room;
    struct rnick *rn = rnick_of(n, w->nick);
    if (conn_by_nick(s, w->nick))
        return;   /* a nick of ours: not theirs to speak for */
    struct chat_event ev = {.kind = w->kind, .target = r->name, .arg = w->arg,
                            .text = w->has_text ? w->text : NULL,
                            .from = node_as(n, w->nick, w->user, w->host)};
    switch (w->kind) {
    case EV_JOIN:
        if (rn && rnick_in(rn, nr))
            return;
        if (rn)
            rn->node = w->origin;
        else if (!(rn = rnick_new(n, w->origin, w->nick, w->user, w->host)))
            return;
        if (rnick_link(rn, nr) < 0) {
            if (!rn->nrooms)
                rnick_free(n, rn);
            return;
        }
        room_send(r, &ev, NULL);
        break;
    case EV_PART:
        if (!rn || !rnick_in(rn, nr))
            return;
        room_send(r, &ev, NULL);
        rnick_unlink(n, rn, nr);
        break;
    case EV_QUIT:
        if (!rn)
            return;
        rnick_tell(n, rn, &ev);
        rnick_unlink_all(n, rn);
        break;
    case EV_NICK: {
        struct rnick *other = rn ? rnick_of(n, w->arg) : NULL;
        if (!rn || (other && other != rn) || conn_by_nick(s, w->arg))
            return;   /* a case-only change (bob -> BOB) finds rn itself: allowed */
        char old[CHATD_NICK_MAX + 1], key[CHATD_NICK_MAX + 1];
        memcpy(old, rn->nick, sizeof old);
        ev.nick = old;
        rnick_tell(n, rn, &ev);
        fold(key, sizeof key, old);
        map_del(&n->remote, key);
        snprintf(rn->nick, sizeof rn->nick, "%s", w->arg);
        fold(key, sizeof key, rn->nick);
        if (map_put(&n->remote, key, rn) < 0)
            rnick_unlink_all(n, rn);   /* out of memory: forget it */
        break;
    }
    case EV_MSG:
    case EV_ACTION:
    case EV_NOTICE:
        room_send(r, &ev, NULL);
        if (w->kind != EV_NOTICE)
            room_remember(s, r, w->nick, w->text, w->kind == EV_ACTION);
        break;
    case EV_TOPIC: {
        size_t k = utf8_cut(w->has_text ? w->text : "", s->cfg->topic_len);
        char *t = k ? strndup(w->text, k) : NULL;
        if (k && !t)
            return;
        free(r->topic);
        r->topic = t;
        snprintf(r->topic_by, sizeof r->topic_by, "%s", w->nick);
        r->topic_at = time(NULL);
        ev.text = t ? t : "";
        room_send(r, &ev, NULL);
        break;
    }
    case EV_MODE:
        apply_mode(r, w->text);
        room_send(r, &ev, NULL);
        break;
    case EV_KICK: {
        room_send(r, &ev, NULL);
        struct conn *t = conn_by_nick(s, w->arg);
        struct rnick *kn = rnick_of(n, w->arg);
        event_done(&ev);
        if (t && room_member(r, t))
            room_part(s, r, t, NULL, false);   /* may free r and nr */
        else if (kn && rnick_in(kn, nr))
            rnick_unlink(n, kn, nr);
        return;
    }
    }
    event_done(&ev);
}

/* A private message for a member here. */
static void pm_event(struct node *n, struct wire_ev *w)
{
    if (w->kind != EV_MSG && w->kind != EV_ACTION && w->kind != EV_NOTICE)
        return;
    struct conn *to = conn_by_nick(n->s, w->target);
    if (!to || !to->registered || to->dead || conn_by_nick(n->s, w->nick))
        return;
    struct chat_event ev = {.kind = w->kind, .target = to->nick, .text = w->text,
                            .to_nick = true, .from = node_as(n, w->nick, w->user, w->host)};
    struct chat_msg *m = event_msg(&ev, to->dialect);
    if (m)
        conn_send(to, m);
    event_done(&ev);
}

/* Seen already (or our own)? */
static bool duplicate(struct node *n, const struct wire_ev *w)
{
    if (w->origin == n->id)
        return true;
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, w->origin);
    void **slot = map_slot(&n->origins, hex);
    if (slot) {
        if ((uint64_t)(uintptr_t)*slot >= w->seq)
            return true;
        *slot = (void *)(uintptr_t)w->seq;
        return false;
    }
    if (n->origins.n >= NODE_ORIGINS_MAX)
        map_free(&n->origins);
    map_put(&n->origins, hex, (void *)(uintptr_t)w->seq);
    return false;
}

void node_on_message(struct node *n, const char *channel, size_t clen, const char *p,
                     size_t len)
{
    static const char room_pre[] = NODE_PREFIX "room:", node_pre[] = NODE_PREFIX "node:";
    bool room = clen > sizeof room_pre - 1 && !memcmp(channel, room_pre, sizeof room_pre - 1);
    if (!room && !(clen == sizeof node_pre - 1 + 16 &&
                   !memcmp(channel, node_pre, sizeof node_pre - 1) &&
                   !memcmp(channel + sizeof node_pre - 1, n->hex, 16)))
        return;
    struct nroom *nr = NULL;
    if (room) {
        char key[WIRE_ROOM_MAX + 1];
        size_t kl = clen - (sizeof room_pre - 1);
        if (kl >= sizeof key)
            return;
        memcpy(key, channel + sizeof room_pre - 1, kl);
        key[kl] = '\0';
        if (!(nr = map_get(&n->rooms, key)))
            return;   /* not a room here (any more) */
        if (!p) {   /* subscribed: read who is there */
            nroom_read_list(n, nr, false);
            return;
        }
    } else if (!p) {
        return;
    }
    struct wire_ev *w = malloc(sizeof *w);
    if (!w)
        return;
    if (wire_event_decode(p, len, w) == 0 && !duplicate(n, w)) {
        if (!room)
            pm_event(n, w);
        else if (w->kind == EV_NICK || w->kind == EV_QUIT ||
                 (w->target[0] == '#' && nroom_of(n, w->target) == nr))
            room_event(n, nr, w);
    }
    free(w);
}

/* ---- hooks ---------------------------------------------------------------- */

void node_join(struct conn *c, struct room *r)
{
    struct node *n = c->srv->node;
    if (!n)
        return;
    struct nroom *nr = nroom_of(n, r->name);
    if (!nr) {
        nr = calloc(1, sizeof *nr);
        if (!nr)
            return;
        nr->room = r;
        fold(nr->key, sizeof nr->key, r->name);
        if (map_put(&n->rooms, nr->key, nr) < 0) {
            free(nr);
            return;
        }
        nroom_sync(n, nr);
        if (n->state == NODE_UP)
            node_topic_read(n, nr, c);
    }
    nroom_hset(n, nr->key, c);
    struct wire_ev w = {.kind = EV_JOIN};
    node_sender(&w, c, NULL);
    snprintf(w.target, sizeof w.target, "%s", r->name);
    nroom_publish(n, nr->key, &w);
}

static void nroom_free(struct node *n, struct nroom *nr)
{
    while (nr->n)
        rnick_unlink(n, nr->m[nr->n - 1], nr);
    map_del(&n->rooms, nr->key);
    free(nr->gone);
    free(nr->m);
    free(nr);
}

void node_part(struct room *r, struct conn *c, const char *reason, bool announce)
{
    struct node *n = r->srv->node;
    struct nroom *nr = n ? nroom_of(n, r->name) : NULL;
    if (!nr)
        return;
    if (c->has_nick)
        nroom_hdel(n, nr->key, c->nick, n->id);
    if (announce || c->dead) {
        struct wire_ev w = {.kind = announce ? EV_PART : EV_QUIT};
        node_sender(&w, c, NULL);
        snprintf(w.target, sizeof w.target, "%s", announce ? r->name : "");
        const char *text = announce ? reason : c->why;
        if (text) {
            w.has_text = true;
            snprintf(w.text, sizeof w.text, "%.*s", (int)utf8_cut(text, IBX_IRC_TEXT_MAX - 64),
                     text);
        }
        nroom_publish(n, nr->key, &w);
    }
    if (r->n <= 1) {   /* the last member here: the room goes */
        if (n->state == NODE_UP) {
            char ch[WIRE_ROOM_MAX + 64];
            const char *argv[] = {"UNSUBSCRIBE", node_key(ch, sizeof ch, "room", nr->key)};
            rconn_cmd(&n->sub, NULL, NULL, 2, argv, NULL);
        }
        nroom_free(n, nr);
    }
}

void node_pub(struct room *r, const struct chat_event *ev)
{
    struct node *n = r->srv->node;
    struct nroom *nr = n ? nroom_of(n, r->name) : NULL;
    if (!nr || !ev->from)
        return;
    struct wire_ev w = {.kind = ev->kind};
    node_sender(&w, ev->from, ev->nick);
    snprintf(w.target, sizeof w.target, "%s", r->name);
    if (ev->arg)
        snprintf(w.arg, sizeof w.arg, "%s", ev->arg);
    if (ev->text) {
        w.has_text = true;
        snprintf(w.text, sizeof w.text, "%.*s", (int)utf8_cut(ev->text, IBX_IRC_TEXT_MAX - 64),
                 ev->text);
    }
    nroom_publish(n, nr->key, &w);
    if (ev->kind == EV_MSG || ev->kind == EV_ACTION)
        node_history_push(n, nr->key, w.nick, w.text, ev->kind == EV_ACTION);
    else if (ev->kind == EV_TOPIC)
        node_topic_store(n, nr->key, r);
}

void node_nick(struct conn *c, const char *old)
{
    struct node *n = c->srv->node;
    if (!n)
        return;
    struct wire_ev w = {.kind = EV_NICK};
    node_sender(&w, c, old);
    snprintf(w.arg, sizeof w.arg, "%s", c->nick);
    if (old[0] && ibx_irc_casecmp(old, c->nick))
        node_nick_released(n, old);
    for (size_t i = 0; i < c->nrooms; i++) {
        struct nroom *nr = nroom_of(n, c->rooms[i]->name);
        if (!nr)
            continue;
        nroom_hdel(n, nr->key, old, n->id);
        nroom_hset(n, nr->key, c);
        nroom_publish(n, nr->key, &w);
    }
}

void node_names(struct room *r, ibx_buf *out, bool irc)
{
    struct node *n = r->srv->node;
    struct nroom *nr = n ? nroom_of(n, r->name) : NULL;
    for (size_t i = 0; nr && i < nr->n; i++)
        ibx_buf_printf(out, "%s%s", ibx_buf_used(out) ? " " : "", nr->m[i]->nick);
    (void)irc;
}

void node_who(struct conn *c, struct room *r)
{
    struct node *n = r->srv->node;
    struct nroom *nr = n ? nroom_of(n, r->name) : NULL;
    for (size_t i = 0; nr && i < nr->n; i++) {
        const struct rnick *p = nr->m[i];
        conn_sendf(c, ":%s 352 %s %s %s %s %s %s H :0 %s\r\n", CHATD_SERVER_NAME, c->nick,
                   r->name, p->user, p->host, CHATD_SERVER_NAME, p->nick, p->nick);
    }
}

size_t node_count(struct room *r)
{
    struct node *n = r->srv->node;
    struct nroom *nr = n ? nroom_of(n, r->name) : NULL;
    return nr ? nr->n : 0;
}

bool node_kick(struct conn *c, struct room *r, const char *nick, const char *reason)
{
    struct node *n = c->srv->node;
    struct nroom *nr = n ? nroom_of(n, r->name) : NULL;
    struct rnick *rn = nr ? rnick_of(n, nick) : NULL;
    if (!rn || !rnick_in(rn, nr))
        return false;
    struct chat_event ev = {.kind = EV_KICK, .from = c, .target = r->name, .arg = rn->nick,
                            .text = reason};
    room_send(r, &ev, NULL);
    node_pub(r, &ev);
    event_done(&ev);
    rnick_unlink(n, rn, nr);
    return true;
}

static void free_room(void *val, void *arg) { nroom_free(arg, val); }

void node_rooms_free(struct node *n)
{
    map_each(&n->rooms, free_room, n);
    map_free(&n->rooms);
    map_free(&n->remote);
}
