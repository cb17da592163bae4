/* chatd's rooms: members (with the operator flag), topic, modes, and the
 * history ring replayed on join. A room exists while it has members. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatd.h"

/* The table key of a room name: folded. */
static const char *fold_key(const char *name, char key[static 256])
{
    snprintf(key, 256, "%s", name);
    ibx_irc_fold(key);
    return key;
}

struct room *room_find(struct chat_srv *s, const char *name)
{
    char key[256];
    return map_get(&s->rooms, fold_key(name, key));
}

struct member *room_member(struct room *r, const struct conn *c)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->m[i].c == c)
            return &r->m[i];
    return NULL;
}

/* Drop the oldest history line of r. */
static void hist_drop(struct room *r)
{
    struct chat_srv *s = r->srv;
    struct hist *h = &r->h[r->hhead];
    if (h->gprev)
        h->gprev->gnext = h->gnext;
    else
        s->hold = h->gnext;
    if (h->gnext)
        h->gnext->gprev = h->gprev;
    else
        s->hnew = h->gprev;
    s->hist_bytes -= h->bytes;
    free(h->nick);
    free(h->text);
    *h = (struct hist){0};
    r->hhead = (r->hhead + 1) % s->cfg->history;
    r->hn--;
}

void room_free(void *p)
{
    struct room *r = p;
    while (r->hn)
        hist_drop(r);
    free(r->h);
    free(r->m);
    free(r->topic);
    free(r->name);
    free(r);
}

struct room *room_join(struct chat_srv *s, struct conn *c, const char *name, int *err)
{
    *err = 0;
    if (!ibx_irc_channel_valid(name, s->cfg->room_len)) {
        *err = -EINVAL;
        return NULL;
    }
    struct room *r = room_find(s, name);
    if (r && room_member(r, c)) {
        *err = -EALREADY;
        return r;
    }
    if (c->nrooms >= s->cfg->max_rooms) {
        *err = -EMLINK;
        return NULL;
    }
    struct room **cr = realloc(c->rooms, (c->nrooms + 1) * sizeof *cr);
    if (!cr) {
        *err = -ENOMEM;
        return NULL;
    }
    c->rooms = cr;
    bool fresh = !r;
    if (fresh && s->cfg->max_rooms_total && s->rooms.n >= s->cfg->max_rooms_total) {
        unsigned long held = 0;
        if (ibx_log_gate_pass(&s->rooms_gate, ibx_loop_now(ibx_worker_loop(c->base.worker)),
                              &held))
            ibx_warn(s->log, "msg=\"room refused: too many rooms on this server\" room=%s "
                     "rooms=%zu flag=--max-rooms-total held=%lu", name, s->rooms.n, held);
        *err = -ENOSPC;
        return NULL;
    }
    if (fresh) {
        r = calloc(1, sizeof *r);
        char key[256];
        fold_key(name, key);
        if (!r || !(r->name = strdup(name)) || map_put(&s->rooms, key, r) < 0) {
            if (r)
                free(r->name);
            free(r);
            *err = -ENOMEM;
            return NULL;
        }
        r->created = time(NULL);
        r->srv = s;
        r->mode_n = r->mode_t = true;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        struct member *m = realloc(r->m, cap * sizeof *m);
        if (!m) {
            *err = -ENOMEM;
            if (fresh) {
                char key[256];
                room_free(map_del(&s->rooms, fold_key(name, key)));
            }
            return NULL;
        }
        r->m = m;
        r->cap = cap;
    }
    r->m[r->n++] = (struct member){.c = c, .op = fresh};
    c->rooms[c->nrooms++] = r;
    return r;
}

void room_part(struct chat_srv *s, struct room *r, struct conn *c, const char *reason,
               bool announce)
{
    struct member *m = room_member(r, c);
    if (!m)
        return;
    node_part(r, c, reason, announce);
    if (announce) {
        struct chat_event ev = {.kind = EV_PART, .from = c, .target = r->name, .text = reason};
        room_send(r, &ev, NULL);
        event_done(&ev);
    }
    *m = r->m[--r->n];   /* order of members does not matter */
    for (size_t i = 0; i < c->nrooms; i++)
        if (c->rooms[i] == r) {
            c->rooms[i] = c->rooms[--c->nrooms];
            break;
        }
    if (c->cur == r)
        c->cur = c->nrooms ? c->rooms[0] : NULL;
    if (!r->n) {
        char key[256];
        room_free(map_del(&s->rooms, fold_key(r->name, key)));
    }
}

void room_send(struct room *r, struct chat_event *ev, const struct conn *skip)
{
    for (size_t i = 0; i < r->n; i++) {
        struct conn *c = r->m[i].c;
        if (c == skip || c->dead)
            continue;
        struct chat_msg *m = event_msg(ev, c->dialect);
        if (m)
            conn_send(c, m);
    }
}

void room_remember(struct chat_srv *s, struct room *r, const char *nick, const char *text,
                   bool action)
{
    size_t cap = s->cfg->history;
    uint64_t limit = s->cfg->history_bytes;
    size_t tl = utf8_cut(text, IBX_IRC_TEXT_MAX);   /* bounded, whoever calls */
    size_t bytes = strlen(nick) + tl + 2;
    if (!cap || (limit && bytes > limit))
        return;
    if (!r->h && !(r->h = calloc(cap, sizeof *r->h)))
        return;
    if (r->hn == cap)
        hist_drop(r);
    bool dropped = false;
    while (limit && s->hist_bytes + bytes > limit && s->hold) {
        hist_drop(s->hold->room);   /* the server's oldest line is its room's oldest */
        dropped = true;
    }
    if (dropped) {
        unsigned long held = 0;
        /* no loop at hand here: the gate's clock is seconds of wall time */
        if (ibx_log_gate_pass(&s->hist_gate, (uint64_t)time(NULL) * 1000, &held))
            ibx_info(s->log, "msg=\"history bytes limit reached: oldest lines dropped\" "
                     "bytes=%llu flag=--history-bytes",
                     (unsigned long long)s->hist_bytes);
    }
    struct hist *h = &r->h[(r->hhead + r->hn) % cap];
    h->t = time(NULL);
    h->action = action;
    h->nick = strdup(nick);
    h->text = strndup(text, tl);
    if (!h->nick || !h->text) {
        free(h->nick);
        free(h->text);
        *h = (struct hist){0};
        return;
    }
    h->bytes = bytes;
    h->room = r;
    h->gprev = s->hnew;
    h->gnext = NULL;
    if (s->hnew)
        s->hnew->gnext = h;
    else
        s->hold = h;
    s->hnew = h;
    s->hist_bytes += bytes;
    r->hn++;
}

void room_replay_line(struct room *r, struct conn *c, time_t t, const char *nick,
                      const char *text, bool action)
{
    struct tm tm;
    char ts[32];
    localtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    if (c->dialect == D_IRC) {
        char line[IBX_IRC_LINE_MAX];
        snprintf(line, sizeof line, action ? "[%s] * %s %s" : "[%s] <%s> %s", ts, nick, text);
        size_t room = IBX_IRC_TEXT_MAX - strlen(CHATD_SERVER_NAME) - strlen(r->name) - 20;
        conn_sendf(c, ":%s NOTICE %s :%.*s\r\n", CHATD_SERVER_NAME, r->name,
                   (int)utf8_cut(line, room), line);
    } else {
        char raw[1200], clean[1200];
        snprintf(raw, sizeof raw, action ? "[%s] %s * %s %s" : "[%s] %s %s: %s", r->name, ts,
                 nick, text);
        text_clean(clean, sizeof clean, raw);
        conn_sendf(c, "%s\n", clean);
    }
}

void room_replay(struct chat_srv *s, struct room *r, struct conn *c)
{
    if (node_replay(c, r))
        return;   /* the shared history, from Redis */
    size_t cap = s->cfg->history;
    for (size_t i = 0; i < r->hn; i++) {
        const struct hist *h = &r->h[(r->hhead + i) % cap];
        if (h->text && h->nick)
            room_replay_line(r, c, h->t, h->nick, h->text, h->action);
    }
}

void room_names(struct room *r, ibx_buf *out, bool irc)
{
    for (size_t i = 0; i < r->n; i++)
        ibx_buf_printf(out, "%s%s%s", i ? " " : "", r->m[i].op && irc ? "@" : "",
                       r->m[i].c->nick);
    node_names(r, out, irc);
}
