/* chatd's shared messages: one formatted line per dialect per event,
 * held by reference in every recipient's output queue; and the text
 * neutralising that keeps other people's bytes from driving a terminal. */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatd.h"
#include "../termtext.h"

struct chat_msg *msg_new(size_t len)
{
    struct chat_msg *m = malloc(sizeof *m + len + 1);
    if (!m)
        return NULL;
    m->refs = 1;
    m->len = len;
    m->data[len] = '\0';
    return m;
}

static struct chat_msg *msg_vprintf(const char *fmt, va_list ap)
{
    char tmp[1024];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return NULL;
    }
    struct chat_msg *m = msg_new((size_t)n);
    if (m) {
        if ((size_t)n < sizeof tmp)
            memcpy(m->data, tmp, (size_t)n + 1);
        else
            vsnprintf(m->data, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    return m;
}

struct chat_msg *msg_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct chat_msg *m = msg_vprintf(fmt, ap);
    va_end(ap);
    return m;
}

void msg_unref(struct chat_msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

void text_clean(char *dst, size_t cap, const char *s)
{
    if (!cap)
        return;
    /* first drop IRC formatting (and CTCP marks), then mask what is left
     * by the rules the chat client uses (termtext.h): C0, DEL, C1, line
     * separators, bidi overrides and isolates, invalid UTF-8 */
    char plain[1200];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 1 < sizeof plain; p++) {
        unsigned char c = *p;
        if (c == 0x01 || c == 0x02 || c == 0x0f || c == 0x11 || c == 0x16 || c == 0x1d ||
            c == 0x1e || c == 0x1f)
            continue;                      /* IRC formatting, CTCP marks */
        if (c == 0x03 || c == 0x04) {      /* colour: ^C[nn[,nn]], ^D[hex6[,hex6]] */
            bool hex = c == 0x04;
            int want = hex ? 6 : 2;
#define DIGIT(x) (hex ? isxdigit(x) : isdigit(x))
            for (int k = 0; k < want && p[1] && DIGIT(p[1]); k++)
                p++;
            if (p[1] == ',' && p[2] && DIGIT(p[2])) {
                p++;
                for (int k = 0; k < want && p[1] && DIGIT(p[1]); k++)
                    p++;
            }
#undef DIGIT
            continue;
        }
        plain[o++] = (char)c;
    }
    plain[o] = '\0';
    termtext_fit(dst, cap, plain, INT_MAX / 8, TERMTEXT_KEEP_HEAD);
}

/* ":nick!user@host" of the event's sender. */
static void prefix(const struct chat_event *ev, char *buf, size_t cap)
{
    const struct conn *c = ev->from;
    if (!c) {
        snprintf(buf, cap, ":%s", CHATD_SERVER_NAME);
        return;
    }
    snprintf(buf, cap, ":%s!%s@%s", ev->nick ? ev->nick : c->nick, c->user, c->host);
}

static struct chat_msg *format_irc_(const struct chat_event *ev)
{
    char p[128];
    prefix(ev, p, sizeof p);
    const char *t = ev->target, *x = ev->text ? ev->text : "";
    char head[IBX_IRC_LINE_MAX];
    int n;
    switch (ev->kind) {
    case EV_MSG: n = snprintf(head, sizeof head, "%s PRIVMSG %s :", p, t); break;
    case EV_ACTION: n = snprintf(head, sizeof head, "%s PRIVMSG %s :\001ACTION ", p, t); break;
    case EV_NOTICE: n = snprintf(head, sizeof head, "%s NOTICE %s :", p, t); break;
    case EV_JOIN: return msg_printf("%s JOIN %s\r\n", p, t);
    case EV_PART:
        if (!ev->text)
            return msg_printf("%s PART %s\r\n", p, t);
        n = snprintf(head, sizeof head, "%s PART %s :", p, t);
        break;
    case EV_QUIT: n = snprintf(head, sizeof head, "%s QUIT :", p); break;
    case EV_NICK: return msg_printf("%s NICK :%s\r\n", p, ev->arg);
    case EV_TOPIC: n = snprintf(head, sizeof head, "%s TOPIC %s :", p, t); break;
    case EV_MODE: {   /* a remote node's mode string is bounded here too */
        size_t used = strlen(p) + strlen(t) + 8;
        size_t ml = used < IBX_IRC_TEXT_MAX ? utf8_cut(x, IBX_IRC_TEXT_MAX - used) : 0;
        return msg_printf("%s MODE %s %.*s\r\n", p, t, (int)ml, x);
    }
    case EV_KICK: n = snprintf(head, sizeof head, "%s KICK %s %s :", p, t, ev->arg); break;
    default: return NULL;
    }
    if (n < 0 || n >= IBX_IRC_TEXT_MAX - 1)
        return NULL;
    size_t room = IBX_IRC_TEXT_MAX - (size_t)n - (ev->kind == EV_ACTION ? 1 : 0);
    size_t tl = utf8_cut(x, room);
    return msg_printf("%s%.*s%s\r\n", head, (int)tl, x, ev->kind == EV_ACTION ? "\001" : "");
}

/* The IRC line of ev: no CR, LF or NUL inside, whoever wrote the text. */
static struct chat_msg *format_irc(const struct chat_event *ev)
{
    struct chat_msg *m = format_irc_(ev);
    if (m)
        for (size_t i = 0; i + 2 < m->len; i++)
            if (m->data[i] == '\r' || m->data[i] == '\n' || !m->data[i])
                m->data[i] = '?';
    return m;
}

static struct chat_msg *format_plain(const struct chat_event *ev)
{
    const char *nick = ev->nick ? ev->nick : ev->from ? ev->from->nick : CHATD_SERVER_NAME;
    const char *t = ev->target, *x = ev->text ? ev->text : "";
    char where[IBX_IRC_LINE_MAX];   /* "[#room]": a room name is up to 200 bytes */
    if (ev->to_nick)
        snprintf(where, sizeof where, "[pm]");
    else
        snprintf(where, sizeof where, "[%s]", t);
    char raw[1200];
    switch (ev->kind) {
    case EV_MSG: snprintf(raw, sizeof raw, "%s %s: %s", where, nick, x); break;
    case EV_ACTION: snprintf(raw, sizeof raw, "%s * %s %s", where, nick, x); break;
    case EV_NOTICE: snprintf(raw, sizeof raw, "%s -%s- %s", where, nick, x); break;
    case EV_JOIN: snprintf(raw, sizeof raw, "*** %s joined %s", nick, t); break;
    case EV_PART:
        snprintf(raw, sizeof raw, ev->text ? "*** %s left %s (%s)" : "*** %s left %s%s",
                 nick, t, x);
        break;
    case EV_QUIT: snprintf(raw, sizeof raw, "*** %s quit (%s)", nick, x); break;
    case EV_NICK: snprintf(raw, sizeof raw, "*** %s is now known as %s", nick, ev->arg); break;
    case EV_TOPIC: snprintf(raw, sizeof raw, "*** %s set the topic of %s: %s", nick, t, x); break;
    case EV_MODE: snprintf(raw, sizeof raw, "*** %s set mode %s %s", nick, t, x); break;
    case EV_KICK:
        snprintf(raw, sizeof raw, "*** %s kicked %s from %s (%s)", nick, ev->arg, t, x);
        break;
    default: return NULL;
    }
    char clean[1200];
    text_clean(clean, sizeof clean, raw);
    return msg_printf("%s\n", clean);
}

struct chat_msg *event_msg(struct chat_event *ev, enum dialect d)
{
    if (!ev->m[d])
        ev->m[d] = d == D_IRC ? format_irc(ev) : format_plain(ev);
    return ev->m[d];
}

void event_done(struct chat_event *ev)
{
    for (int i = 0; i < 3; i++) {
        msg_unref(ev->m[i]);
        ev->m[i] = NULL;
    }
}
