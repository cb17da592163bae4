/* Benchmark tool: the load of bench/models.sh (make bench-models), the
 * C10K curve of every server model.
 *
 *   modelload run --proto echo|http [-c CONNS] [--seconds S] [--warmup S]
 *                 [--size BYTES] [--path PATH] [--server-pid PID] HOST:PORT
 *       CONNS keep-alive connections (default 50), each with one request
 *       outstanding (closed loop): echo sends BYTES (default 64) and checks
 *       every byte of the echo; http sends GET PATH (default /1k.html) and
 *       checks the status (200), the Content-Length (BYTES when --size is
 *       given) and that the body is exactly that long. After the warm-up
 *       (default 0.5 s) responses are counted for S seconds (default 3).
 *       One line on stdout:
 *         mode=run proto=echo conns=50 requests=... seconds=...
 *         req_per_s=... cpu_pct=... starved=0
 *       cpu_pct is this tool's CPU share (near 100: the tool, not the
 *       server, set the pace); starved counts connections that got no
 *       response in the window (a server serving one client at a time).
 *       With --server-pid: server_cpu_pct and server_us_per_req, the CPU
 *       time of PID and its worker processes over the window (their
 *       process CPU clocks, with the threads and children that ended in
 *       it), per request.
 *
 *   modelload idle --proto echo|http [--src A,B,...] [--batch K]
 *                  [--stall S] [--size BYTES] [--path PATH] HOST:PORT
 *       Idle connections, grown on command. Each line on stdin is a
 *       number N: open connections until N are held, each after one
 *       complete request/response (so the server has accepted it and it
 *       sits idle in keep-alive), at most K (default 128) being set up at
 *       once, bound to the source addresses A, B, ... in turn (default
 *       127.0.0.1; several addresses give more than the ~28,000 ephemeral
 *       ports of one), then print
 *         ready have=N lost=L seconds=T
 *       If no connection completes for S seconds (default 5; a server at
 *       its connection cap stops accepting) or one fails (refused, closed
 *       by the server), the connections being set up are dropped, growing
 *       stops and it prints
 *         stalled have=H target=N lost=L reason=...
 *       The line "check" prints "held have=H lost=L" (lost: idle
 *       connections the server closed). At EOF on stdin every connection is
 *       reset (SO_LINGER 0: no TIME_WAIT left behind) and the tool exits 0
 *       if none was lost.
 *
 *   modelload accept [-c CONCURRENCY] [--seconds S] [--warmup S]
 *                    [--src A,B,...] [--server-pid PID] HOST:PORT
 *       The accept rate: CONCURRENCY (default 64) connections at a time,
 *       each closed by the client as soon as it is established
 *       (shutdown(SHUT_WR)) and counted once the server closed its side too
 *       (so it was accepted, read and closed by the server). One line:
 *         mode=accept concurrency=64 conns=... seconds=... conns_per_s=...
 *         cpu_pct=... [server_cpu_pct=... server_us_per_conn=...]
 *
 *   modelload cpu PID
 *       One line: cpu_s=... the CPU seconds --server-pid PID would count
 *       so far (what the windows above take differences of).
 *
 * One thread, one epoll loop. Only loopback targets (127.0.0.0/8) are
 * accepted. Every wait is bounded: a run fails when no response came for
 * --stall seconds (default 5; 10 for accept), the connects of `run` time
 * out after 10 s. Exit 0 on success, 1 on any verification failure,
 * unexpected close, stall or a run without any response (the reason on
 * stderr), 2 on bad usage. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ipcbox/net.h"
#include "proc_cpu.h"

#define HEAD_MAX 8192
#define MAX_SRC 64
#define MAX_CONNS 200000

enum proto { P_ECHO, P_HTTP };
enum phase { PH_FREE, PH_CONNECTING, PH_WAITING, PH_IDLE, PH_SHUT };

struct opts {
    enum proto proto;
    size_t size;          /* echo request size; http: expected body (0: any) */
    bool size_set;
    const char *path;
    long conns;
    double seconds, warmup, stall;
    long server_pid;
    long batch;
    struct sockaddr_in src[MAX_SRC];
    int nsrc;
    ibx_addr addr;
    char req[512];        /* the http request */
    size_t reqlen;
};

struct conn {
    int fd;
    uint8_t phase;
    uint32_t seed, reqno;
    size_t off;           /* request bytes sent */
    size_t got;           /* echo: response bytes checked; http: head bytes held */
    long long left;       /* http: body bytes still due; -1 while in the head */
    char *head;           /* http: the head so far */
    uint64_t win;         /* responses in the measured window */
    double since;         /* accept: when this connection was opened */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static unsigned char pat(uint32_t seed, uint32_t reqno, size_t i)
{
    uint64_t x = ((uint64_t)seed << 32 | reqno) * 0x9E3779B97F4A7C15ull +
                 i * 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (unsigned char)(x * 0x94D049BB133111EBull >> 56);
}

/* CPU seconds of process pid and of what it no longer shows: its process
 * CPU clock (clock_getcpuclockid: every thread it ever had, those that
 * ended included, in nanoseconds) plus the children it has reaped (cutime
 * + cstime of /proc/PID/stat, clock ticks). A thread per connection that
 * ended, or a child per connection reaped in the window, is still
 * counted; per-task schedstat sums miss both. 0 when pid is gone. */
static double proc_own_s(long pid)
{
    unsigned long ut, st;
    long cut, cst;
    if (proc_stat_ticks(pid, &ut, &st, &cut, &cst) < 0)
        return 0;
    double hz = (double)sysconf(_SC_CLK_TCK);
    double own = (double)(ut + st) / hz;   /* ticks: where the clock fails */
    clockid_t clk;
    struct timespec ts;
    if (clock_getcpuclockid((pid_t)pid, &clk) == 0 && clock_gettime(clk, &ts) == 0)
        own = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    return own + (double)(cut + cst) / hz;
}

/* proc_own_s of pid and of its live descendants (children of any of its
 * threads), depth-bounded. */
static double tree_cpu_s(long pid, int depth)
{
    double t = proc_own_s(pid);
    if (depth >= 4)
        return t;
    char path[96];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return t;
    long *kids = NULL;
    size_t nk = 0, ck = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%ld/task/%.20s/children", pid, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;   /* the thread ended */
        long k;
        while (fscanf(f, "%ld", &k) == 1) {
            if (nk == ck) {
                long *nw = realloc(kids, (ck = ck ? 2 * ck : 64) * sizeof *nw);
                if (!nw)
                    break;
                kids = nw;
            }
            kids[nk++] = k;
        }
        fclose(f);
    }
    closedir(d);
    for (size_t i = 0; i < nk; i++)
        t += tree_cpu_s(kids[i], depth + 1);
    free(kids);
    return t;
}

/* The server's CPU seconds so far: pid and its worker processes, with
 * their ended threads and reaped children. */
static double server_cpu_s(long pid)
{
    return pid > 0 ? tree_cpu_s(pid, 0) : 0;
}

/* Reset on close: nothing lingers in TIME_WAIT on either side. */
static void close_rst(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* ---- one request/response, both protocols ------------------------------ */

static void req_reset(struct conn *c)
{
    c->off = 0;
    c->got = 0;
    c->left = -1;
}

/* Send what is left of c's request; 0 when all sent (or EAGAIN: *blocked
 * set), -1 with errno on failure. */
static int pump_send(const struct opts *o, struct conn *c, bool *blocked)
{
    unsigned char buf[16384];
    *blocked = false;
    while (1) {
        const void *p;
        size_t len;
        if (o->proto == P_HTTP) {
            if (c->off >= o->reqlen)
                return 0;
            p = o->req + c->off;
            len = o->reqlen - c->off;
        } else {
            if (c->off >= o->size)
                return 0;
            len = o->size - c->off < sizeof buf ? o->size - c->off : sizeof buf;
            for (size_t j = 0; j < len; j++)
                buf[j] = pat(c->seed, c->reqno, c->off + j);
            p = buf;
        }
        ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            *blocked = true;
            return 0;
        }
        if (w < 0)
            return -1;
        c->off += (size_t)w;
    }
}

/* Feed n received bytes: 1 when the response is complete, 0 for more,
 * -1 with *why on an invalid or overlong response. */
static int feed(const struct opts *o, struct conn *c, const char *d, size_t n,
                const char **why)
{
    if (o->proto == P_ECHO) {
        for (size_t j = 0; j < n; j++)
            if (c->got + j >= o->size || (unsigned char)d[j] != pat(c->seed, c->reqno, c->got + j)) {
                *why = c->got + j >= o->size ? "bytes beyond the echo" : "wrong byte in the echo";
                return -1;
            }
        c->got += n;
        return c->got == o->size;
    }
    if (c->left >= 0) {
        if ((long long)n > c->left) {
            *why = "bytes beyond the response body";
            return -1;
        }
        c->left -= (long long)n;
        return c->left == 0;
    }
    if (!c->head && !(c->head = malloc(HEAD_MAX + 1))) {
        *why = "out of memory";
        return -1;
    }
    size_t take = n < HEAD_MAX - c->got ? n : HEAD_MAX - c->got;
    memcpy(c->head + c->got, d, take);
    c->got += take;
    c->head[c->got] = '\0';
    char *end = memmem(c->head, c->got, "\r\n\r\n", 4);
    if (!end) {
        if (c->got == HEAD_MAX) {
            *why = "response head over 8 KiB";
            return -1;
        }
        return 0;
    }
    size_t hlen = (size_t)(end - c->head) + 4;
    *end = '\0';
    if (strncmp(c->head, "HTTP/1.1 200 ", 13) != 0) {
        *why = "status is not HTTP/1.1 200";
        return -1;
    }
    char *cl = strcasestr(c->head, "\r\ncontent-length:");
    if (!cl) {
        *why = "no Content-Length";
        return -1;
    }
    if (strcasestr(c->head, "\r\nconnection: close")) {
        *why = "the server closes the connection (Connection: close)";
        return -1;
    }
    long long len = strtoll(cl + 17, NULL, 10);
    if (len < 0 || (o->size_set && (size_t)len != o->size)) {
        *why = "Content-Length is not the expected size";
        return -1;
    }
    /* the body bytes that came with the head, then the rest of d */
    long long extra = (long long)(c->got - hlen) + (long long)(n - take);
    c->got = 0;
    c->left = len;
    if (extra > c->left) {
        *why = "bytes beyond the response body";
        return -1;
    }
    c->left -= extra;
    return c->left == 0;
}

/* Read what c has: 1 response complete, 0 more to come, -1 error (*why). */
static int pump_recv(const struct opts *o, struct conn *c, const char **why)
{
    char buf[16384];
    int done = 0;
    while (1) {
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EAGAIN)
            return done;
        if (r < 0) {
            *why = strerror(errno);
            return -1;
        }
        if (r == 0) {
            *why = "closed by the server";
            return -1;
        }
        if (done) {
            *why = "bytes after the response";
            return -1;
        }
        int f = feed(o, c, buf, (size_t)r, why);
        if (f < 0)
            return -1;
        done = f;
    }
}

/* Start c's next request (after its last response). */
static int next_request(const struct opts *o, struct conn *c, int ep, size_t idx)
{
    bool blocked;
    c->reqno++;
    req_reset(c);
    if (pump_send(o, c, &blocked) < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN | (blocked ? EPOLLOUT : 0), .data.u64 = idx};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A non-blocking connect from source address k (port chosen at connect
 * time, so one address serves as many peers as the 4-tuple allows). */
static int open_from(const struct opts *o, int k)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (o->nsrc) {
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (const struct sockaddr *)&o->src[k % o->nsrc], sizeof o->src[0]) < 0) {
            int e = -errno;
            close(fd);
            return e;
        }
    }
    if (connect(fd, (const struct sockaddr *)&o->addr.ss, o->addr.len) < 0 &&
        errno != EINPROGRESS) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

/* ---- run: requests/s of CONNS active connections ----------------------- */

static int do_run(const struct opts *o)
{
    struct conn *cs = calloc((size_t)o->conns, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int rc = 1;
    const char *why = NULL;
    if (!cs || ep < 0) {
        perror("modelload");
        return 1;
    }
    for (long i = 0; i < o->conns; i++) {
        struct conn *c = &cs[i];
        c->fd = ibx_tcp_connect_wait(&o->addr, 10000);
        if (c->fd < 0) {
            fprintf(stderr, "modelload: connection %ld: %s\n", i, strerror(-c->fd));
            c->fd = 0;
            goto out;
        }
        ibx_fd_nonblock(c->fd, true);
        ibx_tcp_nodelay(c->fd, true);
        c->seed = (uint32_t)i + 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0 ||
            next_request(o, c, ep, (size_t)i) < 0) {
            fprintf(stderr, "modelload: connection %ld: %s\n", i, strerror(errno));
            goto out;
        }
    }
    double t = now_s(), t_start = t + o->warmup, t_end = t_start + o->seconds;
    double last = t, t0 = 0, t1 = 0, cpu0 = 0, cpu1 = 0, self0 = 0, self1 = 0;
    bool measuring = false;
    uint64_t count = 0;
    while (1) {
        t = now_s();
        if (!measuring && t >= t_start) {
            measuring = true;
            t0 = t;
            cpu0 = server_cpu_s(o->server_pid);
            self0 = self_cpu_s();
        }
        if (measuring && t >= t_end) {
            t1 = t;
            cpu1 = server_cpu_s(o->server_pid);
            self1 = self_cpu_s();
            break;
        }
        if (t - last > o->stall) {
            fprintf(stderr, "modelload: no response for %.0f s\n", o->stall);
            goto out;
        }
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 50);
        for (int k = 0; k < n; k++) {
            size_t i = (size_t)evs[k].data.u64;
            struct conn *c = &cs[i];
            bool blocked;
            if ((evs[k].events & EPOLLOUT) && pump_send(o, c, &blocked) < 0) {
                why = strerror(errno);
                goto bad;
            }
            if (!(evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                continue;
            int r = pump_recv(o, c, &why);
            if (r < 0)
                goto bad;
            if (r == 0)
                continue;
            last = now_s();
            if (measuring) {
                count++;
                c->win++;
            }
            if (next_request(o, c, ep, i) < 0) {
                why = strerror(errno);
                goto bad;
            }
            continue;
        bad:
            fprintf(stderr, "modelload: connection %zu, response %u: %s\n", i,
                    (unsigned)c->reqno, why);
            goto out;
        }
    }
    if (count == 0) {
        fprintf(stderr, "modelload: no response in the %.1f s window\n", o->seconds);
        goto out;
    }
    long starved = 0;
    for (long i = 0; i < o->conns; i++)
        starved += cs[i].win == 0;
    double wall = t1 - t0;
    printf("mode=run proto=%s conns=%ld requests=%llu seconds=%.2f req_per_s=%.0f "
           "cpu_pct=%.0f starved=%ld", o->proto == P_HTTP ? "http" : "echo", o->conns,
           (unsigned long long)count, wall, (double)count / wall,
           100 * (self1 - self0) / wall, starved);
    if (o->server_pid > 0)
        printf(" server_cpu_pct=%.0f server_us_per_req=%.2f", 100 * (cpu1 - cpu0) / wall,
               count ? (cpu1 - cpu0) * 1e6 / (double)count : 0.0);
    printf("\n");
    rc = 0;
out:
    for (long i = 0; i < o->conns; i++) {
        if (cs[i].fd > 0)
            close(cs[i].fd);
        free(cs[i].head);
    }
    free(cs);
    close(ep);
    return rc;
}

/* ---- idle: connections grown on command and held ---------------------- */

struct idle {
    const struct opts *o;
    struct conn *cs;
    size_t cap, opened;      /* slots allocated, used */
    size_t made, inflight, lost, target;
    int ep;
    double last, t_grow;
};

/* Drop the connections being set up, stop growing, say why. */
static void idle_give_up(struct idle *s, const char *why)
{
    for (size_t i = 0; i < s->opened; i++) {
        struct conn *c = &s->cs[i];
        if (c->phase == PH_CONNECTING || c->phase == PH_WAITING) {
            close_rst(c->fd);
            c->phase = PH_FREE;
            free(c->head);
            c->head = NULL;
        }
    }
    printf("stalled have=%zu target=%zu lost=%zu reason=%s\n", s->made - s->lost, s->target,
           s->lost, why);
    fflush(stdout);
    s->inflight = 0;
    s->target = s->made;
}

static void idle_open_more(struct idle *s)
{
    while (s->made + s->inflight < s->target && s->inflight < (size_t)s->o->batch) {
        if (s->opened == s->cap) {
            size_t ncap = s->cap * 2;
            struct conn *n = ncap <= MAX_CONNS ? realloc(s->cs, ncap * sizeof *n) : NULL;
            if (!n) {
                idle_give_up(s, "too many connections for this tool");
                return;
            }
            memset(n + s->cap, 0, (ncap - s->cap) * sizeof *n);
            s->cs = n;
            s->cap = ncap;
        }
        struct conn *c = &s->cs[s->opened];
        int fd = open_from(s->o, (int)s->opened);
        if (fd < 0) {
            idle_give_up(s, strerror(-fd));
            return;
        }
        c->fd = fd;
        c->phase = PH_CONNECTING;
        c->seed = (uint32_t)s->opened + 1;
        req_reset(c);
        struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = s->opened};
        epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
        s->opened++;
        s->inflight++;
    }
}

static void idle_event(struct idle *s, size_t i, uint32_t events)
{
    struct conn *c = &s->cs[i];
    const char *why = NULL;
    bool blocked = false;
    switch (c->phase) {
    case PH_CONNECTING: {
        int e = ibx_sock_error(c->fd);
        if (e < 0) {
            idle_give_up(s, strerror(-e));
            return;
        }
        c->phase = PH_WAITING;
        if (pump_send(s->o, c, &blocked) < 0) {
            idle_give_up(s, strerror(errno));
            return;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (blocked ? EPOLLOUT : 0),
                                 .data.u64 = i};
        epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
        return;
    }
    case PH_WAITING: {
        if ((events & EPOLLOUT) && pump_send(s->o, c, &blocked) < 0) {
            idle_give_up(s, strerror(errno));
            return;
        }
        if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
            return;
        int r = pump_recv(s->o, c, &why);
        if (r < 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "%s (before its first response)", why);
            idle_give_up(s, msg);
            return;
        }
        if (r == 0)
            return;
        c->phase = PH_IDLE;
        free(c->head);
        c->head = NULL;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = i};
        epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
        s->inflight--;
        s->made++;
        s->last = now_s();
        if (s->made == s->target) {
            printf("ready have=%zu lost=%zu seconds=%.2f\n", s->made - s->lost, s->lost,
                   s->last - s->t_grow);
            fflush(stdout);
        }
        return;
    }
    case PH_IDLE:   /* the server closed (or wrote to) an idle connection */
        close_rst(c->fd);
        c->phase = PH_FREE;
        s->lost++;
        return;
    default:
        return;
    }
}

/* One command line from stdin: a number (grow to it) or "check". */
static void idle_command(struct idle *s, const char *line)
{
    if (!strcmp(line, "check")) {
        printf("held have=%zu lost=%zu\n", s->made - s->lost, s->lost);
    } else {
        char *end;
        unsigned long n = strtoul(line, &end, 10);
        if (end == line || *end || n > MAX_CONNS) {
            printf("error bad command: %s\n", line);
        } else if (n <= s->made) {
            printf("ready have=%zu lost=%zu seconds=0\n", s->made - s->lost, s->lost);
        } else {
            s->target = n;
            s->t_grow = s->last = now_s();
            return;
        }
    }
    fflush(stdout);
}

static int do_idle(const struct opts *o)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct idle s = {.o = o, .cap = 1024, .ep = epoll_create1(EPOLL_CLOEXEC)};
    s.cs = calloc(s.cap, sizeof *s.cs);
    if (!s.cs || s.ep < 0) {
        perror("modelload");
        return 1;
    }
    struct epoll_event in = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    epoll_ctl(s.ep, EPOLL_CTL_ADD, 0, &in);
    char line[128];
    size_t ll = 0;
    bool eof = false;
    while (!eof) {
        idle_open_more(&s);
        struct epoll_event evs[256];
        int n = epoll_wait(s.ep, evs, 256, s.inflight ? 100 : 1000);
        for (int k = 0; k < n; k++) {
            if (evs[k].data.u64 != UINT64_MAX) {
                idle_event(&s, (size_t)evs[k].data.u64, evs[k].events);
                continue;
            }
            char buf[256];
            ssize_t r = read(0, buf, sizeof buf);
            if (r <= 0) {
                eof = r == 0 || errno != EINTR;
                if (eof)
                    epoll_ctl(s.ep, EPOLL_CTL_DEL, 0, NULL);
                continue;
            }
            for (ssize_t j = 0; j < r; j++) {
                if (buf[j] != '\n') {
                    if (ll < sizeof line - 1)
                        line[ll++] = buf[j];
                    continue;
                }
                line[ll] = '\0';
                ll = 0;
                idle_command(&s, line);
            }
        }
        if (s.inflight && now_s() - s.last > o->stall) {
            char msg[96];
            snprintf(msg, sizeof msg, "no connection completed for %.0f s (a connection cap?)",
                     o->stall);
            idle_give_up(&s, msg);
        }
    }
    for (size_t i = 0; i < s.opened; i++) {
        if (s.cs[i].phase != PH_FREE)
            close_rst(s.cs[i].fd);
        free(s.cs[i].head);
    }
    free(s.cs);
    close(s.ep);
    return s.lost ? 1 : 0;
}

/* ---- accept: connections accepted and closed per second ---------------- */

static int accept_open(const struct opts *o, struct conn *c, int ep, size_t i, size_t seq)
{
    int fd = open_from(o, (int)seq);
    if (fd < 0) {
        fprintf(stderr, "modelload: connect: %s\n", strerror(-fd));
        return -1;
    }
    c->fd = fd;
    c->phase = PH_CONNECTING;
    c->since = now_s();
    struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = i};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int do_accept(const struct opts *o)
{
    size_t n = (size_t)o->conns, seq = 0;
    struct conn *cs = calloc(n, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC), rc = 1;
    if (!cs || ep < 0) {
        perror("modelload");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        if (accept_open(o, &cs[i], ep, i, seq++) < 0)
            goto out;
    double t = now_s(), t_start = t + o->warmup, t_end = t_start + o->seconds;
    double t0 = 0, t1 = 0, cpu0 = 0, cpu1 = 0, self0 = 0, self1 = 0;
    bool measuring = false;
    uint64_t count = 0;
    while (1) {
        t = now_s();
        if (!measuring && t >= t_start) {
            measuring = true;
            t0 = t;
            cpu0 = server_cpu_s(o->server_pid);
            self0 = self_cpu_s();
        }
        if (measuring && t >= t_end) {
            t1 = t;
            cpu1 = server_cpu_s(o->server_pid);
            self1 = self_cpu_s();
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (t - cs[i].since > o->stall) {
                fprintf(stderr, "modelload: a connection not %s within %.0f s\n",
                        cs[i].phase == PH_CONNECTING ? "established" : "closed by the server",
                        o->stall);
                goto out;
            }
        struct epoll_event evs[256];
        int ne = epoll_wait(ep, evs, 256, 50);
        for (int k = 0; k < ne; k++) {
            size_t i = (size_t)evs[k].data.u64;
            struct conn *c = &cs[i];
            if (c->phase == PH_CONNECTING) {
                int e = ibx_sock_error(c->fd);
                if (e < 0) {
                    fprintf(stderr, "modelload: connect: %s\n", strerror(-e));
                    goto out;
                }
                shutdown(c->fd, SHUT_WR);
                c->phase = PH_SHUT;
                struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = i};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                continue;
            }
            char b[64];
            ssize_t r = recv(c->fd, b, sizeof b, 0);
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r != 0) {
                fprintf(stderr, "modelload: closed connection: %s\n",
                        r > 0 ? "the server sent data" : strerror(errno));
                goto out;
            }
            close(c->fd);
            c->fd = 0;
            if (measuring)
                count++;
            if (accept_open(o, c, ep, i, seq++) < 0)
                goto out;
        }
    }
    double wall = t1 - t0;
    printf("mode=accept concurrency=%zu conns=%llu seconds=%.2f conns_per_s=%.0f cpu_pct=%.0f",
           n, (unsigned long long)count, wall, (double)count / wall,
           100 * (self1 - self0) / wall);
    if (o->server_pid > 0)
        printf(" server_cpu_pct=%.0f server_us_per_conn=%.2f", 100 * (cpu1 - cpu0) / wall,
               count ? (cpu1 - cpu0) * 1e6 / (double)count : 0.0);
    printf("\n");
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        if (cs[i].fd > 0)
            close_rst(cs[i].fd);
    free(cs);
    close(ep);
    return rc;
}

/* ---- options ------------------------------------------------------------ */

static int add_srcs(struct opts *o, char *list)
{
    for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
        if (o->nsrc == MAX_SRC)
            return -1;
        struct sockaddr_in *a = &o->src[o->nsrc++];
        a->sin_family = AF_INET;
        a->sin_port = 0;
        if (inet_pton(AF_INET, s, &a->sin_addr) != 1 || (ntohl(a->sin_addr.s_addr) >> 24) != 127)
            return -1;
    }
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: modelload run|idle|accept [--proto echo|http] [-c N] [--seconds S] "
                    "[--warmup S] [--size BYTES] [--path PATH] [--src A,B] [--batch K] "
                    "[--stall S] [--server-pid PID] HOST:PORT | modelload cpu PID\n");
    return 2;
}

int main(int argc, char **argv)
{
    static struct opts o = {.proto = P_ECHO, .size = 64, .path = "/1k.html", .conns = -1,
                            .seconds = 3, .warmup = 0.5, .stall = -1, .batch = 128};
    if (argc < 3)
        return usage();
    if (!strcmp(argv[1], "cpu")) {
        long pid = strtol(argv[2], NULL, 10);
        if (argc != 3 || pid <= 0)
            return usage();
        printf("cpu_s=%.6f\n", server_cpu_s(pid));
        return 0;
    }
    const char *mode = argv[1], *target = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--proto") && v) {
            if (!strcmp(v, "echo"))
                o.proto = P_ECHO;
            else if (!strcmp(v, "http"))
                o.proto = P_HTTP;
            else
                return usage();
        } else if (!strcmp(a, "-c") && v) {
            o.conns = strtol(v, NULL, 10);
        } else if (!strcmp(a, "--seconds") && v) {
            o.seconds = strtod(v, NULL);
        } else if (!strcmp(a, "--warmup") && v) {
            o.warmup = strtod(v, NULL);
        } else if (!strcmp(a, "--stall") && v) {
            o.stall = strtod(v, NULL);
        } else if (!strcmp(a, "--size") && v) {
            o.size = strtoul(v, NULL, 10);
            o.size_set = true;
        } else if (!strcmp(a, "--path") && v) {
            o.path = v;
        } else if (!strcmp(a, "--batch") && v) {
            o.batch = strtol(v, NULL, 10);
        } else if (!strcmp(a, "--server-pid") && v) {
            o.server_pid = strtol(v, NULL, 10);
        } else if (!strcmp(a, "--src") && v) {
            char buf[4096];
            snprintf(buf, sizeof buf, "%s", v);
            if (add_srcs(&o, buf) < 0) {
                fprintf(stderr, "modelload: --src takes at most %d 127.x.y.z addresses\n", MAX_SRC);
                return 2;
            }
        } else if (a[0] != '-' && !target) {
            target = a;
            continue;
        } else {
            return usage();
        }
        i++;
    }
    if (!target || ibx_addr_parse(target, "127.0.0.1", 7007, &o.addr) < 0 ||
        o.addr.ss.ss_family != AF_INET ||
        (ntohl(((struct sockaddr_in *)&o.addr.ss)->sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "modelload: the target must be 127.x.y.z:PORT\n");
        return 2;
    }
    if (o.proto == P_ECHO && (o.size == 0 || o.size > (1u << 20))) {
        fprintf(stderr, "modelload: echo --size is 1 to 1048576 bytes\n");
        return 2;
    }
    if (o.seconds <= 0 || o.seconds > 3600 || o.warmup < 0 || o.batch < 1) {
        fprintf(stderr, "modelload: --seconds is in (0, 3600], --batch at least 1\n");
        return 2;
    }
    int n = snprintf(o.req, sizeof o.req, "GET %s HTTP/1.1\r\nHost: bench\r\n\r\n", o.path);
    if (n < 0 || (size_t)n >= sizeof o.req)
        return usage();
    o.reqlen = (size_t)n;
    if (!strcmp(mode, "run")) {
        o.conns = o.conns < 0 ? 50 : o.conns;
        o.stall = o.stall < 0 ? 5 : o.stall;
        if (o.conns < 1 || o.conns > 10000)
            return usage();
        return do_run(&o);
    }
    if (!strcmp(mode, "idle")) {
        o.stall = o.stall < 0 ? 5 : o.stall;
        return do_idle(&o);
    }
    if (!strcmp(mode, "accept")) {
        o.conns = o.conns < 0 ? 64 : o.conns;
        o.stall = o.stall < 0 ? 10 : o.stall;
        if (o.conns < 1 || o.conns > 10000)
            return usage();
        return do_accept(&o);
    }
    return usage();
}
