/* chatd's plain-line dialect (nc, telnet, socat): the first line is the
 * nickname (after the "nickname? " prompt), then each line is a message
 * to the current room, or a /command:
 *   /nick NEW  /join ROOM  /part [ROOM] [REASON]  /msg WHO TEXT  /me TEXT
 *   /who [ROOM]  /list  /topic [TEXT]  /quit [REASON]  /help
 * Incoming lines read "[#room] nick: text"; server notices start "*** ". */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chatd.h"

static const char *const help[] = {
    "commands:",
    "  /nick NEW            change your nickname",
    "  /join ROOM           join ROOM (or switch to it) and talk there",
    "  /part [ROOM] [WHY]   leave ROOM (default: the current one)",
    "  /msg WHO TEXT        private message to a nick (or a line to a room)",
    "  /me TEXT             an action (* nick TEXT)",
    "  /who [ROOM]          who is in ROOM",
    "  /list                rooms and their sizes",
    "  /topic [TEXT]        show or set the current room's topic",
    "  /quit [WHY]          leave",
    "  lines not starting with / go to the current room (// sends a line starting with /)",
};

void plain_welcome(struct conn *c)
{
    const struct chat_cfg *cfg = c->srv->cfg;
    conn_notice(c, "welcome, %s; /help lists the commands", c->nick);
    if (cfg->motd)
        for (const char *p = cfg->motd; *p;) {
            size_t n = strcspn(p, "\n");
            conn_notice(c, "%.*s", (int)n, p);
            p += n + (p[n] == '\n');
        }
    if (cfg->default_room && *cfg->default_room)
        chat_join(c, cfg->default_room);
}

/* "lobby" -> "#lobby". */
static const char *room_arg(const char *s, char *buf, size_t cap)
{
    if (s[0] == '#')
        return s;
    snprintf(buf, cap, "#%s", s);
    return buf;
}

struct list_ctx {
    struct conn *c;
};

static void list_one(void *val, void *arg)
{
    struct room *r = val;
    struct list_ctx *l = arg;
    conn_notice(l->c, "%s (%zu): %s", r->name, r->n + node_count(r), r->topic ? r->topic : "");
}

/* Split the first word off s: returns it, s then points after its spaces. */
static char *word(char **s)
{
    char *w = *s;
    while (*w == ' ')
        w++;
    char *e = w + strcspn(w, " ");
    if (*e)
        *e++ = '\0';
    while (*e == ' ')
        e++;
    *s = e;
    return w;
}

static void command(struct conn *c, char *line)
{
    char *rest = line + 1;
    char *cmd = word(&rest);
    char buf[256];
    if (!strcasecmp(cmd, "help")) {
        for (size_t i = 0; i < sizeof help / sizeof *help; i++)
            conn_notice(c, "%s", help[i]);
    } else if (!strcasecmp(cmd, "nick")) {
        char *n = word(&rest);
        if (!*n)
            conn_notice(c, "usage: /nick NEW");
        else
            chat_nick(c, n);
    } else if (!strcasecmp(cmd, "join")) {
        char *n = word(&rest);
        if (!*n)
            conn_notice(c, "usage: /join ROOM");
        else
            chat_join(c, room_arg(n, buf, sizeof buf));
    } else if (!strcasecmp(cmd, "part") || !strcasecmp(cmd, "leave")) {
        /* the first word is the room when it starts with '#', when there
         * is no current room, or when it names (without its '#', as
         * /join takes it) a room the user is in; else it is the reason */
        struct room *r = c->cur;
        char first[224];   /* room names are at most 200 bytes */
        size_t fl = strcspn(rest, " ");
        struct room *named = NULL;
        if (fl && fl < sizeof first) {
            memcpy(first, rest, fl);
            first[fl] = '\0';
            named = room_find(c->srv, room_arg(first, buf, sizeof buf));
        }
        if (*rest == '#' || (*rest && !r) || (named && room_member(named, c))) {
            word(&rest);
            r = named;
        }
        if (!r || !room_member(r, c)) {
            conn_notice(c, "you are not in that room");
            return;
        }
        room_part(c->srv, r, c, *rest ? rest : NULL, true);
        if (c->cur)
            conn_notice(c, "now talking in %s", c->cur->name);
        else
            conn_notice(c, "you are in no room now: /join ROOM");
    } else if (!strcasecmp(cmd, "msg") || !strcasecmp(cmd, "query")) {
        char *to = word(&rest);
        if (!*to || !*rest)
            conn_notice(c, "usage: /msg NICK TEXT");
        else
            chat_say(c, to, rest, EV_MSG);
    } else if (!strcasecmp(cmd, "me")) {
        if (!*rest)
            conn_notice(c, "usage: /me TEXT");
        else if (!c->cur)
            conn_notice(c, "you are in no room: /join ROOM");
        else
            chat_say(c, c->cur->name, rest, EV_ACTION);
    } else if (!strcasecmp(cmd, "who") || !strcasecmp(cmd, "names")) {
        struct room *r = *rest ? room_find(c->srv, room_arg(word(&rest), buf, sizeof buf))
                               : c->cur;
        if (!r) {
            conn_notice(c, "no such room");
            return;
        }
        chat_names(c, r);
    } else if (!strcasecmp(cmd, "list")) {
        struct list_ctx l = {c};
        conn_notice(c, "rooms:");
        c->bulk = true;
        map_each(&c->srv->rooms, list_one, &l);
        c->bulk = false;
    } else if (!strcasecmp(cmd, "topic")) {
        if (!c->cur) {
            conn_notice(c, "you are in no room: /join ROOM");
        } else if (!*rest) {
            if (c->cur->topic)
                conn_notice(c, "topic of %s: %s (set by %s)", c->cur->name, c->cur->topic,
                            c->cur->topic_by);
            else
                conn_notice(c, "%s has no topic", c->cur->name);
        } else {
            chat_topic(c, c->cur, rest);
        }
    } else if (!strcasecmp(cmd, "quit") || !strcasecmp(cmd, "exit")) {
        conn_kill(c, *rest ? rest : "Quit", "bye");
    } else {
        conn_notice(c, "unknown command /%s; /help lists them", cmd);
    }
}

void plain_nick_set(struct conn *c)
{
    snprintf(c->user, sizeof c->user, "plain");
    conn_registered(c);   /* a password, if any, was given before the nick was taken */
}

/* Take nick as c's (asked again if it is refused). */
static void take_nick(struct conn *c, const char *nick)
{
    int r = chat_nick(c, nick);
    if (r == 0)
        plain_nick_set(c);
    else if (r != CHAT_NICK_PENDING)
        conn_sendf(c, "nickname? ");
}

void plain_line(struct conn *c, char *line, size_t len)
{
    const char *pass = c->srv->cfg->password;
    if (!c->registered && pass && !c->pass_ok) {
        /* with --password the nickname is kept aside, not taken, until
         * the password is right: nobody holds a nick without it */
        if (!c->nick[0]) {
            char *p = line;
            char *n = word(&p);
            if (!*n || !ibx_irc_nick_valid(n, c->srv->cfg->nick_len)) {
                if (*n)
                    chat_err(c, "432", n, "Erroneous nickname");
                conn_sendf(c, "nickname? ");
                return;
            }
            snprintf(c->nick, sizeof c->nick, "%s", n);
            conn_sendf(c, "password? ");
            return;
        }
        if (strcmp(line, pass) != 0) {
            conn_kill(c, "Bad password", "bad password");
            return;
        }
        c->pass_ok = true;
        char nick[sizeof c->nick];
        memcpy(nick, c->nick, sizeof nick);
        c->nick[0] = '\0';
        take_nick(c, nick);
        return;
    }
    if (!c->registered) {
        char *p = line;
        char *n = word(&p);
        if (!*n) {
            conn_sendf(c, "nickname? ");
            return;
        }
        take_nick(c, n);
        return;
    }
    if (!len)
        return;
    if (line[0] == '/' && line[1] != '/') {
        command(c, line);
        return;
    }
    if (line[0] == '/')
        line++;
    if (!c->cur) {
        conn_notice(c, "you are in no room: /join ROOM");
        return;
    }
    chat_say(c, c->cur->name, line, EV_MSG);
}
