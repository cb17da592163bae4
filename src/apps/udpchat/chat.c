/* The chat itself: a datagram from the network is checked (size, codec,
 * its source, our own id, the sender's sequence window, the rate of its
 * source address, the total rate and its sender's rate) before anything
 * is shown. A sender is an id heard from one source address and port:
 * the same id from elsewhere is another peer (counted `spoofed`) and
 * changes nothing of the first one; a typed line becomes messages or a /command;
 * presence goes out on its own jittered schedule and never in answer to
 * anything. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "chat/chat.h"
#include "udpchat.h"

/* A peer not heard announcing yet expires as if it announced every 5 s. */
#define DEFAULT_INTERVAL_MS 5000u
/* The total rate of every sender together, in multiples of --rate. */
#define TOTAL_RATE_FACTOR 8u
/* The rate of one source address (every sender id from it), likewise:
 * a few peers may share a host. */
#define ADDR_RATE_FACTOR 2u

static void show(struct uc_chat *c, const char *line)
{
    c->show(c->show_ctx, line);
}

static void notice(struct uc_chat *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void notice(struct uc_chat *c, const char *fmt, ...)
{
    char line[UC_SHOW_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(line, sizeof line, "*** ");
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    show(c, line);
}

static const char *color_of(const struct uc_chat *c, const char *nick)
{
    return c->color ? chat_nick_color(nick) : NULL;
}

/* "nick@host" of a peer, for notices. */
static const char *who(const struct uc_chat *c, const struct uc_peer *p, char *buf, size_t size)
{
    uc_format_who(buf, size, p->nick, p->host, color_of(c, p->nick));
    return buf;
}

int uc_chat_init(struct uc_chat *c, const struct uc_cfg *cfg, struct uc_net *net,
                 const char *nick, uint64_t now_ms)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->net = net;
    snprintf(c->nick, sizeof c->nick, "%s", nick);
    uint64_t r[3];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -EIO;
    c->id = r[0] ? r[0] : 1;
    c->seq = (uint32_t)r[1] >> 1;     /* a random start: no two runs alike */
    c->rng = r[2] | 1;
    uc_bucket_init(&c->all, cfg->rate * TOTAL_RATE_FACTOR * 2, now_ms);
    uc_bucket_init(&c->pace, cfg->send_rate * 2, now_ms);
    ibx_log_gate_init(&c->gate, 10, 60000);
    return uc_peers_init(&c->peers, cfg->max_peers, cfg->rate * 2,
                         cfg->rate * ADDR_RATE_FACTOR * 2, r[2]);
}

void uc_chat_free(struct uc_chat *c)
{
    uc_peers_free(&c->peers);
}

/* ---- sending ---------------------------------------------------------- */

static void transmit(struct uc_chat *c, const struct ibx_udpchat_pkt *p, int copies,
                     uint64_t now_ms)
{
    unsigned char buf[IBX_UDPCHAT_MAX];
    int n = ibx_udpchat_encode(buf, sizeof buf, p);
    if (n < 0) {
        notice(c, "cannot encode a %s: %s", ibx_udpchat_type_name(p->type), strerror(-n));
        return;
    }
    uc_bucket_charge(&c->pace, c->cfg->send_rate, c->cfg->send_rate * 2, now_ms);
    for (int k = 0; k < copies; k++) {
        int before[UC_DEST_MAX];
        for (size_t i = 0; i < c->net->ndest; i++)
            before[i] = c->net->dest[i].last_err;
        size_t failed = uc_net_send(c->net, buf, (size_t)n);
        c->st.sent += c->net->ndest - failed;
        c->st.send_errors += failed;
        /* one notice when a destination starts failing, one when it recovers */
        for (size_t i = 0; i < c->net->ndest; i++) {
            const struct uc_dest *d = &c->net->dest[i];
            if (d->last_err && d->last_err != before[i])
                notice(c, "cannot send to %s: %s", d->label, strerror(-d->last_err));
            else if (!d->last_err && before[i])
                notice(c, "sending to %s again", d->label);
        }
    }
    if (!c->net->ndest && p->type == IBX_UDPCHAT_MESSAGE)
        notice(c, "not sent: no interface to broadcast on");
}

static struct ibx_udpchat_pkt packet(struct uc_chat *c, enum ibx_udpchat_type type)
{
    struct ibx_udpchat_pkt p = {.type = type, .sender = c->id, .seq = ++c->seq,
                                .nick = c->nick, .nick_len = strlen(c->nick)};
    return p;
}

void uc_chat_presence(struct uc_chat *c, uint64_t now_ms)
{
    if (c->quitting)
        return;
    uc_net_refresh(c->net);
    struct ibx_udpchat_pkt p = packet(c, IBX_UDPCHAT_PRESENCE);
    p.interval_ms = c->cfg->presence_ms;
    transmit(c, &p, 1, now_ms);
}

uint64_t uc_chat_presence_delay(struct uc_chat *c)
{
    /* xorshift64: 80% to 100% of the interval, never later (so that three
     * intervals missed means three announcements missed) */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    uint64_t span = c->cfg->presence_ms / 5;
    return c->cfg->presence_ms - (span ? c->rng % (span + 1) : 0);
}

void uc_chat_leave(struct uc_chat *c, uint64_t now_ms)
{
    if (c->quitting)
        return;
    struct ibx_udpchat_pkt p = packet(c, IBX_UDPCHAT_LEAVE);
    transmit(c, &p, 2, now_ms);       /* the same bytes twice: one may be lost,
                                       * the second copy of the pair is a dup */
    c->quitting = true;
}

/* Send text (one typed line, valid UTF-8) as messages of at most
 * IBX_UDPCHAT_TEXT_MAX bytes, cut at character boundaries. */
static void say(struct uc_chat *c, const char *text, uint64_t now_ms)
{
    size_t len = strlen(text);
    while (len) {
        size_t n = len > IBX_UDPCHAT_TEXT_MAX ? IBX_UDPCHAT_TEXT_MAX : len;
        while (n < len && n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--;
        struct ibx_udpchat_pkt p = packet(c, IBX_UDPCHAT_MESSAGE);
        p.text = text;
        p.text_len = n;
        transmit(c, &p, 1, now_ms);
        if (c->echo) {
            char line[UC_SHOW_MAX], t[IBX_UDPCHAT_TEXT_MAX + 1];
            uc_clean(t, sizeof t, text, n);
            const char *col = color_of(c, c->nick);
            if (col)
                snprintf(line, sizeof line, "\033[%sm%s\033[39m: %s", col, c->nick, t);
            else
                snprintf(line, sizeof line, "%s: %s", c->nick, t);
            show(c, line);
        }
        text += n;
        len -= n;
    }
}

/* ---- commands --------------------------------------------------------- */

static const char help_text[] =
    "*** text is sent to everyone; //text sends /text\n"
    "*** /who          the peers heard from\n"
    "*** /nick NAME    change nick (announced at once)\n"
    "*** /stats        counters: received, shown, dropped by reason, sent\n"
    "*** /quit         leave (also: the end of input, Ctrl-D, Ctrl-C)\n"
    "*** /help         this text";

static void cmd_who(struct uc_chat *c, uint64_t now_ms)
{
    size_t live = 0;
    for (size_t i = 0; i < c->peers.n; i++)
        live += !c->peers.v[i].gone;
    notice(c, "%zu peer%s around (you are %s, id %016" PRIx64 ")", live, live == 1 ? "" : "s",
           c->nick, c->id);
    for (size_t i = 0; i < c->peers.n; i++) {
        const struct uc_peer *p = &c->peers.v[i];
        if (p->gone)
            continue;
        char w[UC_SHOW_MAX / 4];
        notice(c, "  %s (id %016" PRIx64 ", here %" PRIu64 " s, last heard %" PRIu64 " s ago)",
               who(c, p, w, sizeof w), p->id, (now_ms - p->first_ms) / 1000,
               (now_ms - p->last_ms) / 1000);
    }
}

void uc_chat_stats_fields(const struct uc_chat *c, char *out, size_t size)
{
    const struct uc_stats *s = &c->st;
    snprintf(out, size,
             "received=%" PRIu64 " shown=%" PRIu64 " own=%" PRIu64 " duplicate=%" PRIu64
             " old=%" PRIu64 " jump=%" PRIu64 " malformed=%" PRIu64 " oversized=%" PRIu64
             " version=%" PRIu64 " foreign=%" PRIu64 " spoofed=%" PRIu64 " rate=%" PRIu64
             " peers=%zu evicted=%" PRIu64 " expired=%" PRIu64 " sent=%" PRIu64
             " send_errors=%" PRIu64,
             s->received, s->shown, s->own, s->dup, s->old, s->jump, s->malformed,
             s->oversized, s->version, s->foreign, s->spoofed, s->rate, c->peers.n,
             s->evicted, s->expired, s->sent, s->send_errors);
}

static void cmd_nick(struct uc_chat *c, const char *arg, uint64_t now_ms)
{
    while (*arg == ' ')
        arg++;
    size_t n = strcspn(arg, " ");
    if (!n || arg[n] || !ibx_udpchat_nick_valid(arg, n)) {
        notice(c, "usage: /nick NAME (1 to %d bytes of UTF-8, no space, '@' or control)",
               IBX_UDPCHAT_NICK_MAX);
        return;
    }
    snprintf(c->nick, sizeof c->nick, "%s", arg);
    notice(c, "you are now %s", c->nick);
    uc_chat_presence(c, now_ms);
}

void uc_chat_input(struct uc_chat *c, const char *line, uint64_t now_ms)
{
    if (c->quitting || !*line)
        return;
    /* what is not well-formed UTF-8 (or NUL) is sent as '?' */
    char text[UC_LINE_MAX + 1];
    size_t len = strlen(line), k = 0;
    if (len > UC_LINE_MAX)
        len = UC_LINE_MAX;
    while (k < len) {
        size_t ok = ibx_udpchat_utf8_span(line + k, len - k);
        memcpy(text + k, line + k, ok);
        k += ok;
        if (k < len)
            text[k++] = '?';
    }
    text[len] = '\0';
    if (text[0] != '/' || text[1] == '/') {
        say(c, text[0] == '/' ? text + 1 : text, now_ms);
        return;
    }
    char *arg = text + 1 + strcspn(text + 1, " ");
    if (*arg)
        *arg++ = '\0';
    const char *cmd = text + 1;
    if (!strcmp(cmd, "quit")) {
        uc_chat_leave(c, now_ms);
    } else if (!strcmp(cmd, "who")) {
        cmd_who(c, now_ms);
    } else if (!strcmp(cmd, "nick")) {
        cmd_nick(c, arg, now_ms);
    } else if (!strcmp(cmd, "stats")) {
        char f[512];
        uc_chat_stats_fields(c, f, sizeof f);
        notice(c, "stats %s", f);
    } else if (!strcmp(cmd, "help")) {
        for (const char *p = help_text; *p;) {
            size_t n = strcspn(p, "\n");
            char l[256];
            snprintf(l, sizeof l, "%.*s", (int)n, p);
            show(c, l);
            p += n + (p[n] == '\n');
        }
    } else {
        char name[64];
        uc_clean(name, sizeof name, cmd, strnlen(cmd, 16));
        notice(c, "unknown command /%s (/help lists them)", name);
    }
}

/* ---- receiving -------------------------------------------------------- */

/* Why a datagram was dropped, for the (gated) debug log. */
static void dropped(struct uc_chat *c, uint64_t *counter, const char *why, const char *host,
                    uint64_t now_ms)
{
    (*counter)++;
    unsigned long held = 0;
    if (ibx_log_enabled(c->log, IBX_LOG_DEBUG) && ibx_log_gate_pass(&c->gate, now_ms, &held)) {
        if (held)
            ibx_debug(c->log, "msg=\"drop lines not logged\" count=%lu", held);
        ibx_debug(c->log, "msg=dropped reason=%s from=%s", why, host);
    }
}

/* The host part of src ("10.0.0.2", "fe80::1%eth0"). */
static void host_of(const struct sockaddr *src, char *out, size_t size)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (src->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)src)->sin_addr, a, sizeof a);
        snprintf(out, size, "%s", a);
    } else if (src->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
        char ifn[IF_NAMESIZE];
        if (s6->sin6_scope_id && if_indextoname(s6->sin6_scope_id, ifn))
            snprintf(out, size, "%s%%%s", a, ifn);
        else
            snprintf(out, size, "%s", a);
    } else {
        snprintf(out, size, "?");
    }
}

/* Add the sender of p, heard from ep, with a notice. */
static struct uc_peer *sender(struct uc_chat *c, const struct ibx_udpchat_pkt *p,
                              const struct uc_ep *ep, bool other, const char *host,
                              uint64_t now_ms)
{
    struct uc_peer ev;
    bool was;
    struct uc_peer *peer =
        uc_peers_add(&c->peers, p->sender, ep, now_ms, DEFAULT_INTERVAL_MS, &ev, &was);
    if (was)
        dropped(c, &c->st.evicted, "evicted", ev.host, now_ms);
    snprintf(peer->nick, sizeof peer->nick, "%.*s", (int)p->nick_len, p->nick);
    snprintf(peer->host, sizeof peer->host, "%s", host);
    char w[UC_SHOW_MAX / 4];
    notice(c, "%s is here%s", who(c, peer, w, sizeof w),
           other ? " (with the sender id of a peer at another address)" : "");
    return peer;
}

/* Check a decoded datagram from ep against its source and its sender:
 * returns the peer (added, with a notice, when new), or NULL after
 * counting why it is dropped. */
static struct uc_peer *admit(struct uc_chat *c, const struct ibx_udpchat_pkt *p,
                             const struct uc_ep *ep, const char *host, uint64_t now_ms)
{
    if (!uc_net_accepts(c->net, ep)) {
        dropped(c, &c->st.foreign, "not-a-to-peer", host, now_ms);
        return NULL;
    }
    bool other;
    struct uc_peer *peer = uc_peers_find(&c->peers, p->sender, ep, &other);
    if (other)
        c->st.spoofed++;              /* counted; it is a peer of its own */
    if (peer) {
        enum uc_seq_verdict v = uc_window_check(&peer->win, p->seq);
        if (v == UC_SEQ_DUP) {
            dropped(c, &c->st.dup, "duplicate", host, now_ms);
            return NULL;
        }
        if (v == UC_SEQ_JUMP) {
            dropped(c, &c->st.jump, "sequence-jump", host, now_ms);
            return NULL;
        }
        if (v == UC_SEQ_OLD || peer->gone) {
            dropped(c, &c->st.old, peer->gone ? "after-leave" : "old", host, now_ms);
            return NULL;
        }
    } else if (p->type == IBX_UDPCHAT_LEAVE) {
        return NULL;                  /* a stranger's goodbye: nothing to say */
    }
    unsigned rate = c->cfg->rate, total = rate * TOTAL_RATE_FACTOR;
    unsigned addr_rate = rate * ADDR_RATE_FACTOR;
    struct uc_source *src = uc_peers_source(&c->peers, ep, now_ms);
    if (!src || !uc_bucket_take(&src->bucket, addr_rate, addr_rate * 2, now_ms)) {
        dropped(c, &c->st.rate, "address-rate", host, now_ms);
        return NULL;
    }
    if (!peer && src->npeers >= UC_ADDR_PEERS) {
        dropped(c, &c->st.rate, "address-peers", host, now_ms);
        return NULL;
    }
    if (!uc_bucket_take(&c->all, total, total * 2, now_ms)) {
        dropped(c, &c->st.rate, "total-rate", host, now_ms);
        return NULL;
    }
    if (!peer)
        peer = sender(c, p, ep, other, host, now_ms);
    if (!uc_bucket_take(&peer->bucket, rate, rate * 2, now_ms)) {
        dropped(c, &c->st.rate, "rate", host, now_ms);
        return NULL;
    }
    uc_window_mark(&peer->win, p->seq);
    peer->last_ms = now_ms;
    return peer;
}

void uc_chat_datagram(struct uc_chat *c, const void *buf, size_t len, size_t kept,
                      const struct sockaddr *src, socklen_t srclen, uint64_t now_ms)
{
    char host[UC_HOST_MAX];
    host_of(src, host, sizeof host);
    c->st.received++;
    struct ibx_udpchat_pkt p;
    int r = len > kept ? -EMSGSIZE : ibx_udpchat_decode(buf, len, &p);
    if (r == -EMSGSIZE) {
        dropped(c, &c->st.oversized, "oversized", host, now_ms);
        return;
    }
    if (r == -EPROTONOSUPPORT) {
        dropped(c, &c->st.version, "version", host, now_ms);
        return;
    }
    if (r < 0) {
        dropped(c, &c->st.malformed, "malformed", host, now_ms);
        return;
    }
    if (p.sender == c->id) {
        c->st.own++;                  /* our own, looped back */
        return;
    }
    struct uc_ep ep = uc_ep_of(src, srclen);
    struct uc_peer *peer = admit(c, &p, &ep, host, now_ms);
    if (!peer)
        return;
    char w[UC_SHOW_MAX / 4], nick[IBX_UDPCHAT_NICK_MAX + 1];
    snprintf(nick, sizeof nick, "%.*s", (int)p.nick_len, p.nick);
    if (strcmp(nick, peer->nick) != 0) {
        who(c, peer, w, sizeof w);
        snprintf(peer->nick, sizeof peer->nick, "%s", nick);
        char now[UC_SHOW_MAX / 4];
        notice(c, "%s is now known as %s", w, who(c, peer, now, sizeof now));
    }
    switch (p.type) {
    case IBX_UDPCHAT_MESSAGE: {
        char line[UC_SHOW_MAX];
        uc_format_message(line, sizeof line, peer->nick, peer->host, p.text, p.text_len,
                          color_of(c, peer->nick));
        c->st.shown++;
        show(c, line);
        break;
    }
    case IBX_UDPCHAT_PRESENCE:
        peer->interval_ms = p.interval_ms;
        break;
    case IBX_UDPCHAT_LEAVE:
        notice(c, "%s left", who(c, peer, w, sizeof w));
        peer->gone = true;            /* kept a while: late copies are dropped */
        break;
    }
}

uint64_t uc_chat_sweep(struct uc_chat *c, uint64_t now_ms)
{
    struct uc_peer *p;
    while ((p = uc_peers_expired(&c->peers, now_ms)) != NULL) {
        if (!p->gone) {
            char w[UC_SHOW_MAX / 4];
            c->st.expired++;
            notice(c, "%s timed out (silent for %" PRIu64 " s)", who(c, p, w, sizeof w),
                   (now_ms - p->last_ms + 500) / 1000);
        }
        uc_peers_remove(&c->peers, p);
    }
    uint64_t next = 1000;
    for (size_t i = 0; i < c->peers.n; i++) {
        uint64_t e = uc_peer_expiry(&c->peers.v[i]);
        if (e - now_ms < next)
            next = e - now_ms;
    }
    return next < 50 ? 50 : next;
}
