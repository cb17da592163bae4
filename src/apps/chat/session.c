/* The client's side of IRC: registration (PASS, NICK, USER; another nick
 * when ours is taken), PING answered, our nick and current room followed
 * from what the server confirms, typed lines sent, everything shown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"

/* Times a taken nick is retried with '_' appended before registration. */
#define NICK_TRIES 4

static void show(struct chat_session *s, const char *line)
{
    s->show(s->show_ctx, line);
}

static void set_name(char *dst, const char *src)
{
    snprintf(dst, CHAT_NAME_MAX, "%s", src ? src : "");
}

/* A room name as the client itself would send one (main.c's check):
 * short, no space, comma, control byte or DEL. */
static bool room_name_ok(const char *name)
{
    if (!chat_irc_is_room(name) || strlen(name) >= CHAT_NAME_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= ' ' || *p == ',' || *p == 0x7f)
            return false;
    return true;
}

void chat_session_start(struct chat_session *s, const char *nick,
                        const char *password, const char *room)
{
    set_name(s->nick, nick);
    s->room[0] = '\0';
    s->want_room = room && *room ? room : NULL;
    s->view.me = s->nick;
    if (password && *password)
        chat_conn_printf(&s->conn, "PASS :%s", password);
    chat_conn_printf(&s->conn, "NICK %s", s->nick);
    chat_conn_printf(&s->conn, "USER %s 0 * :ipcbox chat", s->nick);
}

void chat_session_quit(struct chat_session *s, const char *reason)
{
    if (s->quitting)
        return;
    s->quitting = true;
    chat_conn_printf(&s->conn, "QUIT :%s", reason);
}

/* State that follows from message m (before it is shown). */
static void track(struct chat_session *s, const struct ibx_irc_msg *m)
{
    const char *c = m->command;
    char from[CHAT_NAME_MAX];
    chat_irc_nick(m->prefix, from, sizeof from);
    bool me = m->prefix && chat_irc_same(from, s->nick);
    const char *p0 = m->nparams > 0 ? m->params[0] : "";
    int num = (strlen(c) == 3 && c[0] >= '0' && c[0] <= '9') ? atoi(c) : 0;

    if (!strcmp(c, "PING")) {
        chat_conn_printf(&s->conn, "PONG :%s", p0);
    } else if (num == 1) {                       /* RPL_WELCOME */
        s->registered = true;
        if (*p0)
            set_name(s->nick, p0);
        if (s->want_room)
            chat_conn_printf(&s->conn, "JOIN %s", s->want_room);
        else
            s->ready = true;
    } else if ((num == 432 || num == 433 || num == 436 || num == 437) && !s->registered) {
        if (++s->nick_tries > NICK_TRIES || strlen(s->nick) + 2 > CHAT_NAME_MAX) {
            chat_session_quit(s, "no nick");
            return;
        }
        if (num == 432)                          /* erroneous: a safe one */
            set_name(s->nick, "guest");
        else
            strcat(s->nick, "_");
        chat_conn_printf(&s->conn, "NICK %s", s->nick);
    } else if (!strcmp(c, "NICK") && me) {
        set_name(s->nick, p0);
    } else if (!strcmp(c, "JOIN") && me) {
        if (!room_name_ok(p0))
            return;   /* no room name a server may send: not followed */
        set_name(s->room, p0);
        s->ready = true;
    } else if ((!strcmp(c, "PART") && me) ||
               (!strcmp(c, "KICK") && m->nparams > 1 && chat_irc_same(m->params[1], s->nick))) {
        if (chat_irc_same(p0, s->room))
            s->room[0] = '\0';
    } else if (s->registered && !s->ready && num >= 400 && num < 600 && m->nparams > 1 &&
               s->want_room && chat_irc_same(m->params[1], s->want_room)) {
        s->ready = true;                         /* the first room refused (403, 405,
                                                  * 471-477, 479 ...): go on */
    }
}

void chat_session_line(struct chat_session *s, char *line)
{
    struct ibx_irc_msg m;
    if (chat_irc_read(line, &m) < 0)
        return;
    /* formatted before the state moves: "you are now known as" needs the
     * old nick */
    char out[CHAT_SHOW_MAX];
    size_t n = chat_format(&s->view, &m, out, sizeof out);
    if (s->quitting && !strcmp(m.command, "ERROR"))
        n = 0;                                   /* the server's goodbye */
    track(s, &m);
    if (n)
        show(s, out);
}

/* Show text that may hold several lines. */
static void show_lines(struct chat_session *s, const char *text, size_t len)
{
    char line[CHAT_SHOW_MAX];
    while (len) {
        size_t n = 0;
        while (n < len && text[n] != '\n')
            n++;
        snprintf(line, sizeof line, "%.*s", (int)n, text);
        show(s, line);
        if (n < len)
            n++;
        text += n;
        len -= n;
    }
}

void chat_session_input(struct chat_session *s, const char *line)
{
    static struct chat_cmd c;
    chat_command(line, s->room, &c);
    switch (c.kind) {
    case CHAT_CMD_NONE:
        return;
    case CHAT_CMD_LOCAL:
        show_lines(s, c.out, c.len);
        return;
    case CHAT_CMD_QUIT:
        s->quitting = true;
        break;
    default:
        break;
    }
    if (chat_conn_queue(&s->conn, c.out, c.len) < 0) {
        show(s, "*** the server does not read: message dropped");
        return;
    }
    for (int i = 0; c.kind == CHAT_CMD_SAY && i < c.ntexts; i++) {
        char text[CHAT_LINE_MAX], out[CHAT_SHOW_MAX];
        snprintf(text, sizeof text, "%.*s", (int)c.text_lens[i], c.texts[i]);
        if (chat_format_own(&s->view, c.target, text, c.action, out, sizeof out))
            show(s, out);
    }
}
