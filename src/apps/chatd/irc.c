/* chatd's IRC dialect: registration (PASS, NICK, USER, CAP LS/END), then
 * the commands of the client protocol (RFC 1459/2812 as clients use them):
 * PING PONG JOIN PART PRIVMSG NOTICE TOPIC NAMES WHO WHOIS LIST QUIT AWAY
 * MODE KICK MOTD, and the numerics they answer with. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chatd.h"

#define SRV CHATD_SERVER_NAME

static const char *me(const struct conn *c) { return c->has_nick ? c->nick : "*"; }

static void motd(struct conn *c)
{
    const char *m = c->srv->cfg->motd;
    if (!m) {
        conn_sendf(c, ":%s 422 %s :MOTD File is missing\r\n", SRV, me(c));
        return;
    }
    conn_sendf(c, ":%s 375 %s :- %s Message of the day -\r\n", SRV, me(c), SRV);
    for (const char *p = m; *p;) {
        size_t n = strcspn(p, "\n");
        size_t cut = utf8_cut(p, n < 400 ? n : 400);
        conn_sendf(c, ":%s 372 %s :- %.*s\r\n", SRV, me(c), (int)cut, p);
        p += n + (p[n] == '\n');
    }
    conn_sendf(c, ":%s 376 %s :End of /MOTD command.\r\n", SRV, me(c));
}

void irc_welcome(struct conn *c)
{
    const struct chat_cfg *cfg = c->srv->cfg;
    char created[64];
    struct tm tm;
    gmtime_r(&c->srv->started, &tm);
    strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S UTC", &tm);
    conn_sendf(c, ":%s 001 %s :Welcome to the ipcbox chat, %s!%s@%s\r\n", SRV, c->nick,
               c->nick, c->user, c->host);
    conn_sendf(c, ":%s 002 %s :Your host is %s, running ipcbox chatd\r\n", SRV, c->nick, SRV);
    conn_sendf(c, ":%s 003 %s :This server was created %s\r\n", SRV, c->nick, created);
    conn_sendf(c, ":%s 004 %s %s ipcbox-chatd i mntov\r\n", SRV, c->nick, SRV);
    conn_sendf(c, ":%s 005 %s CASEMAPPING=rfc1459 CHANTYPES=# PREFIX=(ov)@+ "
               "CHANMODES=,,,mnt NICKLEN=%u CHANNELLEN=%u TOPICLEN=%u CHANLIMIT=#:%u "
               "MAXTARGETS=4 MODES=%d NETWORK=ipcbox :are supported by this server\r\n",
               SRV, c->nick, cfg->nick_len, cfg->room_len, cfg->topic_len, cfg->max_rooms,
               CHATD_MODES);
    motd(c);
}

/* Registration is done once NICK and USER came (and CAP negotiation ended). */
static void try_register(struct conn *c)
{
    if (c->registered || !c->has_nick || !c->got_user || c->capping)
        return;
    if (c->srv->cfg->password && !c->pass_ok) {
        conn_sendf(c, ":%s 464 %s :Password incorrect\r\n", SRV, me(c));
        conn_kill(c, "Bad password", "Closing Link: bad password");
        return;
    }
    conn_registered(c);
}

void irc_nick_set(struct conn *c) { try_register(c); }

static void cap(struct conn *c, struct ibx_irc_msg *m)
{
    const char *sub = m->nparams ? m->params[0] : "";
    if (!strcasecmp(sub, "LS") || !strcasecmp(sub, "LIST")) {
        if (!c->registered)
            c->capping = true;
        conn_sendf(c, ":%s CAP %s %s :\r\n", SRV, me(c), !strcasecmp(sub, "LS") ? "LS" : "LIST");
    } else if (!strcasecmp(sub, "REQ")) {
        if (!c->registered)
            c->capping = true;
        conn_sendf(c, ":%s CAP %s NAK :%s\r\n", SRV, me(c), m->nparams > 1 ? m->params[1] : "");
    } else if (!strcasecmp(sub, "END")) {
        c->capping = false;
        try_register(c);
    } else {
        conn_sendf(c, ":%s 410 %s %s :Invalid CAP command\r\n", SRV, me(c), sub);
    }
}

static void need_params(struct conn *c, const char *cmd)
{
    conn_sendf(c, ":%s 461 %s %s :Not enough parameters\r\n", SRV, me(c), cmd);
}

static void who(struct conn *c, const char *mask)
{
    struct room *r = mask[0] == '#' ? room_find(c->srv, mask) : NULL;
    c->bulk = true;
    if (r) {
        for (size_t i = 0; i < r->n; i++) {
            const struct conn *p = r->m[i].c;
            conn_sendf(c, ":%s 352 %s %s %s %s %s %s %c%s :0 %s\r\n", SRV, c->nick, r->name,
                       p->user, p->host, SRV, p->nick, p->away ? 'G' : 'H',
                       r->m[i].op ? "@" : r->m[i].voice ? "+" : "", p->nick);
        }
        node_who(c, r);
    } else if (mask[0] != '#') {
        const struct conn *p = conn_by_nick(c->srv, mask);
        if (p && p->registered)
            conn_sendf(c, ":%s 352 %s * %s %s %s %s %c :0 %s\r\n", SRV, c->nick, p->user,
                       p->host, SRV, p->nick, p->away ? 'G' : 'H', p->nick);
    }
    c->bulk = false;
    conn_sendf(c, ":%s 315 %s %s :End of /WHO list.\r\n", SRV, c->nick, mask);
}

static void list_one(void *val, void *arg)
{
    struct room *r = val;
    struct conn *c = arg;
    conn_sendf(c, ":%s 322 %s %s %zu :%s\r\n", SRV, c->nick, r->name, r->n + node_count(r),
               r->topic ? r->topic : "");
}

static void names(struct conn *c, const char *name)
{
    struct room *r = room_find(c->srv, name);
    if (r)
        chat_names(c, r);
    conn_sendf(c, ":%s 366 %s %s :End of /NAMES list.\r\n", SRV, c->nick, name);
}

static void mode(struct conn *c, struct ibx_irc_msg *m)
{
    const char *target = m->params[0];
    if (target[0] != '#') {
        if (ibx_irc_casecmp(target, c->nick) != 0)
            conn_sendf(c, ":%s 502 %s :Cannot change mode for other users\r\n", SRV, c->nick);
        else if (m->nparams == 1)
            conn_sendf(c, ":%s 221 %s +\r\n", SRV, c->nick);
        return;   /* user modes: none kept */
    }
    struct room *r = room_find(c->srv, target);
    if (!r) {
        chat_err(c, "403", target, "No such channel");
        return;
    }
    if (m->nparams == 1) {
        conn_sendf(c, ":%s 324 %s %s +%s%s%s\r\n", SRV, c->nick, r->name, r->mode_m ? "m" : "",
                   r->mode_n ? "n" : "", r->mode_t ? "t" : "");
        conn_sendf(c, ":%s 329 %s %s %lld\r\n", SRV, c->nick, r->name, (long long)r->created);
        return;
    }
    const char *ms = m->params[1];
    if (!strcmp(ms, "b") || !strcmp(ms, "+b")) {   /* ban list query: empty */
        conn_sendf(c, ":%s 368 %s %s :End of channel ban list\r\n", SRV, c->nick, r->name);
        return;
    }
    struct member *mm = room_member(r, c);
    if (!mm || !mm->op) {
        chat_err(c, "482", r->name, "You're not channel operator");
        return;
    }
    /* All changes of one command make one MODE line to the room, with only
     * what really changed (the flags by their net effect), and at most
     * CHATD_MODES nick modes, as ISUPPORT MODES= says: one command can not
     * make the server send more than one line to each member. */
    bool add = true, was_n = r->mode_n, was_t = r->mode_t, was_m = r->mode_m;
    bool unknown[256] = {false};
    char params[IBX_IRC_LINE_MAX] = "", nickmodes[2 * CHATD_MODES + 1] = "";
    size_t arg = 2, np = 0, pl = 0, nl = 0;
    char last = 0;
    for (const char *p = ms; *p; p++) {
        switch (*p) {
        case '+': add = true; continue;
        case '-': add = false; continue;
        case 'n': r->mode_n = add; continue;
        case 't': r->mode_t = add; continue;
        case 'm': r->mode_m = add; continue;
        case 'o':
        case 'v': {
            if (np >= CHATD_MODES)
                continue;   /* past MODES=: ignored, as ircds do */
            np++;
            if (arg >= m->nparams) {
                need_params(c, "MODE");
                break;
            }
            const char *who_ = m->params[arg++];
            struct conn *t = conn_by_nick(c->srv, who_);
            struct member *tm = t ? room_member(r, t) : NULL;
            if (!tm) {
                chat_err(c, "441", who_, "They aren't on that channel");
                continue;
            }
            bool *flag = *p == 'o' ? &tm->op : &tm->voice;
            if (*flag == add)
                continue;   /* no change: not announced */
            *flag = add;
            char sign = add ? '+' : '-';
            if (sign != last)
                nickmodes[nl++] = last = sign;
            nickmodes[nl++] = *p;
            nickmodes[nl] = '\0';
            pl += (size_t)snprintf(params + pl, sizeof params - pl, " %s", t->nick);
            continue;
        }
        default:
            if (!unknown[(unsigned char)*p]) {
                unknown[(unsigned char)*p] = true;
                conn_sendf(c, ":%s 472 %s %c :is unknown mode char to me\r\n", SRV, c->nick,
                           *p);
            }
            continue;
        }
        break;
    }
    /* the flags' net changes first ("+nt-m"), then the nick modes */
    char text[IBX_IRC_LINE_MAX];
    size_t tl = 0;
    const struct { char ch; bool was, now; } fl[] = {
        {'m', was_m, r->mode_m}, {'n', was_n, r->mode_n}, {'t', was_t, r->mode_t}};
    last = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < sizeof fl / sizeof *fl; i++)
            if (fl[i].was != fl[i].now && fl[i].now == (pass == 0)) {
                char sign = pass == 0 ? '+' : '-';
                if (sign != last)
                    text[tl++] = last = sign;
                text[tl++] = fl[i].ch;
            }
    if (!tl && !nl)
        return;
    snprintf(text + tl, sizeof text - tl, "%s%s", nickmodes, params);
    struct chat_event ev = {.kind = EV_MODE, .from = c, .target = r->name, .text = text};
    room_send(r, &ev, NULL);
    node_pub(r, &ev);
    event_done(&ev);
}

static void kick(struct conn *c, struct ibx_irc_msg *m)
{
    struct room *r = room_find(c->srv, m->params[0]);
    if (!r) {
        chat_err(c, "403", m->params[0], "No such channel");
        return;
    }
    struct member *mm = room_member(r, c);
    if (!mm) {
        chat_err(c, "442", r->name, "You're not on that channel");
        return;
    }
    if (!mm->op) {
        chat_err(c, "482", r->name, "You're not channel operator");
        return;
    }
    struct conn *t = conn_by_nick(c->srv, m->params[1]);
    if ((!t || !room_member(r, t)) &&
        node_kick(c, r, m->params[1], m->nparams > 2 ? m->params[2] : c->nick))
        return;
    if (!t || !room_member(r, t)) {
        chat_err(c, "441", m->params[1], "They aren't on that channel");
        return;
    }
    struct chat_event ev = {.kind = EV_KICK, .from = c, .target = r->name, .arg = t->nick,
                            .text = m->nparams > 2 ? m->params[2] : c->nick};
    room_send(r, &ev, NULL);
    node_pub(r, &ev);
    event_done(&ev);
    room_part(c->srv, r, t, NULL, false);
}

static void whois(struct conn *c, const char *nick)
{
    struct conn *t = conn_by_nick(c->srv, nick);
    if (!t || !t->registered) {
        chat_err(c, "401", nick, "No such nick/channel");
    } else {
        conn_sendf(c, ":%s 311 %s %s %s %s * :%s\r\n", SRV, c->nick, t->nick, t->user, t->host,
                   t->dialect == D_IRC ? "IRC client" : "plain-line client");
        if (t->away)
            conn_sendf(c, ":%s 301 %s %s :%s\r\n", SRV, c->nick, t->nick, t->away);
    }
    conn_sendf(c, ":%s 318 %s %s :End of /WHOIS list.\r\n", SRV, c->nick, nick);
}

/* Commands of a registered client. */
static void registered(struct conn *c, struct ibx_irc_msg *m)
{
    const char *cmd = m->command;
    /* an empty first parameter ("JOIN :") is a missing one */
    const char *p0 = m->nparams && m->params[0][0] ? m->params[0] : NULL;
    if (!strcmp(cmd, "PRIVMSG") || !strcmp(cmd, "NOTICE")) {
        bool notice = cmd[0] == 'N';
        if (!p0) {
            if (!notice)
                conn_sendf(c, ":%s 411 %s :No recipient given (PRIVMSG)\r\n", SRV, c->nick);
            return;
        }
        if (m->nparams < 2 || !m->params[1][0]) {
            if (!notice)
                conn_sendf(c, ":%s 412 %s :No text to send\r\n", SRV, c->nick);
            return;
        }
        const char *text = m->params[1];
        enum ev_kind kind = notice ? EV_NOTICE : EV_MSG;
        char action[IBX_IRC_LINE_MAX];
        if (!notice && !strncmp(text, "\001ACTION ", 8)) {
            snprintf(action, sizeof action, "%s", text + 8);
            size_t n = strlen(action);
            if (n && action[n - 1] == '\001')
                action[n - 1] = '\0';
            text = action;
            kind = EV_ACTION;
        } else if (text[0] == '\001' && !notice) {
            return;   /* other CTCP queries: not answered */
        }
        /* at most MAXTARGETS=4 targets, each once (folded): a repeated
         * target must not multiply the fan-out; past four, one 407 says
         * that the rest were left out (RFC 2812 ERR_TOOMANYTARGETS) */
        char targets[IBX_IRC_LINE_MAX], seen[4][IBX_IRC_LINE_MAX], key[IBX_IRC_LINE_MAX];
        snprintf(targets, sizeof targets, "%s", p0);
        char *save, *t = strtok_r(targets, ",", &save);
        for (int n = 0; t; t = strtok_r(NULL, ",", &save)) {
            snprintf(key, sizeof key, "%s", t);
            ibx_irc_fold(key);
            bool dup = false;
            for (int k = 0; k < n; k++)
                dup = dup || !strcmp(seen[k], key);
            if (dup)
                continue;
            if (n == 4) {
                if (!notice)
                    conn_sendf(c, ":%s 407 %s %s :Too many recipients. Only 4 processed\r\n",
                               SRV, c->nick, t);
                break;
            }
            memcpy(seen[n++], key, strlen(key) + 1);
            chat_say(c, t, text, kind);
        }
    } else if (!strcmp(cmd, "JOIN")) {
        if (!p0)
            return need_params(c, cmd);
        if (!strcmp(p0, "0")) {
            while (c->nrooms)
                room_part(c->srv, c->rooms[c->nrooms - 1], c, NULL, true);
            return;
        }
        char list[IBX_IRC_LINE_MAX];
        snprintf(list, sizeof list, "%s", p0);
        char *save;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
            chat_join(c, t);
    } else if (!strcmp(cmd, "PART")) {
        if (!p0)
            return need_params(c, cmd);
        char list[IBX_IRC_LINE_MAX];
        snprintf(list, sizeof list, "%s", p0);
        char *save;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            struct room *r = room_find(c->srv, t);
            if (!r)
                chat_err(c, "403", t, "No such channel");
            else if (!room_member(r, c))
                chat_err(c, "442", r->name, "You're not on that channel");
            else
                room_part(c->srv, r, c, m->nparams > 1 ? m->params[1] : NULL, true);
        }
    } else if (!strcmp(cmd, "TOPIC")) {
        if (!p0)
            return need_params(c, cmd);
        struct room *r = room_find(c->srv, p0);
        if (!r)
            return chat_err(c, "403", p0, "No such channel");
        if (m->nparams > 1)
            return chat_topic(c, r, m->params[1]);
        if (!r->topic)
            return (void)conn_sendf(c, ":%s 331 %s %s :No topic is set\r\n", SRV, c->nick,
                                    r->name);
        conn_sendf(c, ":%s 332 %s %s :%s\r\n", SRV, c->nick, r->name, r->topic);
        conn_sendf(c, ":%s 333 %s %s %s %lld\r\n", SRV, c->nick, r->name, r->topic_by,
                   (long long)r->topic_at);
    } else if (!strcmp(cmd, "NAMES")) {
        if (!p0)
            return (void)conn_sendf(c, ":%s 366 %s * :End of /NAMES list.\r\n", SRV, c->nick);
        names(c, p0);
    } else if (!strcmp(cmd, "WHO")) {
        who(c, p0 ? p0 : "*");
    } else if (!strcmp(cmd, "WHOIS")) {
        if (!p0)
            return (void)conn_sendf(c, ":%s 431 %s :No nickname given\r\n", SRV, c->nick);
        whois(c, m->nparams > 1 ? m->params[1] : p0);
    } else if (!strcmp(cmd, "LIST")) {
        conn_sendf(c, ":%s 321 %s Channel :Users  Name\r\n", SRV, c->nick);
        c->bulk = true;
        map_each(&c->srv->rooms, list_one, c);
        c->bulk = false;
        conn_sendf(c, ":%s 323 %s :End of /LIST\r\n", SRV, c->nick);
    } else if (!strcmp(cmd, "AWAY")) {
        free(c->away);
        c->away = NULL;
        if (p0 && *p0) {
            c->away = strndup(p0, utf8_cut(p0, 200));
            conn_sendf(c, ":%s 306 %s :You have been marked as being away\r\n", SRV, c->nick);
        } else {
            conn_sendf(c, ":%s 305 %s :You are no longer marked as being away\r\n", SRV, c->nick);
        }
    } else if (!strcmp(cmd, "MODE")) {
        if (!p0)
            return need_params(c, cmd);
        mode(c, m);
    } else if (!strcmp(cmd, "KICK")) {
        if (m->nparams < 2)
            return need_params(c, cmd);
        kick(c, m);
    } else if (!strcmp(cmd, "MOTD")) {
        motd(c);
    } else if (!strcmp(cmd, "USERHOST") || !strcmp(cmd, "ISON")) {
        /* ISON/USERHOST: who of the given nicks is here */
        bool ison = cmd[0] == 'I';
        char out[IBX_IRC_LINE_MAX] = "";
        size_t o = 0;
        for (size_t i = 0; i < m->nparams && o < 400; i++) {
            char list[IBX_IRC_LINE_MAX];
            snprintf(list, sizeof list, "%s", m->params[i]);
            char *save;
            for (char *t = strtok_r(list, " ", &save); t && o < 400; t = strtok_r(NULL, " ", &save)) {
                struct conn *u = conn_by_nick(c->srv, t);
                if (!u || !u->registered)
                    continue;
                o += (size_t)(ison ? snprintf(out + o, sizeof out - o, "%s%s", o ? " " : "", u->nick)
                                   : snprintf(out + o, sizeof out - o, "%s%s=%c%s@%s", o ? " " : "",
                                              u->nick, u->away ? '-' : '+', u->user, u->host));
            }
        }
        conn_sendf(c, ":%s %s %s :%s\r\n", SRV, ison ? "303" : "302", c->nick, out);
    } else {
        conn_sendf(c, ":%s 421 %s %s :Unknown command\r\n", SRV, c->nick, cmd);
    }
}

size_t irc_tags_len(const char *line, size_t len)
{
    if (!len || line[0] != '@')
        return 0;
    size_t i = 0;
    while (i < len && line[i] != ' ')
        i++;
    while (i < len && line[i] == ' ')
        i++;
    return i;
}

void irc_line(struct conn *c, char *line, size_t len)
{
    struct ibx_irc_msg m;
    /* IRCv3 message tags: none are kept (no capability offers them), but
     * a client that sends some anyway gets its command run, not ignored */
    size_t skip = irc_tags_len(line, len);
    line += skip;
    len -= skip;
    int r = ibx_irc_parse(line, len, &m);
    if (r == -EMSGSIZE) {
        conn_sendf(c, ":%s 417 %s :Input line was too long\r\n", SRV, me(c));
        return;
    }
    if (r < 0)
        return;   /* empty or malformed lines are ignored */
    const char *cmd = m.command;
    const char *p0 = m.nparams ? m.params[0] : NULL;
    if (!strcmp(cmd, "PING")) {
        conn_sendf(c, ":%s PONG %s :%s\r\n", SRV, SRV, p0 ? p0 : "");
    } else if (!strcmp(cmd, "PONG")) {
        /* keepalive answered (the read itself counted) */
    } else if (!strcmp(cmd, "QUIT")) {
        char why[128];
        const char *q = p0 ? p0 : "";   /* cut on a character boundary */
        snprintf(why, sizeof why, "Quit: %.*s", (int)utf8_cut(q, sizeof why - 7), q);
        conn_kill(c, why, "Closing Link: quit");
    } else if (!strcmp(cmd, "CAP")) {
        cap(c, &m);
    } else if (!strcmp(cmd, "PASS")) {
        if (c->registered)
            conn_sendf(c, ":%s 462 %s :You may not reregister\r\n", SRV, me(c));
        else if (!p0)
            need_params(c, cmd);
        else
            c->pass_ok = !c->srv->cfg->password || !strcmp(p0, c->srv->cfg->password);
    } else if (!strcmp(cmd, "NICK")) {
        if (!p0 || !*p0) {
            conn_sendf(c, ":%s 431 %s :No nickname given\r\n", SRV, me(c));
        } else if (!c->registered && c->srv->cfg->password && !c->pass_ok) {
            /* PASS comes first (RFC 2812 3.1.1): a nick is never held,
             * not even until the registration timeout, by a client that
             * does not know the password */
            conn_sendf(c, ":%s 464 %s :Password incorrect\r\n", SRV,
                       ibx_irc_nick_valid(p0, c->srv->cfg->nick_len) ? p0 : "*");
            conn_kill(c, "Bad password", "Closing Link: bad password");
        } else if (chat_nick(c, p0) == 0)
            try_register(c);   /* pending: irc_nick_set does it */
    } else if (!strcmp(cmd, "USER")) {
        if (c->registered || c->got_user) {
            conn_sendf(c, ":%s 462 %s :You may not reregister\r\n", SRV, me(c));
        } else if (m.nparams < 4) {
            need_params(c, cmd);
        } else {
            char u[sizeof c->user - 1];
            size_t k = 0;
            for (const char *p = p0; *p && k + 1 < sizeof u; p++)
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')
                    u[k++] = *p;
            u[k] = '\0';
            snprintf(c->user, sizeof c->user, "~%s", k ? u : "user");
            c->got_user = true;
            try_register(c);
        }
    } else if (!c->registered) {
        conn_sendf(c, ":%s 451 %s :You have not registered\r\n", SRV, me(c));
    } else {
        registered(c, &m);
    }
}
