/* chatd nodes over Redis: the history backlog and topics, shared.
 *
 * The node a line is said on pushes it on the room's list (LPUSH, then
 * LTRIM to --history lines); whoever joins, on any node, is replayed that
 * list (LRANGE, oldest first), in the same format as the local backlog.
 * With Redis away the local backlog (which also holds the lines of other
 * nodes it delivered) is replayed instead. A topic is kept under the
 * room's topic key; a node that opens a room (its first member here)
 * reads it, and shows it to who joined. Replies that come after the
 * member left (or the room closed) are dropped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node.h"

struct hwait {
    struct node *n;
    struct conn *c;          /* NULL once gone */
    bool topic;              /* a topic read, not a replay */
    char room[WIRE_ROOM_MAX + 1];   /* its name */
};

static int wait_add(struct node *n, struct hwait *w)
{
    if (n->nwaits == n->capwaits) {
        size_t cap = n->capwaits ? n->capwaits * 2 : 16;
        void **v = realloc(n->waits, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        n->waits = v;
        n->capwaits = cap;
    }
    n->waits[n->nwaits++] = w;
    return 0;
}

static void wait_del(struct node *n, struct hwait *w)
{
    for (size_t i = 0; i < n->nwaits; i++)
        if (n->waits[i] == w) {
            n->waits[i] = n->waits[--n->nwaits];
            return;
        }
}

void node_waits_forget(struct node *n, const struct conn *c)
{
    for (size_t i = 0; i < n->nwaits; i++) {
        struct hwait *w = n->waits[i];
        if (!c || w->c == c)
            w->c = NULL;
    }
}

/* The room of w if c is still in it. */
static struct room *still_there(struct hwait *w)
{
    struct room *r = w->c ? room_find(w->n->s, w->room) : NULL;
    return r && room_member(r, w->c) ? r : NULL;
}

static void on_history(struct rconn *rc, struct resp *rep, void *arg)
{
    struct hwait *w = arg;
    wait_del(w->n, w);
    struct room *r = still_there(w);
    if (r && (!rep || rep->type != RESP_ARRAY)) {
        room_replay(w->n->s, r, w->c);   /* Redis away: the local backlog */
    } else if (r) {
        struct wire_line *l = malloc(sizeof *l);
        for (size_t i = rep->n; l && i-- > 0;) {   /* newest first in Redis */
            const struct resp *e = &rep->e[i];
            if (e->type == RESP_STR && wire_line_decode(e->s, e->n, true, l) == 0)
                room_replay_line(r, w->c, (time_t)l->t, l->who, l->text, l->action);
        }
        free(l);
    }
    free(w);
}

bool node_replay(struct conn *c, struct room *r)
{
    struct node *n = c->srv->node;
    if (!n || n->state != NODE_UP || !c->srv->cfg->history)
        return false;
    struct hwait *w = calloc(1, sizeof *w);
    if (!w || wait_add(n, w) < 0) {
        free(w);
        return false;
    }
    *w = (struct hwait){.n = n, .c = c};
    snprintf(w->room, sizeof w->room, "%s", r->name);
    char f[WIRE_ROOM_MAX + 1], key[WIRE_ROOM_MAX + 64], stop[16];
    snprintf(f, sizeof f, "%s", r->name);
    ibx_irc_fold(f);
    snprintf(stop, sizeof stop, "%u", c->srv->cfg->history - 1);
    const char *argv[] = {"LRANGE", node_key(key, sizeof key, "history", f), "0", stop};
    if (node_cmd(n, on_history, w, 4, argv, NULL) < 0) {
        wait_del(n, w);
        free(w);
        return false;
    }
    return true;
}

void node_history_push(struct node *n, const char *room_key, const char *nick,
                       const char *text, bool action)
{
    unsigned keep = n->s->cfg->history;
    char line[WIRE_EVENT_MAX + 1], key[WIRE_ROOM_MAX + 64], stop[16];
    if (!keep || wire_line_encode(line, sizeof line, (int64_t)time(NULL), action ? 'A' : 'M',
                                  nick, text) < 0)
        return;
    node_key(key, sizeof key, "history", room_key);
    const char *push[] = {"LPUSH", key, line};
    snprintf(stop, sizeof stop, "%u", keep - 1);
    const char *trim[] = {"LTRIM", key, "0", stop};
    if (node_cmd(n, NULL, NULL, 3, push, NULL) == 0)
        node_cmd(n, NULL, NULL, 4, trim, NULL);
}

void node_topic_store(struct node *n, const char *room_key, const struct room *r)
{
    char key[WIRE_ROOM_MAX + 64], line[WIRE_EVENT_MAX + 1];
    node_key(key, sizeof key, "topic", room_key);
    if (!r->topic) {
        const char *argv[] = {"DEL", key};
        node_cmd(n, NULL, NULL, 2, argv, NULL);
    } else if (wire_line_encode(line, sizeof line, (int64_t)r->topic_at, 0, r->topic_by,
                                r->topic) > 0) {
        const char *argv[] = {"SET", key, line};
        node_cmd(n, NULL, NULL, 3, argv, NULL);
    }
}

static void on_topic(struct rconn *rc, struct resp *rep, void *arg)
{
    struct hwait *w = arg;
    wait_del(w->n, w);
    struct room *r = still_there(w);
    struct wire_line l;
    if (r && !r->topic && rep && rep->type == RESP_STR &&
        wire_line_decode(rep->s, rep->n, false, &l) == 0) {
        size_t k = utf8_cut(l.text, r->srv->cfg->topic_len);
        if (k && (r->topic = strndup(l.text, k))) {
            snprintf(r->topic_by, sizeof r->topic_by, "%s", l.who);
            r->topic_at = (time_t)l.t;
            for (size_t i = 0; i < r->n; i++) {   /* who joined saw none: show it */
                struct conn *c = r->m[i].c;
                if (c->dead)
                    continue;
                if (c->dialect == D_IRC) {
                    conn_sendf(c, ":%s 332 %s %s :%s\r\n", CHATD_SERVER_NAME, c->nick,
                               r->name, r->topic);
                    conn_sendf(c, ":%s 333 %s %s %s %lld\r\n", CHATD_SERVER_NAME, c->nick,
                               r->name, r->topic_by, (long long)r->topic_at);
                } else {
                    conn_notice(c, "topic of %s: %s (set by %s)", r->name, r->topic,
                                r->topic_by);
                }
            }
        }
    }
    free(w);
}

void node_topic_read(struct node *n, struct nroom *nr, struct conn *c)
{
    struct hwait *w = calloc(1, sizeof *w);
    if (!w || wait_add(n, w) < 0) {
        free(w);
        return;
    }
    *w = (struct hwait){.n = n, .c = c, .topic = true};
    snprintf(w->room, sizeof w->room, "%s", nr->room->name);
    char key[WIRE_ROOM_MAX + 64];
    const char *argv[] = {"GET", node_key(key, sizeof key, "topic", nr->key)};
    if (node_cmd(n, on_topic, w, 2, argv, NULL) < 0) {
        wait_del(n, w);
        free(w);
    }
}
