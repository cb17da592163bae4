/* A typed line as IRC: text is a message to the current room, a leading
 * '/' names a command. Pure: the session sends what this writes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "chat.h"

const char chat_help_text[] =
    "commands:\n"
    "  /join #ROOM         join ROOM and make it the current room\n"
    "  /part [#ROOM] [WHY] leave ROOM (default: the current room)\n"
    "  /msg NICK TEXT      a private message\n"
    "  /me TEXT            an action in the current room\n"
    "  /nick NAME          change your nick\n"
    "  /who [#ROOM]        who is in ROOM\n"
    "  /list               the rooms of the server\n"
    "  /topic [TEXT]       show or set the topic of the current room\n"
    "  /quote LINE         send LINE to the server as it is\n"
    "  /quit [WHY]         leave the server\n"
    "  /help               this text\n"
    "  //TEXT              send /TEXT as a message";

/* Bytes of one message text per IRC line: the 512 with room for
 * ":nick!user@host PRIVMSG #room :" as the server relays it. */
#define TEXT_MAX 400

static void local(struct chat_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void local(struct chat_cmd *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(c->out, sizeof c->out, fmt, ap);
    va_end(ap);
    c->kind = CHAT_CMD_LOCAL;
    c->len = n < 0 ? 0 : (size_t)n < sizeof c->out ? (size_t)n : sizeof c->out - 1;
}

/* Append one IRC line (CR LF added). Returns where it starts, or NULL. */
static char *line(struct chat_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *line(struct chat_cmd *c, const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof c->out - c->len;
    va_start(ap, fmt);
    int n = vsnprintf(c->out + c->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 3 > room || n + 2 > CHAT_LINE_MAX)
        return NULL;
    char *start = c->out + c->len;
    memcpy(start + n, "\r\n", 3);
    c->len += (size_t)n + 2;
    return start;
}

/* A name argument: one word, no separators or controls. */
static bool good_name(const char *s, size_t n)
{
    if (!n || n >= CHAT_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == ',' || s[i] == ':' || s[i] == 0x7f)
            return false;
    return true;
}

/* The next word of *p (moved past it and its spaces): start and length. */
static size_t word(const char **p, const char **w)
{
    while (**p == ' ')
        (*p)++;
    *w = *p;
    size_t n = strcspn(*p, " ");
    *p += n;
    while (**p == ' ')
        (*p)++;
    return n;
}

/* Where a message of text may be cut at most max bytes in: not inside a
 * UTF-8 character, at a space when one is in the last quarter. */
static size_t cut_at(const char *t, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
        n--;
    for (size_t k = n; k > max * 3 / 4; k--)
        if (t[k] == ' ')
            return k + 1;
    return n ? n : max;
}

/* PRIVMSG target text (split), echoed. */
static void say(struct chat_cmd *c, const char *target, size_t tlen, const char *t,
                bool action)
{
    if (!good_name(target, tlen)) {
        local(c, "*** no room: /join #ROOM first, or /msg NICK TEXT");
        return;
    }
    size_t len = strlen(t);
    if (!len) {
        c->kind = CHAT_CMD_NONE;
        return;
    }
    snprintf(c->target, sizeof c->target, "%.*s", (int)tlen, target);
    c->kind = CHAT_CMD_SAY;
    c->action = action;
    while (len && c->ntexts < 4) {
        size_t n = cut_at(t, len, TEXT_MAX);
        char *l = action ? line(c, "PRIVMSG %s :\001ACTION %.*s\001", c->target, (int)n, t)
                         : line(c, "PRIVMSG %s :%.*s", c->target, (int)n, t);
        if (!l)
            break;
        const char *body = strchr(l, ':') + 1 + (action ? 8 : 0);
        c->texts[c->ntexts] = body;
        c->text_lens[c->ntexts++] = n;
        t += n;
        len -= n;
    }
}

void chat_command(const char *in, const char *room, struct chat_cmd *c)
{
    memset(c, 0, sizeof *c);
    /* a line is one line: nothing that would end it early goes out */
    char buf[4 * TEXT_MAX + 64];
    size_t n = 0;
    for (const char *p = in; *p && n + 1 < sizeof buf; p++)
        buf[n++] = (*p == '\r' || *p == '\n') ? ' ' : *p;
    buf[n] = '\0';
    const char *p = buf;
    if (!*p) {
        c->kind = CHAT_CMD_NONE;
        return;
    }
    if (p[0] != '/' || p[1] == '/') {
        say(c, room, strlen(room), p + (p[0] == '/'), false);
        return;
    }
    const char *cmd, *w;
    size_t cl = word(&p, &cmd), wl;
    cmd++, cl--;
#define IS(s) (cl == strlen(s) && !strncasecmp(cmd, s, cl))
    c->kind = CHAT_CMD_SEND;
    if (IS("help")) {
        local(c, "%s", chat_help_text);
    } else if (IS("me")) {
        say(c, room, strlen(room), p, true);
    } else if (IS("msg") || IS("query")) {
        wl = word(&p, &w);
        if (!wl || !*p)
            local(c, "*** usage: /msg NICK TEXT");
        else
            say(c, w, wl, p, false);
    } else if (IS("nick")) {
        wl = word(&p, &w);
        if (!good_name(w, wl) || *p)
            local(c, "*** usage: /nick NAME");
        else
            line(c, "NICK %.*s", (int)wl, w);
    } else if (IS("join") || IS("j")) {
        wl = word(&p, &w);
        if (!good_name(w, wl) || !chat_irc_is_room(w))
            local(c, "*** usage: /join #ROOM [KEY]");
        else if (*p)
            line(c, "JOIN %.*s %s", (int)wl, w, p);
        else
            line(c, "JOIN %.*s", (int)wl, w);
    } else if (IS("part") || IS("leave")) {
        const char *save = p;
        wl = word(&p, &w);
        if (!wl || !chat_irc_is_room(w)) {   /* the current room */
            p = save;
            w = room, wl = strlen(room);
        }
        if (!good_name(w, wl))
            local(c, "*** usage: /part [#ROOM] [REASON]");
        else if (*p)
            line(c, "PART %.*s :%s", (int)wl, w, p);
        else
            line(c, "PART %.*s", (int)wl, w);
    } else if (IS("who") || IS("names")) {
        wl = word(&p, &w);
        if (!wl)
            w = room, wl = strlen(room);
        if (!good_name(w, wl))
            local(c, "*** usage: /who #ROOM");
        else
            line(c, "WHO %.*s", (int)wl, w);
    } else if (IS("list")) {
        if (*p)
            line(c, "LIST %s", p);
        else
            line(c, "LIST");
    } else if (IS("topic")) {
        if (!good_name(room, strlen(room)))
            local(c, "*** no current room: /join #ROOM first");
        else if (*p)
            line(c, "TOPIC %s :%s", room, p);
        else
            line(c, "TOPIC %s", room);
    } else if (IS("quote") || IS("raw")) {
        if (!*p)
            local(c, "*** usage: /quote IRC-LINE");
        else
            line(c, "%s", p);
    } else if (IS("quit") || IS("exit")) {
        c->kind = CHAT_CMD_QUIT;
        line(c, "QUIT :%.300s", *p ? p : "bye");
    } else {
        local(c, "*** unknown command /%.*s (try /help)", (int)cl, cmd);
    }
    if (c->kind == CHAT_CMD_SEND && !c->len)
        local(c, "*** line too long");
#undef IS
}
