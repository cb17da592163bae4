/* What a user does, whichever dialect it speaks: join, say, change nick,
 * set a topic. Each tells everyone concerned in their own dialect. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatd.h"

void chat_err(struct conn *c, const char *num, const char *args, const char *text)
{
    if (c->dialect == D_IRC)
        conn_sendf(c, ":%s %s %s %s%s:%s\r\n", CHATD_SERVER_NAME, num,
                   c->has_nick ? c->nick : "*", args ? args : "", args ? " " : "", text);
    else if (args)
        conn_notice(c, "%s: %s", args, text);
    else
        conn_notice(c, "%s", text);
}

void conn_notice(struct conn *c, const char *fmt, ...)
{
    char text[IBX_IRC_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (c->dialect == D_IRC) {
        size_t room = IBX_IRC_TEXT_MAX - strlen(CHATD_SERVER_NAME) - strlen(c->nick) - 12;
        conn_sendf(c, ":%s NOTICE %s :%.*s\r\n", CHATD_SERVER_NAME,
                   c->has_nick ? c->nick : "*", (int)utf8_cut(text, room), text);
    } else {
        char clean[IBX_IRC_LINE_MAX];
        text_clean(clean, sizeof clean, text);
        conn_sendf(c, "*** %s\n", clean);
    }
}

void chat_names(struct conn *c, struct room *r)
{
    ibx_buf names = {0};
    room_names(r, &names, c->dialect == D_IRC);
    ibx_buf_append(&names, "", 1);
    bool was = c->bulk;
    c->bulk = true;
    /* lines short enough for the line limit, split between names */
    const char *p = names.data ? names.data : "";
    size_t room = c->dialect == D_IRC
                      ? IBX_IRC_TEXT_MAX - 40 - strlen(c->nick) - strlen(r->name)
                      : IBX_IRC_TEXT_MAX - 20 - strlen(r->name);
    while (*p) {
        size_t n = strlen(p);
        if (n > room) {
            n = room;
            while (n && p[n] != ' ')
                n--;
            if (!n)
                n = utf8_cut(p, room);
        }
        if (c->dialect == D_IRC)
            conn_sendf(c, ":%s 353 %s = %s :%.*s\r\n", CHATD_SERVER_NAME, c->nick, r->name,
                       (int)n, p);
        else
            conn_notice(c, "in %s: %.*s", r->name, (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
    c->bulk = was;
    ibx_buf_free(&names);
}

/* The topic and the member list of r, for c who just joined. */
static void tell_room(struct conn *c, struct room *r)
{
    if (r->topic) {
        if (c->dialect == D_IRC) {
            conn_sendf(c, ":%s 332 %s %s :%s\r\n", CHATD_SERVER_NAME, c->nick, r->name, r->topic);
            conn_sendf(c, ":%s 333 %s %s %s %lld\r\n", CHATD_SERVER_NAME, c->nick, r->name,
                       r->topic_by, (long long)r->topic_at);
        } else {
            conn_notice(c, "topic of %s: %s (set by %s)", r->name, r->topic, r->topic_by);
        }
    }
    chat_names(c, r);
    if (c->dialect == D_IRC)
        conn_sendf(c, ":%s 366 %s %s :End of /NAMES list.\r\n", CHATD_SERVER_NAME, c->nick,
                   r->name);
}

void chat_join(struct conn *c, const char *name)
{
    int err;
    struct room *r = room_join(c->srv, c, name, &err);
    if (err == -EALREADY) {
        if (c->dialect == D_PLAIN) {
            c->cur = r;
            conn_notice(c, "now talking in %s", r->name);
        }
        return;
    }
    if (!r) {
        if (err == -EMLINK)
            chat_err(c, "405", name, "You have joined too many channels");
        else if (err == -ENOSPC)
            chat_err(c, "405", name, "Too many rooms on this server");
        else if (err == -EINVAL)
            chat_err(c, "479", name, "Illegal channel name");
        else
            chat_err(c, "403", name, "Cannot join channel (out of memory)");
        return;
    }
    struct chat_event ev = {.kind = EV_JOIN, .from = c, .target = r->name};
    room_send(r, &ev, NULL);
    event_done(&ev);
    node_join(c, r);
    if (c->dialect == D_PLAIN)
        c->cur = r;
    tell_room(c, r);
    room_replay(c->srv, r, c);
}

void chat_say(struct conn *c, const char *target, const char *text, enum ev_kind kind)
{
    struct chat_event ev = {.kind = kind, .from = c, .target = target, .text = text};
    /* a NOTICE never gets an error reply (RFC 1459 4.4.2) */
    bool quiet = kind == EV_NOTICE;
    if (target[0] == '#') {
        struct room *r = room_find(c->srv, target);
        if (!r) {
            if (!quiet)
                chat_err(c, "403", target, "No such channel");
            return;
        }
        struct member *m = room_member(r, c);
        if ((!m && r->mode_n) || (r->mode_m && (!m || (!m->op && !m->voice)))) {
            if (!quiet)
                chat_err(c, "404", r->name, "Cannot send to channel");
            return;
        }
        ev.target = r->name;
        room_send(r, &ev, c);
        node_pub(r, &ev);
        if (kind != EV_NOTICE)
            room_remember(c->srv, r, c->nick, text, kind == EV_ACTION);
    } else {
        struct conn *to = conn_by_nick(c->srv, target);
        if ((!to || !to->registered) && node_pm(c, target, text, kind))
            return;
        if (!to || !to->registered) {
            if (!quiet)
                chat_err(c, "401", target, "No such nick/channel");
            return;
        }
        ev.target = to->nick;
        ev.to_nick = true;
        struct chat_msg *msg = event_msg(&ev, to->dialect);
        if (msg)
            conn_send(to, msg);
        if (to->away && kind == EV_MSG && c->dialect == D_IRC)
            conn_sendf(c, ":%s 301 %s %s :%s\r\n", CHATD_SERVER_NAME, c->nick, to->nick,
                       to->away);
        else if (to->away && kind == EV_MSG)
            conn_notice(c, "%s is away: %s", to->nick, to->away);
    }
    event_done(&ev);
}

int chat_nick(struct conn *c, const char *nick)
{
    if (!ibx_irc_nick_valid(nick, c->srv->cfg->nick_len)) {
        chat_err(c, "432", nick, "Erroneous nickname");
        return 432;
    }
    struct conn *o = conn_by_nick(c->srv, nick);
    int claim = o && o != c ? 433 : node_claim(c, nick);
    if (claim == 433) {
        chat_err(c, "433", nick, "Nickname is already in use");
        return 433;
    }
    if (claim == CHAT_NICK_PENDING)
        return claim;
    return chat_nick_claimed(c, nick, true);
}

int chat_nick_claimed(struct conn *c, const char *nick, bool ok)
{
    if (c->dead)
        return 433;
    if (!ok) {
        chat_err(c, "433", nick, "Nickname is already in use");
        if (!c->registered && c->dialect == D_PLAIN)
            conn_sendf(c, "nickname? ");
        return 433;
    }
    if (c->has_nick && strcmp(c->nick, nick) == 0)
        return 0;
    char old[CHATD_NICK_MAX + 1];
    memcpy(old, c->nick, sizeof old);
    if (conn_set_nick(c, nick) < 0) {
        chat_err(c, "432", nick, "Cannot take this nickname now");
        return 432;
    }
    node_nick(c, old);
    return 0;
}

void chat_topic(struct conn *c, struct room *r, const char *topic)
{
    struct member *m = room_member(r, c);
    if (!m) {
        chat_err(c, "442", r->name, "You're not on that channel");
        return;
    }
    if (r->mode_t && !m->op) {
        chat_err(c, "482", r->name, "You're not channel operator");
        return;
    }
    size_t n = utf8_cut(topic, c->srv->cfg->topic_len);
    char *t = n ? strndup(topic, n) : NULL;
    if (n && !t)
        return;
    free(r->topic);
    r->topic = t;
    snprintf(r->topic_by, sizeof r->topic_by, "%s", c->nick);
    r->topic_at = time(NULL);
    struct chat_event ev = {.kind = EV_TOPIC, .from = c, .target = r->name,
                            .text = t ? t : ""};
    room_send(r, &ev, NULL);
    node_pub(r, &ev);
    event_done(&ev);
}
