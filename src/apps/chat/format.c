/* An IRC message as the one line a user sees. Everything a peer or the
 * server wrote goes through chat_safe before it is shown. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

/* Output being built: never past size - 1, always NUL-terminated. */
struct out {
    char *p;
    size_t size, len;
    bool color;
};

static void raw(struct out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->len + n + 1 > o->size)
        n = o->size - o->len - 1;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

/* A peer's text, neutralised. */
static void text(struct out *o, const char *s)
{
    char buf[CHAT_SHOW_MAX];
    chat_safe(buf, sizeof buf, s ? s : "");
    raw(o, buf);
}

/* A nick, neutralised and coloured. */
static void nick(struct out *o, const char *s)
{
    char sgr[16];
    if (o->color) {
        snprintf(sgr, sizeof sgr, "\033[%sm", chat_nick_color(s));
        raw(o, sgr);
    }
    text(o, s);
    if (o->color)
        raw(o, "\033[39m");
}

const char *chat_nick_color(const char *s)
{
    static const char *const colors[] = {"31", "32", "33", "34", "35", "36",
                                         "91", "92", "93", "94", "95", "96"};
    unsigned h = 5381;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 'A' && c <= '^')
            c += 32;
        h = h * 33 + c;
    }
    return colors[h % (sizeof colors / sizeof colors[0])];
}

/* "\001ACTION text\001": the text of an action, or NULL. */
static const char *action_of(const char *t, char *buf, size_t size)
{
    if (strncmp(t, "\001ACTION", 7) || (t[7] != ' ' && t[7] != '\001' && t[7]))
        return NULL;
    t += 7;
    if (*t == ' ')
        t++;
    size_t n = strcspn(t, "\001");
    if (n >= size)
        n = size - 1;
    memcpy(buf, t, n);
    buf[n] = '\0';
    return buf;
}

/* "[target] " for a room, "[nick] " for a private message. */
static void where(struct out *o, const char *w, bool is_nick)
{
    raw(o, "[");
    if (is_nick)
        nick(o, w);
    else
        text(o, w);
    raw(o, "] ");
}

/* The body of a message from `from` (action or not). */
static void body(struct out *o, const char *from, const char *t, bool action)
{
    if (action) {
        raw(o, "* ");
        nick(o, from);
        raw(o, " ");
    } else {
        nick(o, from);
        raw(o, ": ");
    }
    text(o, t);
}

size_t chat_format_own(const struct chat_view *v, const char *target,
                       const char *t, bool action, char *buf, size_t size)
{
    struct out o = {buf, size, 0, v->color};
    if (!size)
        return 0;
    buf[0] = '\0';
    where(&o, target, !chat_irc_is_room(target));
    body(&o, v->me, t, action);
    return o.len;
}

/* PRIVMSG and NOTICE. */
static void message(const struct chat_view *v, const struct ibx_irc_msg *m,
                    const char *from, bool notice, struct out *o)
{
    const char *target = m->params[0], *t = m->params[1];
    char act[CHAT_SHOW_MAX];
    bool user = m->prefix && strchr(m->prefix, '!');
    if (notice && (!user || !chat_irc_is_room(target))) {
        raw(o, "*** ");
        if (user) {
            raw(o, "-");
            nick(o, from);
            raw(o, "- ");
        }
        text(o, t);
        return;
    }
    if (notice) {
        where(o, target, false);
        raw(o, "-");
        nick(o, from);
        raw(o, "- ");
        text(o, t);
        return;
    }
    const char *a = action_of(t, act, sizeof act);
    if (!a && t[0] == '\001') {                 /* other CTCP: named, not answered */
        raw(o, "*** CTCP ");
        char q[64];
        snprintf(q, sizeof q, "%.*s", (int)strcspn(t + 1, " \001"), t + 1);
        text(o, q);
        raw(o, " from ");
        nick(o, from);
        return;
    }
    bool to_room = chat_irc_is_room(target);
    where(o, to_room ? target : from, !to_room);
    body(o, from, a ? a : t, a != NULL);
}

/* Parameters from i on, joined by spaces; before the last one ": " when
 * colon is set and at least two remain. */
static void params_from(const struct ibx_irc_msg *m, size_t i, bool colon, struct out *o)
{
    for (size_t k = i; k < m->nparams; k++) {
        if (k > i)
            raw(o, colon && k + 1 == m->nparams ? ": " : " ");
        text(o, m->params[k]);
    }
}

/* A numeric reply. */
static void numeric(const struct chat_view *v, const struct ibx_irc_msg *m, int num,
                    struct out *o)
{
    const char *p1 = m->nparams > 1 ? m->params[1] : "";
    switch (num) {
    case 4: case 5:                       /* server version, ISUPPORT */
    case 315: case 318: case 321: case 323: case 333: case 366: case 369:
        return;                           /* ends of lists, topic setter */
    case 332:                             /* RPL_TOPIC */
        raw(o, "*** topic of ");
        text(o, p1);
        raw(o, ": ");
        text(o, m->nparams > 2 ? m->params[2] : "");
        return;
    case 331:                             /* RPL_NOTOPIC */
        raw(o, "*** ");
        text(o, p1);
        raw(o, " has no topic");
        return;
    case 353:                             /* RPL_NAMREPLY: me = #room :names */
        raw(o, "*** members of ");
        text(o, m->nparams > 2 ? m->params[2] : "");
        raw(o, ": ");
        text(o, m->nparams > 3 ? m->params[3] : "");
        return;
    case 352:                             /* RPL_WHOREPLY: me #room user host
                                           * server nick flags :hops real */
        if (m->nparams < 8)
            break;
        raw(o, "*** ");
        text(o, p1);
        raw(o, " ");
        nick(o, m->params[5]);
        raw(o, " (");
        text(o, m->params[2]);
        raw(o, "@");
        text(o, m->params[3]);
        raw(o, ") ");
        const char *real = strchr(m->params[7], ' ');
        text(o, real ? real + 1 : "");
        return;
    case 322:                             /* RPL_LIST: me #room count :topic */
        raw(o, "*** ");
        text(o, p1);
        raw(o, " (");
        text(o, m->nparams > 2 ? m->params[2] : "0");
        raw(o, "): ");
        text(o, m->nparams > 3 ? m->params[3] : "");
        return;
    default:
        break;
    }
    if (num >= 400 && num < 600 && num != 422) {   /* 422: no MOTD, not an error */
        raw(o, "*** error: ");
        params_from(m, 1, true, o);
        return;
    }
    if (v->quiet)
        return;
    raw(o, "*** ");
    params_from(m, 1, false, o);
}

size_t chat_format(const struct chat_view *v, const struct ibx_irc_msg *m,
                   char *buf, size_t size)
{
    struct out o = {buf, size, 0, v->color};
    if (!size)
        return 0;
    buf[0] = '\0';
    const char *c = m->command;
    char from[CHAT_NAME_MAX];
    chat_irc_nick(m->prefix, from, sizeof from);
    const char *p0 = m->nparams > 0 ? m->params[0] : "";
    const char *p1 = m->nparams > 1 ? m->params[1] : NULL;
    bool me = chat_irc_same(from, v->me);

    if (strlen(c) == 3 && c[0] >= '0' && c[0] <= '9' && c[1] >= '0' && c[1] <= '9' &&
        c[2] >= '0' && c[2] <= '9') {
        numeric(v, m, atoi(c), &o);
    } else if (!strcmp(c, "PRIVMSG") || !strcmp(c, "NOTICE")) {
        if (m->nparams < 2)
            return 0;
        if (!strcmp(c, "NOTICE") && v->quiet && !strchr(m->prefix ? m->prefix : "", '!'))
            return 0;
        message(v, m, from, c[0] == 'N', &o);
    } else if (!strcmp(c, "JOIN")) {
        raw(&o, "*** ");
        nick(&o, from);
        raw(&o, " joined ");
        text(&o, p0);
    } else if (!strcmp(c, "PART") || !strcmp(c, "QUIT")) {
        raw(&o, "*** ");
        nick(&o, from);
        if (c[0] == 'P') {
            raw(&o, " left ");
            text(&o, p0);
        } else {
            raw(&o, " quit");
            p1 = m->nparams > 0 ? p0 : NULL;
        }
        if (p1 && *p1) {
            raw(&o, " (");
            text(&o, p1);
            raw(&o, ")");
        }
    } else if (!strcmp(c, "NICK")) {
        raw(&o, "*** ");
        if (me) {
            raw(&o, "you are now known as ");
        } else {
            nick(&o, from);
            raw(&o, " is now known as ");
        }
        nick(&o, p0);
    } else if (!strcmp(c, "KICK")) {
        raw(&o, "*** ");
        nick(&o, p1 ? p1 : "");
        raw(&o, " was kicked from ");
        text(&o, p0);
        raw(&o, " by ");
        nick(&o, from);
        if (m->nparams > 2) {
            raw(&o, " (");
            text(&o, m->params[2]);
            raw(&o, ")");
        }
    } else if (!strcmp(c, "TOPIC")) {
        raw(&o, "*** ");
        nick(&o, from);
        raw(&o, " set the topic of ");
        text(&o, p0);
        raw(&o, ": ");
        text(&o, p1 ? p1 : "");
    } else if (!strcmp(c, "MODE")) {
        if (v->quiet)
            return 0;
        raw(&o, "*** ");
        nick(&o, from);
        raw(&o, " sets mode ");
        params_from(m, 1, false, &o);
        raw(&o, " on ");
        text(&o, p0);
    } else if (!strcmp(c, "ERROR")) {
        raw(&o, "*** error: ");
        text(&o, p0);
    } else if (!strcmp(c, "PING") || !strcmp(c, "PONG") || !strcmp(c, "CAP")) {
        return 0;
    } else if (!v->quiet) {
        raw(&o, "*** ");
        text(&o, c);
        raw(&o, " ");
        params_from(&(*m), 0, false, &o);
    }
    return o.len;
}
