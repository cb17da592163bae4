/* chatd's connections, as the core sees them: reading lines (at most 512
 * bytes with the line end), deciding the dialect from the first line, the
 * plain prompt, flood control, the timers (registration, keepalive PING,
 * idle), and the output queue (outq.c) of shared messages.
 *
 * A connection is local (the one-loop models: its socket is here) or
 * remote (its socket is on an edge, see chatd.h): a remote one gets its
 * bytes from the hub (conn_data), and what it is sent goes to its edge
 * (hub_send), which enforces --sendq and lingers; everything else is the
 * same code.
 *
 * Dialect: the first line decides. NICK, USER, PASS or CAP (any case)
 * followed by a parameter make an IRC client; anything else is a plain user, whose first line is
 * the nickname. A client that says nothing for CHATD_PROMPT_MS gets the
 * plain prompt "nickname? " (IRC clients speak first and never see it).
 *
 * Closing: conn_kill marks the connection dead at once (nothing more is
 * queued to it), drops what was queued but not started, queues the ERROR
 * line, and defers the rest (telling its rooms, leaving the tables) to
 * after the loop pass, so that no fan-out loop sees a member vanish. What
 * is left to write gets CHATD_LINGER_MS, then the socket is closed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chatd.h"

/* Input waiting behind flood control before the client is refused. */
#define CHATD_WAIT_MAX (16 * IBX_IRC_LINE_MAX)

static void conn_close(struct conn *c);
static void kill_(struct conn *c, const char *reason, const char *error, bool drop);
static void process(struct conn *c);

static ibx_loop *loop_of(const struct conn *c) { return ibx_worker_loop(c->base.worker); }
static uint64_t now_of(const struct conn *c) { return ibx_loop_now(loop_of(c)); }

/* ---- output -------------------------------------------------------------- */

static void flush(struct conn *c);

static void on_flush(ibx_loop *loop, ibx_defer *d) { flush(d->data); }

static void update_events(struct conn *c)
{
    if (c->closed || c->remote)
        return;
    uint32_t ev = 0;
    /* throttled too: its waiting input is bounded; dead: dropped while it
     * lingers (linger_discard) */
    if (!c->in_eof)
        ev |= IBX_EV_READ | IBX_EV_RDHUP;
    if (c->out.n)
        ev |= IBX_EV_WRITE;
    ibx_io_modify(loop_of(c), &c->io, ev);
}

static void flush(struct conn *c)
{
    if (c->closed || c->remote)
        return;
    if (outq_write(&c->out, c->io.fd) < 0) {
        outq_drop(&c->out);   /* the peer is gone: drop everything */
        conn_kill(c, "write error", NULL);
        conn_close(c);
        return;
    }
    if (!c->out.n && c->dead && c->detached) {
        conn_close(c);
        return;
    }
    update_events(c);
}

/* Put m at the tail of c's queue. Returns 0 or -ENOMEM. */
static int push(struct conn *c, struct chat_msg *m, bool bulk)
{
    int r = outq_push(&c->out, m, bulk);
    if (r == 0 && c->out.n == 1)
        ibx_loop_defer(loop_of(c), &c->flush_d, on_flush, c);
    return r;
}

void conn_send(struct conn *c, struct chat_msg *m)
{
    if (c->dead || !m)
        return;
    /* bulk replies and the rest are counted apart (--sendq-bulk) */
    bool bulk = c->bulk;
    if (c->remote) {   /* its edge enforces --sendq */
        hub_send(c, m, bulk);
        return;
    }
    const struct chat_cfg *cfg = c->srv->cfg;
    if (outq_over(&c->out, bulk, m->len, cfg)) {
        /* Before judging, write what the socket takes now: a burst made
         * in one loop pass (other people's lines, a big reply) must not
         * cost a member that reads its connection; only one whose socket
         * stays full is past the bound. */
        flush(c);
        if (c->dead || c->closed)
            return;
        if (outq_over(&c->out, bulk, m->len, cfg)) {
            kill_(c, "SendQ exceeded", "SendQ exceeded", true);
            return;
        }
    }
    if (push(c, m, bulk) < 0)
        conn_kill(c, "out of memory", NULL);
}

void conn_sendf(struct conn *c, const char *fmt, ...)
{
    if (c->dead)
        return;
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof tmp)
        n = sizeof tmp - 1;
    if (c->dialect == D_IRC && n > IBX_IRC_LINE_MAX) {
        /* a reply that echoes long arguments (a topic of 390 bytes in a
         * room of 200, an unknown command of 500): cut on a character
         * boundary, the line end kept -- never past the 512-byte limit */
        n = (int)utf8_cut(tmp, IBX_IRC_LINE_MAX - 2);
        tmp[n++] = '\r';
        tmp[n++] = '\n';
    }
    struct chat_msg *m = msg_new((size_t)n);
    if (!m)
        return;
    memcpy(m->data, tmp, (size_t)n);
    conn_send(c, m);
    msg_unref(m);
}

struct chat_msg *error_line(enum dialect d, const char *error)
{
    return d == D_IRC ? msg_printf("ERROR :%s\r\n", error) : msg_printf("*** %s\n", error);
}

/* ---- closing ------------------------------------------------------------- */

static void conn_free(struct conn *c)
{
    struct chat_srv *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ibx_buf_free(&c->in);
    free(c->rooms);
    free(c->away);
    free(c);
}

static void on_free(ibx_loop *loop, ibx_defer *d)
{
    struct conn *c = d->data;
    if (!c->remote)   /* a remote one was never the worker's */
        ibx_conn_done(&c->base);
    conn_free(c);
}

void conn_release_all(struct chat_srv *s)
{
    while (s->conns) {
        outq_drop(&s->conns->out);
        conn_free(s->conns);
    }
}

static void conn_close(struct conn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    ibx_loop *loop = loop_of(c);
    ibx_timer_stop(loop, &c->tick);
    ibx_timer_stop(loop, &c->flood_t);
    if (!c->remote) {
        int fd = c->io.fd;
        ibx_io_stop(loop, &c->io);
        close(fd);
    }
    outq_drop(&c->out);
    if (c->detached)
        ibx_loop_defer(loop, &c->free_d, on_free, c);
}

/* Leave every table and room; tell the others (QUIT once each). */
static void detach(struct conn *c, bool announce)
{
    if (c->detached)
        return;
    c->detached = true;
    struct chat_srv *s = c->srv;
    node_conn_gone(c);
    if (announce && c->registered) {
        struct chat_event ev = {.kind = EV_QUIT, .from = c, .text = c->why};
        conn_tell_peers(c, &ev, false);
        event_done(&ev);
    }
    while (c->nrooms)
        room_part(s, c->rooms[c->nrooms - 1], c, NULL, false);
    if (c->has_nick) {
        char key[CHATD_NICK_MAX + 1];
        memcpy(key, c->nick, sizeof key);
        ibx_irc_fold(key);
        map_del(&s->nicks, key);
        c->has_nick = false;
    }
    void **slot = map_slot(&s->addrs, c->host);
    if (slot) {
        uintptr_t n = (uintptr_t)*slot;
        if (n <= 1)
            map_del(&s->addrs, c->host);
        else
            *slot = (void *)(n - 1);
    }
    s->clients--;
}

static void on_linger(ibx_loop *loop, ibx_timer *t) { conn_close(t->data); }

static void on_detach(ibx_loop *loop, ibx_defer *d)
{
    struct conn *c = d->data;
    detach(c, true);
    if (c->closed) {
        ibx_loop_defer(loop, &c->free_d, on_free, c);
        return;
    }
    if (!c->out.n) {   /* remote: its edge lingers */
        conn_close(c);
        return;
    }
    ibx_timer_stop(loop, &c->flood_t);
    ibx_timer_start(loop, &c->tick, CHATD_LINGER_MS, on_linger, c);
    flush(c);
}

/* drop: what was queued but not started goes (a client past --sendq). */
static void kill_(struct conn *c, const char *reason, const char *error, bool drop)
{
    if (c->dead)
        return;
    c->dead = true;
    snprintf(c->why, sizeof c->why, "%.*s", (int)utf8_cut(reason, sizeof c->why - 1), reason);
    /* clients that gave a nick: info, gated; the others (port scans): debug */
    unsigned long held = 0;
    bool reg = c->registered || c->has_nick;
    if (!reg || ibx_log_gate_pass(&c->srv->quit_gate, now_of(c), &held)) {
        if (held)
            ibx_info(c->srv->log, "msg=\"%lu more disconnections not logged\"", held);
        ibx_log_write(c->srv->log, reg ? IBX_LOG_INFO : IBX_LOG_DEBUG,
                      "msg=\"client disconnected\" nick=%s peer=%s dialect=%s reason=\"%s\"",
                      c->has_nick ? c->nick : "-", c->host,
                      c->dialect == D_IRC ? "irc" : c->dialect == D_PLAIN ? "plain" : "none",
                      reason);
    }
    if (c->remote) {
        if (c->edge)   /* not when the edge told us it is gone */
            hub_close(c, drop, error);
    } else {
        /* keep only the message being written, then the error line */
        if (drop)
            outq_keep_head(&c->out);
        if (error && !c->closed) {
            struct chat_msg *m = error_line(c->dialect, error);
            if (m) {
                push(c, m, false);
                msg_unref(m);
            }
        }
    }
    ibx_loop_defer(loop_of(c), &c->detach_d, on_detach, c);
    update_events(c);
}

void conn_kill(struct conn *c, const char *reason, const char *error)
{
    kill_(c, reason, error, false);
}

void conn_gone(struct conn *c, const char *reason)
{
    c->edge = NULL;
    kill_(c, reason, NULL, false);
}

/* ---- tables ---------------------------------------------------------------- */

struct conn *conn_by_nick(struct chat_srv *s, const char *nick)
{
    char key[CHATD_NICK_MAX + 1];
    if (strlen(nick) > CHATD_NICK_MAX)
        return NULL;
    memcpy(key, nick, strlen(nick) + 1);
    ibx_irc_fold(key);
    return map_get(&s->nicks, key);
}

int conn_set_nick(struct conn *c, const char *nick)
{
    struct chat_srv *s = c->srv;
    char key[CHATD_NICK_MAX + 1];
    memcpy(key, nick, strlen(nick) + 1);
    ibx_irc_fold(key);
    if (c->has_nick) {
        char old[CHATD_NICK_MAX + 1];
        memcpy(old, c->nick, sizeof old);
        ibx_irc_fold(old);
        if (strcmp(old, key) != 0) {
            if (map_put(&s->nicks, key, c) < 0)
                return -ENOMEM;
            map_del(&s->nicks, old);
        }
    } else if (map_put(&s->nicks, key, c) < 0) {
        return -ENOMEM;
    }
    c->has_nick = true;
    if (c->registered) {
        char oldnick[CHATD_NICK_MAX + 1];
        memcpy(oldnick, c->nick, sizeof oldnick);
        struct chat_event ev = {.kind = EV_NICK, .from = c, .nick = oldnick, .arg = nick};
        conn_tell_peers(c, &ev, true);
        event_done(&ev);
    }
    snprintf(c->nick, sizeof c->nick, "%s", nick);
    return 0;
}

void conn_tell_peers(struct conn *c, struct chat_event *ev, bool self)
{
    uint64_t gen = ++c->srv->gen;
    c->mark = gen;
    if (self) {
        struct chat_msg *m = event_msg(ev, c->dialect);
        if (m)
            conn_send(c, m);
    }
    for (size_t i = 0; i < c->nrooms; i++) {
        struct room *r = c->rooms[i];
        for (size_t k = 0; k < r->n; k++) {
            struct conn *p = r->m[k].c;
            if (p->mark == gen || p->dead)
                continue;
            p->mark = gen;
            struct chat_msg *m = event_msg(ev, p->dialect);
            if (m)
                conn_send(p, m);
        }
    }
}

/* ---- timers ---------------------------------------------------------------- */

static void on_tick(ibx_loop *loop, ibx_timer *t);

static void tick_after(struct conn *c, uint64_t ms)
{
    if (ms)
        ibx_timer_start(loop_of(c), &c->tick, ms, on_tick, c);
}

/* The next keepalive check of a registered client. */
static void tick_registered(struct conn *c)
{
    const struct chat_cfg *cfg = c->srv->cfg;
    uint64_t ms = cfg->ping_ms && c->dialect == D_IRC ? cfg->ping_ms : 0;
    if (cfg->idle_ms && (!ms || cfg->idle_ms < ms))
        ms = cfg->idle_ms;
    if (ms)
        tick_after(c, ms);
    else
        ibx_timer_stop(loop_of(c), &c->tick);
}

/* False in a fork child finishing the parent's loop pass (hub.c). */
static bool here(const struct conn *c)
{
    return !c->remote || hub_is_core_process(c->srv->hub);
}

static void on_tick(ibx_loop *loop, ibx_timer *t)
{
    struct conn *c = t->data;
    if (!here(c))
        return;
    const struct chat_cfg *cfg = c->srv->cfg;
    uint64_t now = ibx_loop_now(loop), quiet = now - c->last_in_ms;
    if (c->dead)
        return;
    if (!c->registered) {
        /* the prompt is for a client that has said nothing yet; the
         * deadline counts from the connection's start, whatever it said */
        if (c->dialect == D_NONE && !c->prompted) {
            c->prompted = true;
            conn_sendf(c, "nickname? ");
        }
        uint64_t age = now - c->opened_ms;
        if (age >= cfg->reg_timeout_ms) {
            conn_kill(c, "Registration timeout", "Closing Link: registration timed out");
            return;
        }
        tick_after(c, cfg->reg_timeout_ms - age);
        return;
    }
    if (cfg->idle_ms && quiet >= cfg->idle_ms) {
        conn_kill(c, "Idle timeout", "Closing Link: idle too long");
        return;
    }
    if (c->dialect == D_IRC && cfg->ping_ms && quiet >= cfg->ping_ms) {
        if (c->pinged && quiet >= 2 * (uint64_t)cfg->ping_ms) {
            conn_kill(c, "Ping timeout", "Closing Link: Ping timeout");
            return;
        }
        if (!c->pinged) {
            c->pinged = true;
            conn_sendf(c, "PING :%s\r\n", CHATD_SERVER_NAME);
        }
    }
    tick_registered(c);
}

void conn_registered(struct conn *c)
{
    c->registered = true;
    tick_registered(c);
    if (c->dialect == D_IRC)
        irc_welcome(c);
    else
        plain_welcome(c);
}

/* ---- input ------------------------------------------------------------------ */

static bool is_irc_word(const char *p, size_t n)
{
    static const char *const words[] = {"NICK", "USER", "PASS", "CAP"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t k = strlen(words[i]);
        if (n > k + 1 && strncasecmp(p, words[i], k) == 0 && p[k] == ' ')
            return true;
    }
    return false;
}

static void on_flood(ibx_loop *loop, ibx_timer *t)
{
    struct conn *c = t->data;
    if (!here(c))
        return;
    c->throttled = false;
    process(c);
    update_events(c);
}

static void too_long(struct conn *c)
{
    if (c->dialect == D_IRC)
        conn_sendf(c, ":%s 417 %s :Input line was too long\r\n", CHATD_SERVER_NAME,
                   c->has_nick ? c->nick : "*");
    else
        conn_sendf(c, "*** line too long (at most %d bytes): dropped\n", IBX_IRC_TEXT_MAX);
}

/* Handle the complete lines waiting in c->in, as flood control allows. */
static void process(struct conn *c)
{
    const struct chat_cfg *cfg = c->srv->cfg;
    while (!c->dead && !c->throttled && ibx_buf_used(&c->in)) {
        char *head = ibx_buf_head(&c->in);
        size_t used = ibx_buf_used(&c->in);
        char *nl = memchr(head, '\n', used);
        if (!nl) {
            if (used > IBX_IRC_TEXT_MAX + 1) {   /* too long: drop up to its end */
                c->skipping = true;
                ibx_buf_reset(&c->in);
            }
            break;
        }
        size_t len = (size_t)(nl - head), take = len + 1;
        if (len && head[len - 1] == '\r')
            len--;
        /* too long, whether its end came in the same read or not (or it
         * waited behind flood control): dropped, in either dialect */
        if (c->skipping || len > IBX_IRC_TEXT_MAX) {
            c->skipping = false;
            ibx_buf_consume(&c->in, take);
            too_long(c);
            continue;
        }
        /* from the first line: a client that never registers must not
         * send NICK after NICK at full speed (each one a table lookup,
         * and with --redis a claim in Redis) */
        uint64_t wait = flood_take(&c->flood, cfg->flood_burst, cfg->flood_rate, now_of(c));
        if (wait) {
            c->throttled = true;
            ibx_timer_start(loop_of(c), &c->flood_t, wait, on_flood, c);
            break;
        }
        head[len] = '\0';
        for (size_t i = 0; i < len; i++)
            if (!head[i])
                head[i] = '?';   /* a NUL inside a line */
        if (c->dialect == D_NONE) {
            if (!len) {
                ibx_buf_consume(&c->in, take);
                continue;
            }
            size_t tags = irc_tags_len(head, len);
            c->dialect = is_irc_word(head + tags, len - tags) ? D_IRC : D_PLAIN;
            if (c->dialect == D_IRC && c->prompted)
                conn_sendf(c, "\r\n");   /* ends the "nickname? " a slow IRC client got */
            if (c->dialect == D_PLAIN)
                c->prompted = true;
            if (c->remote)
                hub_dialect(c);
        }
        if (c->dialect == D_PLAIN) {   /* IRC input refuses these in its parser */
            for (size_t i = 0; i < len; i++) {
                if (head[i] == '\t')
                    head[i] = ' ';
                else if ((unsigned char)head[i] < 0x20 || head[i] == 0x7f)
                    head[i] = '?';   /* a bare CR, ESC, ^A (CTCP) ...: never relayed */
            }
        }
        if (c->dialect == D_IRC)
            irc_line(c, head, len);
        else
            plain_line(c, head, len);
        ibx_buf_consume(&c->in, take);
    }
}

static void input(struct conn *c);

static void on_io(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct conn *c = io->data;
    if (events & IBX_EV_ERROR) {
        conn_kill(c, "socket error", NULL);
        conn_close(c);
        return;
    }
    if (events & IBX_EV_WRITE) {
        flush(c);
        if (c->closed)
            return;
    }
    if (!(events & (IBX_EV_READ | IBX_EV_RDHUP | IBX_EV_HUP)))
        return;
    if (c->dead) {
        if (!c->in_eof && linger_discard(c->io.fd)) {
            c->in_eof = true;
            update_events(c);
        }
        return;
    }
    ssize_t n = ibx_buf_read_fd(&c->in, c->io.fd, 4096);
    if (n == -EAGAIN)
        return;
    if (n <= 0) {
        conn_kill(c, n == 0 ? "Connection closed" : "Read error", NULL);
        return;
    }
    input(c);
}

void conn_data(struct conn *c, const void *p, size_t n)
{
    if (c->dead)
        return;
    if (ibx_buf_append(&c->in, p, n) < 0) {
        conn_kill(c, "out of memory", NULL);
        return;
    }
    input(c);
}

/* New bytes are in c->in. */
static void input(struct conn *c)
{
    c->last_in_ms = now_of(c);
    c->pinged = false;
    if (ibx_buf_used(&c->in) > CHATD_WAIT_MAX) {
        conn_kill(c, "Excess Flood", "Closing Link: Excess Flood");
        return;
    }
    if (!c->throttled)
        process(c);
    if (!c->dead && !ibx_buf_used(&c->in))
        ibx_buf_free(&c->in);   /* idle clients hold no input buffer */
    update_events(c);
}

/* ---- server model hooks ---------------------------------------------------- */

static void conn_drain(ibx_conn *base)
{
    conn_kill((struct conn *)base, "Server shutting down", "Closing Link: server shutting down");
}

static void conn_abort(ibx_conn *base)
{
    struct conn *c = (struct conn *)base;
    c->dead = true;
    if (!c->why[0])
        snprintf(c->why, sizeof c->why, "Server shutting down");
    detach(c, false);
    conn_close(c);
}

static const struct ibx_conn_ops conn_ops = {.drain = conn_drain, .abort = conn_abort};

/* The address of peer without its port ("127.0.0.1", "::1"). */
static void host_of(const struct sockaddr *peer, char *buf, size_t cap)
{
    if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const void *)peer;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)cap);
    } else if (peer->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, buf, (socklen_t)cap);
    } else {
        snprintf(buf, cap, "local");
    }
}

/* The limit a new client from host passes (logged, gated), or NULL. */
static const char *refusal(struct chat_srv *s, const char *host, uint64_t now)
{
    const struct chat_cfg *cfg = s->cfg;
    void **slot = map_slot(&s->addrs, host);
    uintptr_t from_addr = slot ? (uintptr_t)*slot : 0;
    const char *refuse = NULL;
    if (cfg->max_clients && s->clients >= cfg->max_clients)
        refuse = "too many clients";
    else if (cfg->max_per_addr && from_addr >= cfg->max_per_addr)
        refuse = "too many connections from your address";
    if (refuse) {
        unsigned long held = 0;
        if (ibx_log_gate_pass(&s->refuse_gate, now, &held)) {
            if (held)
                ibx_warn(s->log, "msg=\"%lu more refused connections not logged\"", held);
            ibx_warn(s->log, "msg=\"connection refused: %s\" peer=%s flag=%s", refuse, host,
                     cfg->max_clients && s->clients >= cfg->max_clients ? "--max-clients"
                                                                        : "--max-per-addr");
        }
    }
    return refuse;
}

/* Count c in the tables and start its timers. Returns 0 or -ENOMEM. */
static int conn_start(struct conn *c, ibx_worker *w)
{
    struct chat_srv *s = c->srv;
    const struct chat_cfg *cfg = s->cfg;
    void **slot = map_slot(&s->addrs, c->host);
    if (slot)
        *slot = (void *)((uintptr_t)*slot + 1);
    else if (map_put(&s->addrs, c->host, (void *)(uintptr_t)1) < 0)
        return -ENOMEM;
    s->clients++;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    ibx_loop *loop = ibx_worker_loop(w);
    c->last_in_ms = c->opened_ms = ibx_loop_now(loop);
    flood_init(&c->flood, cfg->flood_burst, c->last_in_ms);
    snprintf(c->user, sizeof c->user, "~user");
    uint64_t first = cfg->reg_timeout_ms && cfg->reg_timeout_ms < CHATD_PROMPT_MS
                         ? cfg->reg_timeout_ms : CHATD_PROMPT_MS;
    tick_after(c, first);
    ibx_debug(s->log, "msg=\"connection opened\" peer=%s", c->host);
    return 0;
}

struct conn *conn_open_remote(struct chat_srv *s, ibx_worker *w, struct hub_edge *e,
                              uint64_t id, const char *host, const char **refused)
{
    *refused = refusal(s, host, ibx_loop_now(ibx_worker_loop(w)));
    if (*refused)
        return NULL;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->srv = s;
    c->remote = true;
    c->edge = e;
    c->rid = id;
    c->base.worker = w;   /* its loop; never registered with w */
    snprintf(c->host, sizeof c->host, "%s", host);
    if (conn_start(c, w) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

static int conn_open(ibx_worker *w, int fd, const struct sockaddr *peer, socklen_t peerlen,
                     void *ctx)
{
    struct chat_srv *s = ctx;
    char host[IBX_ADDRSTRLEN];
    host_of(peer, host, sizeof host);
    (void)peerlen;
    if (s->hub)   /* the core is elsewhere: this worker's edge owns fd */
        return edge_open(w, fd, host, s);
    const char *refuse = refusal(s, host, ibx_loop_now(ibx_worker_loop(w)));
    if (refuse) {
        char line[128];
        int n = snprintf(line, sizeof line, "ERROR :Closing Link: %s\r\n", refuse);
        (void)!send(fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        close(fd);
        return 0;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return -ENOMEM;
    }
    c->srv = s;
    memcpy(c->host, host, sizeof c->host);
    ibx_loop *loop = ibx_worker_loop(w);
    int r = ibx_io_start(loop, &c->io, fd, IBX_EV_READ | IBX_EV_RDHUP, on_io, c);
    if (r < 0) {
        close(fd);
        free(c);
        return r;
    }
    /* counted only once the connection is really there: a failure above
     * must not take one of the address's --max-per-addr slots for good */
    c->base.worker = w;
    if (conn_start(c, w) < 0) {
        ibx_io_stop(loop, &c->io);
        close(fd);
        free(c);
        return -ENOMEM;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    ibx_conn_add(w, &c->base, &conn_ops, false);
    return 0;
}

const struct ibx_proto chatd_proto = {.name = "chatd", .open = conn_open};
