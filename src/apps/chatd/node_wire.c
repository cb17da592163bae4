/* What chatd nodes write into Redis, and read back from it: events on the
 * room and node channels, room members (hash values), history lines (list
 * items) and topics. Pure text codecs; everything read is checked like a
 * client's input (nick and room syntax, lengths, no CR, LF or NUL), since
 * whatever is in Redis may have been written by anyone who reaches it.
 *
 *   event   "ibx1 ORIGIN SEQ KIND NICK USER HOST TARGET ARG[ :TEXT]"
 *   member  "ORIGIN NICK USER HOST"
 *   history "TIME A|M NICK :TEXT"           (A: an action)
 *   topic   "TIME SETTER :TEXT"
 *
 * ORIGIN is the node id (16 hex digits), SEQ the node's publication
 * number (decimal), TARGET a room or a nick, ARG a nick or "*". */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

static const char *const kinds[] = {
    [EV_MSG] = "MSG", [EV_ACTION] = "ACTION", [EV_NOTICE] = "NOTICE", [EV_JOIN] = "JOIN",
    [EV_PART] = "PART", [EV_QUIT] = "QUIT", [EV_NICK] = "NICK", [EV_TOPIC] = "TOPIC",
    [EV_MODE] = "MODE", [EV_KICK] = "KICK",
};

/* Is text free of CR, LF and NUL, and at most max bytes? */
static bool text_ok(const char *p, size_t n, size_t max)
{
    if (n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || !p[i])
            return false;
    return true;
}

static bool user_ok(const char *s)
{
    size_t n = strlen(s);
    return n && n < WIRE_USER_MAX && strspn(s, "~abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                               "0123456789._-") == n;
}

static bool host_ok(const char *s)
{
    size_t n = strlen(s);
    return n && n < IBX_ADDRSTRLEN &&
           strspn(s, "0123456789abcdefABCDEF.:abcdefghijklmnopqrstuvwxyz-") == n;
}

static bool nick_ok(const char *s) { return ibx_irc_nick_valid(s, CHATD_NICK_MAX); }

static bool room_ok(const char *s) { return ibx_irc_channel_valid(s, WIRE_ROOM_MAX); }

/* Split the next space-separated word of [*p, end) into dst (cap). */
static bool word(const char **p, const char *end, char *dst, size_t cap)
{
    const char *s = *p;
    const char *e = memchr(s, ' ', (size_t)(end - s));
    if (!e)
        e = end;
    size_t n = (size_t)(e - s);
    if (!n || n >= cap || memchr(s, '\0', n))
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    *p = e < end ? e + 1 : e;
    return true;
}

int wire_id_parse(const char *s, uint64_t *out)
{
    if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
        return -EINVAL;
    *out = strtoull(s, NULL, 16);
    return *out ? 0 : -EINVAL;
}

static bool u64(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    if (!n || n > 19 || strspn(s, "0123456789") != n)
        return false;
    *out = strtoull(s, NULL, 10);
    return true;
}

int wire_event_encode(char *buf, size_t cap, const struct wire_ev *w)
{
    int n = snprintf(buf, cap, "ibx1 %016" PRIx64 " %" PRIu64 " %s %s %s %s %s %s", w->origin,
                     w->seq, kinds[w->kind], w->nick, w->user, w->host,
                     w->target[0] ? w->target : "*", w->arg[0] ? w->arg : "*");
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    if (w->has_text) {
        int k = snprintf(buf + n, cap - (size_t)n, " :%s", w->text);
        if (k < 0 || (size_t)k >= cap - (size_t)n)
            return -ENOSPC;
        n += k;
    }
    return n;
}

int wire_event_decode(const char *p, size_t n, struct wire_ev *w)
{
    const char *end = p + n, *q = p;
    char tag[8], origin[20], seq[24], kind[12];
    memset(w, 0, sizeof *w);
    if (n > WIRE_EVENT_MAX || !word(&q, end, tag, sizeof tag) || strcmp(tag, "ibx1") ||
        !word(&q, end, origin, sizeof origin) || wire_id_parse(origin, &w->origin) < 0 ||
        !word(&q, end, seq, sizeof seq) || !u64(seq, &w->seq) ||
        !word(&q, end, kind, sizeof kind))
        return -EPROTO;
    size_t k = 0;
    while (k < sizeof kinds / sizeof *kinds && strcmp(kinds[k], kind))
        k++;
    if (k == sizeof kinds / sizeof *kinds)
        return -EPROTO;
    w->kind = (enum ev_kind)k;
    if (!word(&q, end, w->nick, sizeof w->nick) || !nick_ok(w->nick) ||
        !word(&q, end, w->user, sizeof w->user) || !user_ok(w->user) ||
        !word(&q, end, w->host, sizeof w->host) || !host_ok(w->host) ||
        !word(&q, end, w->target, sizeof w->target) || !word(&q, end, w->arg, sizeof w->arg))
        return -EPROTO;
    if (!strcmp(w->target, "*"))
        w->target[0] = '\0';
    else if (!room_ok(w->target) && !nick_ok(w->target))
        return -EPROTO;
    if (!strcmp(w->arg, "*"))
        w->arg[0] = '\0';
    else if (!nick_ok(w->arg))
        return -EPROTO;
    if (q < end) {
        if (q[0] != ':' || !text_ok(q + 1, (size_t)(end - q - 1), IBX_IRC_TEXT_MAX))
            return -EPROTO;
        memcpy(w->text, q + 1, (size_t)(end - q - 1));
        w->text[end - q - 1] = '\0';
        w->has_text = true;
    } else if (q > p && q[-1] == ' ') {
        return -EPROTO;   /* a trailing space */
    }
    /* what each kind needs */
    bool room = w->target[0] == '#';
    switch (w->kind) {
    case EV_MSG:
    case EV_ACTION:
    case EV_NOTICE:
        return w->target[0] && w->has_text ? 0 : -EPROTO;
    case EV_JOIN:
    case EV_PART:
    case EV_TOPIC:
    case EV_MODE:
        return room && (w->kind != EV_MODE || w->has_text) ? 0 : -EPROTO;
    case EV_KICK:
        return room && w->arg[0] ? 0 : -EPROTO;
    case EV_NICK:
        return w->arg[0] ? 0 : -EPROTO;
    case EV_QUIT:
        return 0;
    }
    return -EPROTO;
}

int wire_member_encode(char *buf, size_t cap, uint64_t origin, const char *nick,
                       const char *user, const char *host)
{
    int n = snprintf(buf, cap, "%016" PRIx64 " %s %s %s", origin, nick, user, host);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int wire_member_decode(const char *p, size_t n, struct wire_member *m)
{
    const char *end = p + n, *q = p;
    char origin[20];
    memset(m, 0, sizeof *m);
    if (n > 200 || !word(&q, end, origin, sizeof origin) ||
        wire_id_parse(origin, &m->origin) < 0 || !word(&q, end, m->nick, sizeof m->nick) ||
        !nick_ok(m->nick) || !word(&q, end, m->user, sizeof m->user) || !user_ok(m->user) ||
        !word(&q, end, m->host, sizeof m->host) || !host_ok(m->host) || q != end ||
        q[-1] == ' ')
        return -EPROTO;
    return 0;
}

int wire_line_encode(char *buf, size_t cap, int64_t t, char flag, const char *who,
                     const char *text)
{
    int n = flag ? snprintf(buf, cap, "%" PRId64 " %c %s :%s", t, flag, who, text)
                 : snprintf(buf, cap, "%" PRId64 " %s :%s", t, who, text);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int wire_line_decode(const char *p, size_t n, bool flagged, struct wire_line *l)
{
    const char *end = p + n, *q = p;
    char ts[24], flag[4];
    uint64_t t;
    memset(l, 0, sizeof *l);
    if (n > WIRE_EVENT_MAX || !word(&q, end, ts, sizeof ts) || !u64(ts, &t) ||
        t > (uint64_t)1 << 40)
        return -EPROTO;
    l->t = (int64_t)t;
    if (flagged) {
        if (!word(&q, end, flag, sizeof flag) || (strcmp(flag, "A") && strcmp(flag, "M")))
            return -EPROTO;
        l->action = flag[0] == 'A';
    }
    if (!word(&q, end, l->who, sizeof l->who) || !nick_ok(l->who) || q >= end ||
        q[0] != ':' || !text_ok(q + 1, (size_t)(end - q - 1), IBX_IRC_TEXT_MAX))
        return -EPROTO;
    memcpy(l->text, q + 1, (size_t)(end - q - 1));
    l->text[end - q - 1] = '\0';
    return 0;
}
