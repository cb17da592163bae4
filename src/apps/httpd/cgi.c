/* CGI/1.1 (RFC 3875) for paths under --cgi PREFIX.
 *
 * The script is started with posix_spawn (vfork-fast and safe in a
 * threaded server) in a process group of its own, with pipes for stdin and
 * stdout, a clean signal mask and the standard meta-variables, built in
 * the parent. A Content-Length body is streamed to stdin as it arrives; a
 * chunked body is decoded and collected first (bounded by --max-body) so
 * CONTENT_LENGTH can be set. The script's header block gives Status,
 * Content-Type and Location; its body is relayed with chunked encoding to
 * HTTP/1.1 clients (connection kept) or until close for HTTP/1.0. Reading
 * from the script pauses while the client is slow. The group is killed
 * when the client leaves, on --cgi-timeout, or at abort, and reaped at
 * once; a script that ends normally is reaped when its pidfd becomes
 * readable (the connection waits for that before its next request), so
 * there is no SIGCHLD handler and there are no zombies in any model. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpd.h"

#define CGI_HEAD_MAX 16384
#define CGI_OUT_HIGH (256 * 1024)

struct cgi {
    struct hconn *c;            /* NULL once detached */
    ibx_loop *loop;
    pid_t pid;
    ibx_io pio, out_io, in_io;
    ibx_defer free_later;
    ibx_buf body;               /* request body not yet written to stdin */
    ibx_buf hdr;                /* script header block being collected */
    struct cgi_env env;         /* the meta-variables */
    char *script;               /* absolute path */
    char *dir;                  /* its directory */
    struct ibx_http_chunked ch;
    uint64_t body_left, body_total;
    bool chunked_in, spawned, in_done, head_sent, finished, exited, chunked_out;
    /* for the access log */
    struct ibx_http_request logreq;
    char *logstr;
    int status;
    uint64_t sent;
};

bool cgi_match(const struct httpd_cfg *cfg, const char *path)
{
    if (!cfg->cgi_prefix)
        return false;
    size_t n = cfg->cgi_prefix_len;
    if (cfg->cgi_prefix[n - 1] == '/')
        n--;   /* "/cgi-bin/" and "/cgi-bin" both match "/cgi-bin/x" */
    return strncmp(path, cfg->cgi_prefix, n) == 0 && (path[n] == '/' || !path[n]);
}

bool cgi_active(const struct hconn *c)
{
    return c->cgi != NULL;
}

static void cgi_free(ibx_loop *loop, ibx_defer *d)
{
    struct cgi *g = d->data;
    cgi_env_free(&g->env);
    free(g->script);
    free(g->dir);
    free(g->logstr);
    ibx_buf_free(&g->body);
    ibx_buf_free(&g->hdr);
    free(g);
}

static void close_io(struct cgi *g, ibx_io *io)
{
    if (io->fd >= 0 && (io->active || io->cb)) {
        int fd = io->fd;
        ibx_io_stop(g->loop, io);
        close(fd);
    }
    io->fd = -1;
    io->cb = NULL;
}

/* Kill the script's process group and reap it now. SIGKILL cannot be
 * caught, so the wait is short; it keeps every model (including a thread
 * or child whose loop ends with its connection) free of zombies. */
static void reap_now(struct cgi *g)
{
    if (!g->spawned || g->exited)
        return;
    kill(-g->pid, SIGKILL);
    while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    g->exited = true;
}

/* Release everything; the script has exited (or never started). */
static void detach(struct cgi *g)
{
    reap_now(g);
    if (g->c) {
        g->c->cgi = NULL;
        g->c = NULL;
    }
    close_io(g, &g->out_io);
    close_io(g, &g->in_io);
    close_io(g, &g->pio);
    ibx_loop_defer(g->loop, &g->free_later, cgi_free, g);
}

/* The pidfd is readable: the script exited. Once its output has ended as
 * well the connection goes on with the next request. */
static void on_exit_ready(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct cgi *g = io->data;
    pid_t r = waitpid(g->pid, NULL, WNOHANG);
    if (r == 0)
        return;   /* spurious */
    g->exited = true;   /* reaped (or ECHILD: reaped by someone else) */
    close_io(g, &g->pio);
    if (g->finished) {
        struct hconn *c = g->c;
        detach(g);
        conn_kick(c);
    }
}

/* ---- the script's output ------------------------------------------------------ */

static void finish(struct cgi *g);

static void put_chunk(struct hconn *c, const char *p, size_t n, bool chunked)
{
    ibx_buf *b = conn_outbuf(c);
    if (chunked) {
        char len[24];
        int k = snprintf(len, sizeof len, "%zx\r\n", n);
        ibx_buf_append(b, len, (size_t)k);
    }
    ibx_buf_append(b, p, n);
    if (chunked)
        ibx_buf_append(b, "\r\n", 2);
}

/* Parse the header block in hdr[0..n) and send the response head. */
static bool send_head(struct cgi *g, const char *h, size_t n)
{
    struct hconn *c = g->c;
    int status = 200;
    char reason[40] = "";
    bool have_type = false, have_loc = false, have_status = false;
    ibx_buf extra = {0};
    const char *p = h, *end = h + n;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        const char *e = lf ? lf : end;
        const char *le = (e > p && e[-1] == '\r') ? e - 1 : e;
        if (le == p)
            break;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (!colon || colon == p || memchr(p, '\r', (size_t)(le - p))) {
            ibx_buf_free(&extra);
            return false;
        }
        struct ibx_http_str name = {p, (size_t)(colon - p)};
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        struct ibx_http_str val = {v, (size_t)(le - v)};
        for (size_t i = 0; i < name.n; i++)
            if (name.p[i] <= ' ' || name.p[i] == 0x7f) {
                ibx_buf_free(&extra);
                return false;
            }
        if (ibx_http_str_eq(name, "status")) {
            if (val.n < 3 || val.p[0] < '1' || val.p[0] > '5' || val.p[1] < '0' ||
                val.p[1] > '9' || val.p[2] < '0' || val.p[2] > '9' ||
                (val.n > 3 && val.p[3] != ' ')) {
                ibx_buf_free(&extra);
                return false;
            }
            status = (val.p[0] - '0') * 100 + (val.p[1] - '0') * 10 + (val.p[2] - '0');
            have_status = true;
            /* keep the script's reason phrase if it is plain text */
            size_t k = 0;
            for (size_t i = 4; i < val.n && k + 1 < sizeof reason; i++)
                if (val.p[i] >= 0x20 && val.p[i] < 0x7f)
                    reason[k++] = val.p[i];
            reason[k] = '\0';
        } else if (ibx_http_str_eq(name, "connection") ||
                   ibx_http_str_eq(name, "transfer-encoding") ||
                   ibx_http_str_eq(name, "content-length") ||
                   ibx_http_str_eq(name, "keep-alive") || ibx_http_str_eq(name, "date") ||
                   ibx_http_str_eq(name, "server")) {
            /* hop-by-hop or ours */
        } else {
            have_type |= ibx_http_str_eq(name, "content-type");
            have_loc |= ibx_http_str_eq(name, "location");
            ibx_buf_append(&extra, name.p, name.n);
            ibx_buf_append(&extra, ": ", 2);
            ibx_buf_append(&extra, val.p, val.n);
            ibx_buf_append(&extra, "\r\n", 2);
        }
        p = lf ? lf + 1 : end;
    }
    if (!have_type && !have_loc && !have_status) {
        ibx_buf_free(&extra);
        return false;
    }
    if (have_loc && !have_status)
        status = 302;
    g->status = status;
    g->chunked_out = c->minor >= 1 && !c->head_req && status != 204 && status != 304;
    struct hresp r = {.status = status, .head_only = c->head_req,
                      .body_len = UINT64_MAX, .close = c->minor == 0,
                      .reason = reason[0] ? reason : NULL};
    resp_start(c, &r);
    if (ibx_buf_used(&extra))
        ibx_buf_append(conn_outbuf(c), ibx_buf_head(&extra), ibx_buf_used(&extra));
    ibx_buf_free(&extra);
    if (g->chunked_out)
        resp_field(c, "Transfer-Encoding", "chunked");
    else if (!c->head_req && status != 204 && status != 304)
        c->close_after = true;   /* the body ends when the connection does */
    resp_end(c, &r);
    g->head_sent = true;
    return true;
}

static void fail(struct cgi *g, int status)
{
    struct hconn *c = g->c;
    reap_now(g);
    g->finished = true;
    if (!g->head_sent) {
        g->status = status;
        resp_error(c, status);
        g->head_sent = true;
    } else {
        c->close_after = true;   /* a cut-off body: the client must notice */
    }
    resp_log_req(c, &g->logreq, g->status, g->sent);
    detach(g);
}

static void on_out(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct cgi *g = io->data;
    struct hconn *c = g->c;
    char buf[16384];
    for (int round = 0; round < 8; round++) {
        if (ibx_buf_used(&c->out) > CGI_OUT_HIGH) {
            ibx_io_modify(loop, io, 0);   /* wait for cgi_resume */
            break;
        }
        ssize_t n = read(io->fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            fail(g, 502);
            conn_kick(c);
            return;
        }
        if (n == 0) {
            if (!g->head_sent) {
                /* the whole output was a header block without a blank line */
                if (!ibx_buf_used(&g->hdr) ||
                    !send_head(g, ibx_buf_head(&g->hdr), ibx_buf_used(&g->hdr))) {
                    fail(g, 502);
                    conn_kick(c);
                    return;
                }
            }
            finish(g);
            conn_kick(c);
            return;
        }
        const char *body = buf;
        size_t blen = (size_t)n;
        if (!g->head_sent) {
            size_t before = ibx_buf_used(&g->hdr);
            ibx_buf_append(&g->hdr, buf, (size_t)n);
            const char *h = ibx_buf_head(&g->hdr);
            size_t hn = ibx_buf_used(&g->hdr), endh = 0;
            for (size_t i = before > 3 ? before - 3 : 0; i < hn && !endh; i++)
                if (h[i] == '\n' && i + 1 < hn && h[i + 1] == '\n')
                    endh = i + 2;
                else if (h[i] == '\n' && i + 2 < hn && h[i + 1] == '\r' && h[i + 2] == '\n')
                    endh = i + 3;
            if (!endh) {
                if (hn > CGI_HEAD_MAX) {
                    fail(g, 502);
                    conn_kick(c);
                    return;
                }
                continue;
            }
            if (!send_head(g, h, endh)) {
                fail(g, 502);
                conn_kick(c);
                return;
            }
            body = h + endh;
            blen = hn - endh;
        }
        if (blen && !c->head_req) {
            put_chunk(c, body, blen, g->chunked_out);
            g->sent += blen;
        }
        if (g->head_sent)
            ibx_buf_free(&g->hdr);
    }
    conn_kick(c);
}

/* The script closed stdout: end the response. */
static void finish(struct cgi *g)
{
    struct hconn *c = g->c;
    if (g->chunked_out)
        ibx_buf_append(conn_outbuf(c), "0\r\n\r\n", 5);
    g->finished = true;
    resp_log_req(c, &g->logreq, g->status, g->sent);
    close_io(g, &g->out_io);
    close_io(g, &g->in_io);
    if (!g->exited && g->pio.fd < 0)
        reap_now(g);   /* no pidfd to wait on (old kernel) */
    if (g->exited)
        detach(g);
    /* else the connection waits (its response already flows) until the
     * pidfd says the script exited, or the CGI timeout kills it */
}

/* ---- the request body ------------------------------------------------------------ */

static void on_in(ibx_loop *loop, ibx_io *io, uint32_t events);

static void pump_body(struct cgi *g)
{
    if (g->in_io.fd < 0)
        return;
    while (ibx_buf_used(&g->body)) {
        ssize_t n = ibx_buf_write_fd(&g->body, g->in_io.fd);
        if (n == -EAGAIN) {
            ibx_io_modify(g->loop, &g->in_io, EPOLLOUT);
            return;
        }
        if (n < 0) {   /* EPIPE: the script does not want the rest */
            ibx_buf_free(&g->body);
            close_io(g, &g->in_io);
            return;
        }
    }
    ibx_buf_free(&g->body);
    if (g->in_done)
        close_io(g, &g->in_io);   /* EOF on the script's stdin */
    else
        ibx_io_modify(g->loop, &g->in_io, 0);
}

static void on_in(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    pump_body(io->data);
}

static int spawn(struct cgi *g)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0)
        return -errno;
    if (pipe2(out, O_CLOEXEC) < 0) {
        int e = -errno;
        close(in[0]);
        close(in[1]);
        return e;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addchdir_np(&fa, g->dir);
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    char *argv[] = {g->script, NULL};
    int r = posix_spawn(&g->pid, g->script, &fa, &at, argv, g->env.v);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(in[0]);
    close(out[1]);
    if (r) {
        close(in[1]);
        close(out[0]);
        return -r;
    }
    g->spawned = true;
    ibx_fd_nonblock(in[1], true);
    ibx_fd_nonblock(out[0], true);
    int pfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
    if (pfd < 0 || ibx_io_start(g->loop, &g->pio, pfd, EPOLLIN, on_exit_ready, g) < 0) {
        if (pfd >= 0)
            close(pfd);
        g->pio.fd = -1;
    }
    ibx_io_start(g->loop, &g->out_io, out[0], EPOLLIN, on_out, g);
    ibx_io_start(g->loop, &g->in_io, in[1], 0, on_in, g);
    pump_body(g);
    return 0;
}

static int start_or_fail(struct cgi *g)
{
    int r = spawn(g);
    if (r < 0) {
        ibx_err(g->c->cfg->log, "httpd: cgi %s: %s", g->script, strerror(-r));
        fail(g, 500);
    }
    return r;
}

size_t cgi_feed(struct hconn *c, const char *in, size_t len)
{
    struct cgi *g = c->cgi;
    if (!g) {
        c->reading_body = false;
        return 0;
    }
    size_t used = 0;
    if (!g->chunked_in) {
        size_t n = len < g->body_left ? len : (size_t)g->body_left;
        ibx_buf_append(&g->body, in, n);
        g->body_left -= n;
        used = n;
        if (!g->body_left) {
            g->in_done = true;
            c->reading_body = false;
        }
        pump_body(g);
        return used;
    }
    while (used < len && !ibx_http_chunked_done(&g->ch)) {
        struct ibx_http_str data;
        ssize_t k = ibx_http_chunked_step(&g->ch, in + used, len - used, &data);
        if (k < 0) {
            c->reading_body = false;
            c->linger = true;
            fail(g, 400);
            return len;
        }
        used += (size_t)k;
        g->body_total += data.n;
        if (g->body_total > c->cfg->max_body) {
            c->reading_body = false;
            c->linger = true;
            fail(g, 413);
            return len;
        }
        ibx_buf_append(&g->body, data.p, data.n);
    }
    if (ibx_http_chunked_done(&g->ch)) {
        c->reading_body = false;
        g->in_done = true;
        char num[24];
        int n = snprintf(num, sizeof num, "%llu", (unsigned long long)g->body_total);
        if (cgi_env_add(&g->env, "CONTENT_LENGTH", num, (size_t)n) < 0)
            fail(g, 500);
        else
            start_or_fail(g);
    }
    return used;
}

void cgi_start(struct hconn *c, const char *path, struct ibx_http_str query,
               const char *in, size_t *avail)
{
    const struct httpd_cfg *cfg = c->cfg;
    const struct ibx_http_request *req = &c->hw->req;
    size_t avail_in = *avail;
    *avail = 0;
    if (req->meth != IBX_HTTP_GET && req->meth != IBX_HTTP_HEAD &&
        req->meth != IBX_HTTP_POST) {
        c->close_after = true;
        c->linger = true;
        resp_error(c, 405);
        return;
    }
    bool body = (req->flags & IBX_HTTP_F_CHUNKED) ||
                ((req->flags & IBX_HTTP_F_LENGTH) && req->content_length);
    if ((req->flags & IBX_HTTP_F_LENGTH) && req->content_length > cfg->max_body) {
        c->close_after = true;
        c->linger = true;
        resp_error(c, 413);
        return;
    }
    /* /cgi-bin/script/extra -> script "/cgi-bin/script", PATH_INFO "/extra" */
    size_t pre = cfg->cgi_prefix_len - (cfg->cgi_prefix[cfg->cgi_prefix_len - 1] == '/');
    const char *name = path + pre + (path[pre] == '/');
    const char *slash = strchr(name, '/');
    size_t sn = slash ? (size_t)(slash - path) : strlen(path);
    char script_name[HTTPD_PATH_MAX];
    memcpy(script_name, path, sn);
    script_name[sn] = '\0';
    if (!*name || *name == '/') {
        c->close_after |= body;
        c->linger |= body;
        resp_error(c, 403);
        return;
    }
    int fd = fs_open(cfg, script_name, O_RDONLY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
        int status = fd == -ENOENT || fd == -ENOTDIR ? 404 : 403;
        if (fd >= 0)
            close(fd);
        c->close_after |= body;
        c->linger |= body;
        resp_error(c, status);
        return;
    }
    close(fd);
    struct cgi *g = calloc(1, sizeof *g);
    if (!g) {
        c->close_after = true;
        resp_error(c, 500);
        return;
    }
    g->c = c;
    g->loop = ibx_worker_loop(c->base.worker);
    g->pio.fd = g->out_io.fd = g->in_io.fd = -1;
    g->status = 200;
    c->cgi = g;
    size_t rl = strlen(cfg->root_real);
    g->script = malloc(rl + sn + 1);
    g->dir = malloc(rl + sn + 1);
    /* a copy of the request line and log fields for the access log */
    size_t ln = req->method.n + req->target.n + req->referer.n + req->user_agent.n;
    g->logstr = malloc(ln + 1);
    if (!g->script || !g->dir || !g->logstr ||
        cgi_env_build(&g->env, c, script_name, slash ? slash : "", query) < 0) {
        fail(g, 500);
        return;
    }
    memcpy(g->script, cfg->root_real, rl);
    memcpy(g->script + rl, script_name, sn + 1);
    memcpy(g->dir, g->script, rl + sn + 1);
    *strrchr(g->dir, '/') = '\0';
    char *lp = g->logstr;
    struct ibx_http_str *dst[] = {&g->logreq.method, &g->logreq.target,
                                  &g->logreq.referer, &g->logreq.user_agent};
    const struct ibx_http_str src[] = {req->method, req->target, req->referer,
                                       req->user_agent};
    for (int i = 0; i < 4; i++) {
        if (src[i].p)
            memcpy(lp, src[i].p, src[i].n);
        *dst[i] = (struct ibx_http_str){src[i].p ? lp : NULL, src[i].n};
        lp += src[i].n;
    }
    g->logreq.minor = req->minor;
    c->deadline = ibx_loop_now(g->loop) + cfg->cgi_timeout_ms;
    conn_nodelay(c);   /* the response is streamed in pieces */

    if (body && (req->flags & IBX_HTTP_F_CONTINUE) && avail_in == 0 && c->minor >= 1)
        ibx_buf_append(conn_outbuf(c), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    if (req->flags & IBX_HTTP_F_CHUNKED) {
        g->chunked_in = true;
        c->reading_body = true;
        *avail = cgi_feed(c, in, avail_in);
        return;
    }
    g->body_left = body ? req->content_length : 0;
    if (start_or_fail(g) < 0)
        return;
    if (g->body_left) {
        c->reading_body = true;
        *avail = cgi_feed(c, in, avail_in);
    } else {
        g->in_done = true;
        pump_body(g);
    }
}

void cgi_resume(struct hconn *c)
{
    struct cgi *g = c->cgi;
    if (g && g->out_io.fd >= 0)
        ibx_io_modify(g->loop, &g->out_io, EPOLLIN);
}

void cgi_abort(struct hconn *c)
{
    struct cgi *g = c->cgi;
    if (!g)
        return;
    c->reading_body = false;
    if (c->closing || g->finished) {
        /* the client left, or a finished script would not exit */
        g->finished = true;
        detach(g);
        return;
    }
    /* a timeout: 504 if nothing went out yet, else cut the response */
    ibx_warn(c->cfg->log, "httpd: cgi %s: timed out, killed", g->script);
    fail(g, 504);
}
