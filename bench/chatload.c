/* Benchmark tool: chat fan-out load generator (make bench-chat).
 *
 *   chatload --proto irc|redis|nats|lines [-n MEMBERS] [--seconds S]
 *            [--window W | --rate R] [--size BYTES] [--idle]
 *            [--timeout S] [--room NAME] [--batch K] [--server-pid PID]...
 *            HOST:PORT [HOST:PORT...]
 *
 * MEMBERS subscriber connections join one room (IRC channel #NAME, Redis
 * pub/sub channel NAME, NATS subject NAME; `lines` = every line a client
 * sends is broadcast to the others, as `ncat --chat` does); one more
 * connection, the publisher, sends messages of BYTES bytes (default 64)
 * carrying a sequence number and the send time (CLOCK_MONOTONIC):
 *   default   closed loop: at most W messages (default 64) outstanding,
 *             a message being done once every subscriber has it;
 *   --rate R  fixed offered load: R messages/s whatever the deliveries
 *             (at most 65536 outstanding; beyond that the publisher waits
 *             and the shortfall is reported).
 * Every delivery is checked: each subscriber must see each message exactly
 * once, in order, intact. After S seconds (default 5) the publisher stops
 * and the tool waits for the last deliveries. One line on stdout:
 *   proto=irc members=10 sent=... deliveries=... seconds=...
 *   deliveries_per_s=... msgs_per_s=... p50_us=... p99_us=... max_us=...
 *   cpu_pct=... errors=0
 * cpu_pct is this tool's CPU share: near 100 means the tool, not the
 * server, set the pace.
 *   --server-pid PID  also print server_cpu_pct and server_ns_per_delivery:
 *             the CPU time of PID (threads and worker processes, from
 *             /proc: bench/proc_cpu.h) over the measured window, per
 *             delivery -- the server's cost even when the tool is the
 *             bottleneck. Repeatable (up to 8: the nodes of a chat and
 *             their Redis): the sum, then server_ns_by_pid=PID:NS,...
 *   Several addresses (the nodes of one chat, up to 8): the publisher
 *             connects to the first, member i to address i % count, and
 *             the latency is also given for the members on the
 *             publisher's address (local_p50_us, local_p99_us) and on the
 *             others (remote_p50_us, remote_p99_us).
 *   --idle    members connect and join, "ready N" is printed (stdout,
 *             flushed), and they stay idle (answering PINGs) for S seconds;
 *             then "idle done". For the server's RSS with N members.
 *
 *   --batch K members connect and register K at a time (default 64).
 *
 * One thread, one epoll loop. Only loopback targets are accepted; members
 * are at most 20000. Setup (connect, register, join, warm-up) is bounded by
 * --timeout (default 60 s), the drain by 10 s. Exit 0 when every delivery
 * verified, 1 on any loss, duplicate, reordering, corruption, protocol
 * error or timeout (with the reason on stderr), 2 on bad usage.
 *
 * Readiness before measuring: each member is ready once the server
 * confirmed the join (IRC 366 end of NAMES, Redis's subscribe reply, NATS
 * PONG after SUB, `lines`: connected); then the publisher sends warm-up
 * messages every 20 ms until every member has seen one, so that no
 * message of the run can be sent before a member is in the room. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/net.h"
#include "lat_hist.h"
#include "proc_cpu.h"

#define MAX_MEMBERS 20000
#define CARRY 2048          /* a partial message kept between reads */
#define SCRATCH (256 * 1024)
#define RATE_RING 65536     /* outstanding messages in --rate mode */

enum proto { P_IRC, P_REDIS, P_NATS, P_LINES };
static const char *proto_names[] = {"irc", "redis", "nats", "lines"};

enum cstate { C_NONE, C_CONNECTING, C_HANDSHAKE, C_READY, C_CLOSED };

struct conn {
    int fd;
    int idx;             /* member index, -1 for the publisher */
    enum cstate state;
    bool warm;           /* has seen a warm-up message */
    uint64_t expect;     /* next sequence number expected */
    int addr;            /* index of the address it connects to */
    uint32_t carry_len;
    char *carry;         /* CARRY bytes */
};

/* ---- options and global state ----------------------------------------- */
static enum proto proto = P_IRC;
static int members = 10;
static double seconds = 5;
static int window = 64;
static double rate = 0;
static int size = 64;
static bool idle_mode;
static double setup_timeout = 60;
static const char *room = "bench";
static int max_connecting = 64;   /* members in connect/registration at once */
/* --server-pid (repeatable): the servers whose CPU is counted */
#define MAX_PIDS 8
static long server_pids[MAX_PIDS];
static int npids;

/* the addresses: the publisher on the first, member i on i % naddr */
#define MAX_ADDRS 8
static ibx_addr targets[MAX_ADDRS];
static int naddr;
static int ep;
static struct conn *subs;
static struct conn pubc;
static char *scratch;

static int n_started, n_ready, n_warm, n_connecting;
static bool warm_phase, run_phase;

/* publisher side */
static uint64_t sent, done;          /* seq numbers sent / fully delivered */
static uint32_t *dcount;             /* deliveries per outstanding seq */
static uint64_t ring_mask;
static char *outb;
static size_t out_len, out_cap, out_off;
static bool want_out;

/* results */
static uint64_t deliveries, errors, lost, dups, corrupt, pub_mismatch;
static uint64_t behind;              /* --rate: most sends overdue at once */

/* latency: every delivery; with several addresses also split into the
 * members on the publisher's address and the others (lat_hist.h) */
static struct lat_hist lat_all, lat_local, lat_remote;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("chatload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void err_once(const char *what, int idx)
{
    errors++;
    if (errors <= 10)
        fprintf(stderr, "chatload: member %d: %s\n", idx, what);
}

/* ---- payload: "~S<seq 16 hex>.<time 16 hex>." then padding; warm-up
 * messages start with "~W". The padding depends on seq (checked). ------- */
static int payload_make(char *p, bool warm, uint64_t seq, uint64_t t)
{
    int n = snprintf(p, 64, "~%c%016" PRIx64 ".%016" PRIx64 ".",
                     warm ? 'W' : 'S', seq, t);
    for (int i = n; i < size; i++)
        p[i] = (char)('a' + (seq + (uint64_t)i) % 26);
    return size;
}

static int hexval(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static void member_got(struct conn *c, const char *p, size_t len);

static int n_closed;
static void mark_closed(struct conn *c)
{
    if (c->state != C_CLOSED)
        n_closed++;
    c->state = C_CLOSED;
}

/* A message body arrived at a member (p/len may hold a prefix, e.g. ncat's
 * "<user3> "; the payload is found by its marker). */
static void deliver(struct conn *c, const char *p, size_t len)
{
    const char *m = memmem(p, len, "~", 1);
    while (m && m + 1 < p + len && m[1] != 'S' && m[1] != 'W')
        m = memmem(m + 1, len - (size_t)(m + 1 - p), "~", 1);
    if (!m || (size_t)(p + len - m) < 36) {
        if (c->idx >= 0 && proto != P_LINES)
            err_once("message without a payload", c->idx);
        return;   /* lines: other chatter (announcements) */
    }
    member_got(c, m, (size_t)(p + len - m));
}

static void member_got(struct conn *c, const char *m, size_t len)
{
    uint64_t seq, t;
    if (hexval(m + 2, &seq) < 0 || m[18] != '.' || hexval(m + 19, &t) < 0 || m[35] != '.') {
        corrupt++;
        err_once("corrupt payload header", c->idx);
        return;
    }
    if (m[1] == 'W') {
        if (!c->warm) {
            c->warm = true;
            n_warm++;
        }
        return;
    }
    if (c->idx < 0)
        return;
    /* the body: exactly size bytes (trailing CR/LF already cut) */
    bool ok = len == (size_t)size;
    for (int i = 36; ok && i < size; i++)
        ok = m[i] == (char)('a' + (seq + (uint64_t)i) % 26);
    if (!ok) {
        corrupt++;
        err_once("corrupt payload body", c->idx);
        return;
    }
    if (seq != c->expect) {
        if (seq < c->expect) {
            dups++;
            err_once("duplicate or reordered message", c->idx);
            return;
        }
        lost += seq - c->expect;
        err_once("message lost", c->idx);
    }
    c->expect = seq + 1;
    if (seq >= sent || seq < done) {
        err_once("message outside the window", c->idx);
        return;
    }
    deliveries++;
    uint64_t nw = now_ns();
    lat_hist_add(&lat_all, nw > t ? nw - t : 0);
    if (naddr > 1)
        lat_hist_add(c->addr ? &lat_remote : &lat_local, nw > t ? nw - t : 0);
    uint32_t *slot = &dcount[seq & ring_mask];
    ++*slot;
    while (done < sent && dcount[done & ring_mask] >= (uint32_t)members) {
        dcount[done & ring_mask] = 0;
        done++;
    }
}

/* ---- output ---------------------------------------------------------- */
static void sub_write(struct conn *c, const char *s, size_t n)
{
    /* members write only a few small lines (registration, PONG): the
     * socket buffer takes them whole */
    ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
    if (w != (ssize_t)n) {
        err_once(w < 0 ? strerror(errno) : "short write", c->idx);
        mark_closed(c);
    }
}

static void pub_flush(void);

static void pub_put(const char *s, size_t n)
{
    if (out_len + n > out_cap) {
        if (out_off) {
            memmove(outb, outb + out_off, out_len - out_off);
            out_len -= out_off;
            out_off = 0;
        }
        while (out_len + n > out_cap) {
            out_cap = out_cap ? out_cap * 2 : 65536;
            outb = realloc(outb, out_cap);
            if (!outb)
                die("out of memory");
        }
    }
    memcpy(outb + out_len, s, n);
    out_len += n;
}

static void cwrite(struct conn *c, const char *s, size_t n)
{
    if (c->idx < 0) {
        pub_put(s, n);
        pub_flush();
    } else {
        sub_write(c, s, n);
    }
}

static void cprintf(struct conn *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cwrite(c, line, (size_t)n);
}

static void set_events(struct conn *c, uint32_t ev)
{
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
}

static void pub_flush(void)
{
    while (out_off < out_len) {
        ssize_t w = send(pubc.fd, outb + out_off, out_len - out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            die("publisher: send: %s", strerror(errno));
        }
        out_off += (size_t)w;
    }
    if (out_off == out_len)
        out_off = out_len = 0;
    bool want = out_len > 0;
    if (want != want_out) {
        want_out = want;
        set_events(&pubc, EPOLLIN | (want ? EPOLLOUT : 0));
    }
}

/* one message from the publisher */
static void publish(bool warm, uint64_t seq)
{
    char p[256], hdr[128];
    int n = payload_make(p, warm, seq, now_ns()), h;
    switch (proto) {
    case P_IRC:
        h = snprintf(hdr, sizeof hdr, "PRIVMSG #%s :", room);
        pub_put(hdr, (size_t)h);
        pub_put(p, (size_t)n);
        pub_put("\r\n", 2);
        break;
    case P_REDIS:
        h = snprintf(hdr, sizeof hdr, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%d\r\n",
                     strlen(room), room, n);
        pub_put(hdr, (size_t)h);
        pub_put(p, (size_t)n);
        pub_put("\r\n", 2);
        break;
    case P_NATS:
        h = snprintf(hdr, sizeof hdr, "PUB %s %d\r\n", room, n);
        pub_put(hdr, (size_t)h);
        pub_put(p, (size_t)n);
        pub_put("\r\n", 2);
        break;
    case P_LINES:
        pub_put(p, (size_t)n);
        pub_put("\n", 1);
        break;
    }
}

/* ---- protocol handshakes --------------------------------------------- */
/* IRC nicks carry a tag of this run (two letters from the pid) so that a
 * previous run's connections, still known to the server, neither collide
 * nor count: members accept PRIVMSG only from this run's publisher. Nicks
 * stay within 9 characters (RFC 2812; ngircd's default). */
static char run_tag[3];
static char pub_prefix[16];   /* ":<tag>pub!" */

static void nick_of(struct conn *c, char *buf, size_t n)
{
    if (c->idx < 0)
        snprintf(buf, n, "%spub", run_tag);
    else
        snprintf(buf, n, "%sm%d", run_tag, c->idx);
}

static void on_connected(struct conn *c)
{
    char nick[32];
    nick_of(c, nick, sizeof nick);
    c->state = C_HANDSHAKE;
    switch (proto) {
    case P_IRC:
        cprintf(c, "NICK %s\r\nUSER %s 0 * :chatload\r\n", nick, nick);
        break;
    case P_REDIS:
        if (c->idx >= 0)
            cprintf(c, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n", strlen(room), room);
        else
            c->state = C_READY;
        break;
    case P_NATS:
        break;   /* waits for INFO */
    case P_LINES:
        c->state = C_READY;
        break;
    }
}

static void became_ready(struct conn *c)
{
    if (c->state == C_READY)
        return;
    c->state = C_READY;
    if (c->idx >= 0) {
        n_ready++;
        n_connecting--;
    }
}

/* IRC: one line (no CR/LF) */
static void irc_line(struct conn *c, char *l, size_t len)
{
    char *end = l + len, *p = l;
    if (p < end && *p == ':') {   /* prefix */
        char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp)
            return;
        p = sp + 1;
    }
    char *sp = memchr(p, ' ', (size_t)(end - p));
    size_t clen = sp ? (size_t)(sp - p) : (size_t)(end - p);
    char *args = sp ? sp + 1 : end;
#define CMD(s) (clen == sizeof(s) - 1 && memcmp(p, s, clen) == 0)
    if (CMD("PRIVMSG")) {
        size_t pl = strlen(pub_prefix);
        if (len < pl || memcmp(l, pub_prefix, pl) != 0)
            return;   /* not from this run's publisher */
        char *t = memmem(args, (size_t)(end - args), " :", 2);
        if (t)
            deliver(c, t + 2, (size_t)(end - t - 2));
        else
            err_once("PRIVMSG without text", c->idx);
    } else if (CMD("PING")) {
        cprintf(c, "PONG %.*s\r\n", (int)(end - args), args);
    } else if (CMD("001")) {
        cprintf(c, "JOIN #%s\r\n", room);
    } else if (CMD("366")) {
        became_ready(c);
    } else if (CMD("ERROR")) {
        fprintf(stderr, "chatload: member %d: server: %.*s\n", c->idx, (int)len, l);
        errors++;
        mark_closed(c);
    } else if (clen == 3 && (p[0] == '4' || p[0] == '5') && !CMD("422")) {
        /* error numerics: nick in use, cannot join, flood... (422, "no
         * MOTD", is a server without one, not an error) */
        fprintf(stderr, "chatload: member %d: server: %.*s\n", c->idx, (int)len, l);
        errors++;
    }
#undef CMD
}

/* Redis: parse one RESP value (array of scalars or a scalar) at p.
 * Returns bytes used, 0 if incomplete, -1 if malformed. el/elen get up to
 * 4 elements (bulk strings or the text of simple values). */
static long resp_one(const char *p, size_t len, const char **el, size_t *elen, int *nel)
{
    const char *e = p + len, *q = p;
    int count = 1;
    *nel = 0;
    if (len < 1)
        return 0;
    const char *cr = memchr(q, '\r', len);
    if (!cr || cr + 1 >= e)
        return 0;
    if (*q == '*') {
        count = atoi(q + 1);
        if (count < 0 || count > 4)
            return -1;
        q = cr + 2;
    }
    for (int i = 0; i < count; i++) {
        if (q >= e)
            return 0;
        cr = memchr(q, '\r', (size_t)(e - q));
        if (!cr || cr + 1 >= e)
            return 0;
        if (*q == '$') {
            long n = atol(q + 1);
            if (n < 0 || n > 4096)
                return -1;
            const char *b = cr + 2;
            if (e - b < n + 2)
                return 0;
            el[i] = b;
            elen[i] = (size_t)n;
            q = b + n + 2;
        } else if (*q == ':' || *q == '+' || *q == '-') {
            el[i] = q;
            elen[i] = (size_t)(cr - q);
            q = cr + 2;
        } else {
            return -1;
        }
        (*nel)++;
    }
    return q - p;
}

static size_t parse_redis(struct conn *c, char *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        const char *el[4];
        size_t elen[4];
        int n;
        long used = resp_one(p + off, len - off, el, elen, &n);
        if (used == 0)
            break;
        if (used < 0) {
            err_once("malformed RESP", c->idx);
            mark_closed(c);
            return len;
        }
        off += (size_t)used;
        if (n == 3 && elen[0] == 7 && memcmp(el[0], "message", 7) == 0) {
            deliver(c, el[2], elen[2]);
        } else if (n == 3 && elen[0] == 9 && memcmp(el[0], "subscribe", 9) == 0) {
            became_ready(c);
        } else if (n == 1 && el[0][0] == ':' && c->idx < 0) {
            if (atol(el[0] + 1) != members)   /* PUBLISH: receivers */
                pub_mismatch++;
        } else if (n >= 1 && el[0][0] == '-') {
            fprintf(stderr, "chatload: member %d: redis: %.*s\n", c->idx,
                    (int)elen[0], el[0]);
            errors++;
        }
    }
    return off;
}

static size_t parse_nats(struct conn *c, char *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        char *l = p + off, *e = p + len;
        char *cr = memchr(l, '\n', (size_t)(e - l));
        if (!cr)
            break;
        size_t ll = (size_t)(cr - l);
        if (ll && l[ll - 1] == '\r')
            ll--;
        if (ll >= 4 && memcmp(l, "MSG ", 4) == 0) {
            /* MSG <subject> <sid> [reply-to] <#bytes> */
            char *sp = l + ll;
            while (sp > l && sp[-1] != ' ')
                sp--;
            long n = atol(sp);
            char *body = cr + 1;
            if (e - body < n + 2)
                break;
            deliver(c, body, (size_t)n);
            off = (size_t)(body + n + 2 - p);
            continue;
        }
        if (ll == 4 && memcmp(l, "PING", 4) == 0)
            cwrite(c, "PONG\r\n", 6);
        else if (ll == 4 && memcmp(l, "PONG", 4) == 0)
            became_ready(c);
        else if (ll >= 5 && memcmp(l, "INFO ", 5) == 0 && c->state == C_HANDSHAKE) {
            cprintf(c, "CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false,"
                       "\"name\":\"chatload\",\"lang\":\"c\",\"version\":\"1\"}\r\n");
            if (c->idx >= 0)
                cprintf(c, "SUB %s 1\r\n", room);
            cwrite(c, "PING\r\n", 6);
        } else if (ll >= 4 && memcmp(l, "-ERR", 4) == 0) {
            fprintf(stderr, "chatload: member %d: nats: %.*s\n", c->idx, (int)ll, l);
            errors++;
        }
        off = (size_t)(cr + 1 - p);
    }
    return off;
}

static size_t parse_lines(struct conn *c, char *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        char *l = p + off, *nl = memchr(l, '\n', len - off);
        if (!nl)
            break;
        size_t ll = (size_t)(nl - l);
        if (ll && l[ll - 1] == '\r')
            ll--;
        if (proto == P_IRC)
            irc_line(c, l, ll);
        else
            deliver(c, l, ll);
        off = (size_t)(nl + 1 - p);
    }
    return off;
}

static void on_readable(struct conn *c)
{
    memcpy(scratch, c->carry, c->carry_len);
    size_t have = c->carry_len;
    for (;;) {
        ssize_t r = recv(c->fd, scratch + have, SCRATCH - have, 0);
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            err_once(strerror(errno), c->idx);
            mark_closed(c);
            return;
        }
        if (r == 0) {
            err_once("server closed the connection", c->idx);
            mark_closed(c);
            return;
        }
        have += (size_t)r;
        if (have == SCRATCH || (size_t)r < 16384)
            break;
    }
    size_t used;
    switch (proto) {
    case P_REDIS: used = parse_redis(c, scratch, have); break;
    case P_NATS: used = parse_nats(c, scratch, have); break;
    default: used = parse_lines(c, scratch, have); break;
    }
    if (c->state == C_CLOSED)
        return;
    size_t rest = have - used;
    if (rest > CARRY) {
        err_once("message too long", c->idx);
        mark_closed(c);
        return;
    }
    memmove(c->carry, scratch + used, rest);
    c->carry_len = (uint32_t)rest;
}

/* ---- connections ------------------------------------------------------ */
static void conn_open(struct conn *c, int idx)
{
    c->idx = idx;
    c->addr = idx < 0 ? 0 : idx % naddr;
    c->carry = malloc(CARRY);
    if (!c->carry)
        die("out of memory");
    c->fd = ibx_tcp_connect(&targets[c->addr]);
    if (c->fd < 0)
        die("connect: %s", strerror(-c->fd));
    ibx_tcp_nodelay(c->fd, true);
    c->state = C_CONNECTING;
    struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
        die("epoll_ctl: %s", strerror(errno));
}

static void on_event(struct conn *c, uint32_t ev)
{
    if (c->state == C_CLOSED)
        return;
    if (c->state == C_CONNECTING) {
        int err = ibx_sock_error(c->fd);
        if (err < 0) {
            err_once(strerror(-err), c->idx);
            mark_closed(c);
            return;
        }
        if (!(ev & (EPOLLOUT | EPOLLIN)))
            return;
        set_events(c, EPOLLIN);
        if (c == &pubc)
            want_out = false;
        on_connected(c);
        if (c->idx >= 0 && c->state == C_READY) {
            n_ready++;
            n_connecting--;
        }
        if (c->state == C_CLOSED)
            return;
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(c);
    if (c == &pubc && (ev & EPOLLOUT) && c->state != C_CLOSED)
        pub_flush();
}

static void usage(void)
{
    fprintf(stderr,
            "usage: chatload --proto irc|redis|nats|lines [-n MEMBERS] [--seconds S]\n"
            "                [--window W | --rate R] [--size BYTES] [--idle]\n"
            "                [--timeout S] [--room NAME] [--batch K] [--server-pid PID]...\n"
            "                HOST:PORT...   (loopback only; up to 8)\n");
    exit(2);
}

static bool loopback(const ibx_addr *a)
{
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)&a->ss;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)&a->ss;
        return IN6_IS_ADDR_LOOPBACK(&s->sin6_addr);
    }
    return false;
}

static void fail_if_closed(void)
{
    if (!n_closed)
        return;
    if (pubc.state == C_CLOSED)
        die("publisher lost its connection");
    for (int i = 0; i < n_started; i++)
        if (subs[i].state == C_CLOSED)
            die("member %d lost its connection (%" PRIu64 " errors)", i, errors);
}

static void loop_wait(double timeout_s)
{
    struct epoll_event evs[512];
    struct timespec ts = {.tv_sec = (time_t)timeout_s,
                          .tv_nsec = (long)((timeout_s - (double)(time_t)timeout_s) * 1e9)};
    int n = epoll_pwait2(ep, evs, 512, &ts, NULL);
    if (n < 0 && errno != EINTR)
        die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++)
        on_event(evs[i].data.ptr, evs[i].events);
}

static void loop_once(int timeout_ms)
{
    loop_wait(timeout_ms / 1000.0);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"proto", required_argument, 0, 'p'}, {"members", required_argument, 0, 'n'},
        {"seconds", required_argument, 0, 's'}, {"window", required_argument, 0, 'w'},
        {"rate", required_argument, 0, 'r'}, {"size", required_argument, 0, 'b'},
        {"idle", no_argument, 0, 'i'}, {"timeout", required_argument, 0, 't'},
        {"room", required_argument, 0, 'R'}, {"help", no_argument, 0, 'h'},
        {"batch", required_argument, 0, 'B'}, {"server-pid", required_argument, 0, 'P'},
        {0, 0, 0, 0}};
    int o;
    bool have_window = false;
    while ((o = getopt_long(argc, argv, "p:n:s:w:r:b:it:R:h", lo, NULL)) != -1) {
        switch (o) {
        case 'p':
            for (proto = 0; proto < 4 && strcmp(optarg, proto_names[proto]); proto++)
                ;
            if (proto == 4)
                usage();
            break;
        case 'n': members = atoi(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'w': window = atoi(optarg); have_window = true; break;
        case 'r': rate = atof(optarg); break;
        case 'b': size = atoi(optarg); break;
        case 'i': idle_mode = true; break;
        case 't': setup_timeout = atof(optarg); break;
        case 'R': room = optarg; break;
        case 'B': max_connecting = atoi(optarg); break;
        case 'P':
            if (npids == MAX_PIDS)
                usage();
            server_pids[npids++] = atol(optarg);
            break;
        default: usage();
        }
    }
    naddr = argc - optind;
    if (naddr < 1 || naddr > MAX_ADDRS || members < 1 || members > MAX_MEMBERS || seconds <= 0 ||
        seconds > 3600 || window < 1 || window > RATE_RING || rate < 0 || size < 40 ||
        size > 200 || max_connecting < 1 || setup_timeout <= 0 || strlen(room) > 32 || (have_window && rate > 0))
        usage();
    for (int i = 0; i < naddr; i++) {
        ibx_addr *a = &targets[i];
        if (ibx_addr_parse(argv[optind + i], "127.0.0.1", 0, a) < 0 ||
            ibx_addr_port((void *)&a->ss) == 0)
            usage();
        if (!loopback(a)) {
            fprintf(stderr, "chatload: %s: only loopback targets (127.0.0.0/8, ::1)\n",
                    argv[optind + i]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)members + 16)
        die("%d members need %d descriptors; the limit is %llu (ulimit -n)", members,
            members + 16, (unsigned long long)rl.rlim_cur);

    uint64_t ring = 1;
    while (ring < (uint64_t)(rate > 0 ? RATE_RING : window))
        ring <<= 1;
    ring_mask = ring - 1;
    dcount = calloc(ring, sizeof *dcount);
    subs = calloc((size_t)members, sizeof *subs);
    scratch = malloc(SCRATCH);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!dcount || !subs || !scratch || ep < 0)
        die("setup failed");
    pubc.idx = -1;
    run_tag[0] = (char)('a' + getpid() % 26);
    run_tag[1] = (char)('a' + getpid() / 26 % 26);
    snprintf(pub_prefix, sizeof pub_prefix, ":%spub!", run_tag);

    /* 1. members connect and join, MAX_CONNECTING at a time */
    double t_setup = now_s();
    while (n_ready < members) {
        while (n_started < members && n_connecting < max_connecting) {
            conn_open(&subs[n_started], n_started);
            n_started++;
            n_connecting++;
        }
        loop_once(20);
        fail_if_closed();
        if (now_s() - t_setup > setup_timeout)
            die("setup timeout: %d of %d members joined", n_ready, members);
    }
    if (idle_mode) {
        printf("ready %d\n", n_ready);
        fflush(stdout);
        double t0 = now_s();
        while (now_s() - t0 < seconds) {
            loop_once(100);
            fail_if_closed();
        }
        printf("idle done errors=%" PRIu64 "\n", errors);
        return errors ? 1 : 0;
    }

    /* 2. the publisher */
    conn_open(&pubc, -1);
    while (pubc.state != C_READY) {
        loop_once(20);
        fail_if_closed();
        if (now_s() - t_setup > setup_timeout)
            die("setup timeout: the publisher is not ready");
    }

    /* 3. warm-up: until every member has seen a warm-up message */
    warm_phase = true;
    double last_warm = 0;
    while (n_warm < members) {
        if (now_s() - last_warm > 0.02) {
            publish(true, 0);
            pub_flush();
            last_warm = now_s();
        }
        loop_once(5);
        fail_if_closed();
        if (now_s() - t_setup > setup_timeout)
            die("setup timeout: %d of %d members saw the warm-up", n_warm, members);
    }
    /* let the last warm-up messages arrive before counting */
    double tw = now_s();
    while (now_s() - tw < 0.1)
        loop_once(10);
    warm_phase = false;

    /* 4. the run */
    run_phase = true;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double scpu0[MAX_PIDS];
    for (int i = 0; i < npids; i++)
        scpu0[i] = proc_cpu_s(server_pids[i]);
    double t0 = now_s(), tend = t0 + seconds, last_progress = t0;
    uint64_t last_done = 0;
    int limit = rate > 0 ? RATE_RING : window;
    while (now_s() < tend) {
        if (rate > 0) {
            uint64_t due = (uint64_t)((now_s() - t0) * rate) + 1;
            while (sent < due) {
                if (sent - done >= (uint64_t)limit) {
                    if (due - sent > behind)
                        behind = due - sent;
                    break;
                }
                publish(false, sent++);
            }
        } else {
            while (sent - done < (uint64_t)limit)
                publish(false, sent++);
        }
        pub_flush();
        if (rate > 0) {
            /* sleep until the next send is due (epoll_pwait2: ns timeout) */
            double next = t0 + (double)sent / rate - now_s();
            loop_wait(next > 0 ? (next < 0.1 ? next : 0.1) : 0);
        } else {
            loop_once(100);
        }
        fail_if_closed();
        if (done != last_done) {
            last_done = done;
            last_progress = now_s();
        } else if (now_s() - last_progress > 5) {
            die("no progress for 5 s (%" PRIu64 " sent, %" PRIu64 " delivered to all)", sent, done);
        }
    }
    /* 5. drain: every member gets every message sent */
    double td = now_s();
    while (done < sent && now_s() - td < 10) {
        pub_flush();
        loop_once(10);
        fail_if_closed();
    }
    double t1 = now_s();
    getrusage(RUSAGE_SELF, &ru1);
    double scpu_of[MAX_PIDS], scpu = 0;
    for (int i = 0; i < npids; i++)
        scpu += scpu_of[i] = proc_cpu_s(server_pids[i]) - scpu0[i];
    if (done < sent) {
        fprintf(stderr, "chatload: drain timeout: %" PRIu64 " of %" PRIu64 " messages reached every member\n",
                done, sent);
        errors++;
    }
    for (int i = 0; i < members; i++)
        if (subs[i].expect != sent) {
            if (subs[i].expect < sent)
                lost += sent - subs[i].expect;
            err_once("did not get every message", i);
        }
    if (pub_mismatch) {
        fprintf(stderr, "chatload: %" PRIu64 " PUBLISH replies named another receiver count than %d\n",
                pub_mismatch, members);
        errors++;
    }
    double wall = t1 - t0;
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
                          ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
                          ru0.ru_stime.tv_usec) / 1e6;
    printf("proto=%s members=%d mode=%s sent=%" PRIu64 " deliveries=%" PRIu64
           " seconds=%.3f deliveries_per_s=%.0f msgs_per_s=%.0f p50_us=%.1f p99_us=%.1f"
           " max_us=%.1f cpu_pct=%.0f behind=%" PRIu64 " lost=%" PRIu64 " dups=%" PRIu64
           " corrupt=%" PRIu64 " errors=%" PRIu64,
           proto_names[proto], members, rate > 0 ? "rate" : "window", sent, deliveries, wall,
           deliveries / wall, sent / wall, lat_hist_pct(&lat_all, 0.50), lat_hist_pct(&lat_all, 0.99), lat_all.max / 1000.0,
           100 * cpu / wall, behind, lost, dups, corrupt, errors);
    if (naddr > 1)   /* members on the publisher's address, and the others */
        printf(" local_p50_us=%.1f local_p99_us=%.1f remote_p50_us=%.1f remote_p99_us=%.1f",
               lat_hist_pct(&lat_local, 0.50), lat_hist_pct(&lat_local, 0.99),
               lat_hist_pct(&lat_remote, 0.50), lat_hist_pct(&lat_remote, 0.99));
    if (npids) {   /* the servers' cost, whoever set the pace */
        double per = deliveries ? 1e9 / (double)deliveries : 0;
        printf(" server_cpu_pct=%.0f server_ns_per_delivery=%.0f", 100 * scpu / wall,
               scpu * per);
        for (int i = 0; npids > 1 && i < npids; i++)
            printf("%s%ld:%.0f", i ? "," : " server_ns_by_pid=", server_pids[i],
                   scpu_of[i] * per);
    }
    printf("\n");
    return errors || lost || dups || corrupt ? 1 : 0;
}
