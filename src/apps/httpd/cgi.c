/* CGI/1.1 (RFC 3875) for paths under --cgi PREFIX.
 *
 * The script is started from the descriptor its confined check opened
 * (cgi_spawn.c) in a process group of its own, with pipes for stdin,
 * stdout and stderr (framed into the log, cgi_stderr.c), a clean signal
 * mask and the standard meta-variables, built in the parent; at most
 * --cgi-max run at once. A Content-Length body is streamed to stdin as it
 * arrives, reading from the client pausing while CGI_IN_HIGH bytes wait
 * for the script; a chunked body is decoded and collected first (bounded
 * by --max-body) so CONTENT_LENGTH can be set. A response that ends (the
 * script exited, failed or timed out) before its request body has all
 * arrived closes the connection after it, with a lingering close: the
 * rest of that body is never parsed as a request. The script's header block gives Status,
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpd.h"

#define CGI_HEAD_MAX 16384
/* Request-body bytes buffered for a script that is slow to read them. */
#define CGI_IN_HIGH (256 * 1024)

struct cgi {
    struct hconn *c;            /* NULL once detached */
    const struct httpd_cfg *cfg;
    ibx_loop *loop;
    pid_t pid;
    ibx_io pio, out_io, in_io, err_io;
    ibx_defer free_later;
    ibx_buf body;               /* request body not yet written to stdin */
    ibx_buf hdr;                /* script header block being collected */
    struct cgi_env env;         /* the meta-variables */
    char *script;               /* absolute path (argv[0]) */
    int script_fd, dir_fd;      /* what the confined check opened, until spawned */
    struct cgi_errlog elog;     /* its stderr */
    struct ibx_http_chunked ch;
    uint64_t body_left, body_total;
    bool chunked_in, spawned, in_done, head_sent, finished, exited, chunked_out;
    bool no_body;               /* HEAD, 204, 304: what the script writes
                                   after its header block is dropped */
    bool slot;                  /* holds one of the --cgi-max slots */
    /* for the access log */
    struct ibx_http_request logreq;
    char *logstr;
    int status;
    uint64_t sent;
    int wstatus;                /* waitpid() status once reaped, else -1 */
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
    if (g->script_fd >= 0)
        close(g->script_fd);
    if (g->dir_fd >= 0)
        close(g->dir_fd);
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

/* Give the --cgi-max slot back. */
static void slot_put(struct cgi *g)
{
    if (g->slot)
        cgi_slot_put(g->cfg);
    g->slot = false;
}

/* The script was reaped: its --cgi-max slot is free again. */
static void exited(struct cgi *g)
{
    slot_put(g);
    g->exited = true;
}

/* Kill the script's process group and reap it now. SIGKILL cannot be
 * caught, so the wait is short; it keeps every model (including a thread
 * or child whose loop ends with its connection) free of zombies. */
static void reap_now(struct cgi *g)
{
    if (!g->spawned || g->exited)
        return;
    kill(-g->pid, SIGKILL);   /* no effect on a script that has exited */
    while (waitpid(g->pid, &g->wstatus, 0) < 0 && errno == EINTR)
        ;
    exited(g);
}

/* The response ends before the request body has all arrived: the rest of
 * the body is never read as requests. Close after the response, lingering
 * (shut down writing, read and drop for a bounded time) so that the
 * client gets the response rather than a reset. */
static void body_unread(struct hconn *c)
{
    if (c && c->reading_body) {
        c->reading_body = false;
        c->close_after = true;
        c->linger = true;
    }
}

/* Log what the script wrote to stderr (up to rounds reads); at its end,
 * the unterminated last line too. */
static void read_stderr(struct cgi *g, int rounds)
{
    char buf[16384];
    for (int i = 0; i < rounds && g->err_io.fd >= 0; i++) {
        ssize_t n = read(g->err_io.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            cgi_errlog_end(&g->elog, g->cfg->log);
            close_io(g, &g->err_io);
            return;
        }
        cgi_errlog_feed(&g->elog, g->cfg->log, g->cfg->cgi_stderr_max, buf, (size_t)n);
    }
}

static void on_err(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    read_stderr(io->data, 8);
}

/* Release everything; the script has exited (or never started). */
static void detach(struct cgi *g)
{
    reap_now(g);
    if (!g->spawned)
        slot_put(g);   /* a chunked body being collected */
    /* what the script wrote last is in the pipe (bounded: a few reads) */
    read_stderr(g, 8);
    if (g->err_io.fd >= 0)
        cgi_errlog_end(&g->elog, g->cfg->log);
    if (g->c) {
        body_unread(g->c);
        g->c->cgi = NULL;
        g->c = NULL;
    }
    close_io(g, &g->out_io);
    close_io(g, &g->in_io);
    close_io(g, &g->err_io);
    close_io(g, &g->pio);
    ibx_loop_defer(g->loop, &g->free_later, cgi_free, g);
}

/* The pidfd is readable: the script exited. Once its output has ended as
 * well the connection goes on with the next request. */
static void on_exit_ready(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct cgi *g = io->data;
    pid_t r = waitpid(g->pid, &g->wstatus, WNOHANG);
    if (r == 0)
        return;   /* spurious */
    exited(g);   /* reaped (or ECHILD: reaped by someone else) */
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
        for (size_t i = 0; i < val.n; i++)   /* no NUL or other CTL in a value */
            if (((unsigned char)val.p[i] < ' ' && val.p[i] != '\t') || val.p[i] == 0x7f) {
                ibx_buf_free(&extra);
                return false;
            }
        if (ibx_http_str_eq(name, "status")) {
            /* a final status: a 1xx head would make the body that follows
             * read as a response of its own */
            if (val.n < 3 || val.p[0] < '2' || val.p[0] > '5' || val.p[1] < '0' ||
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
    /* 204 and 304 end at their head (RFC 9110 6.4.1): a body the script
     * writes anyway would be read by the client as the next response */
    g->no_body = c->head_req || status == 204 || status == 304;
    g->chunked_out = c->minor >= 1 && !g->no_body;
    struct hresp r = {.status = status, .head_only = c->head_req,
                      .body_len = UINT64_MAX, .close = c->minor == 0,
                      .reason = reason[0] ? reason : NULL};
    resp_start(c, &r);
    if (ibx_buf_used(&extra))
        ibx_buf_append(conn_outbuf(c), ibx_buf_head(&extra), ibx_buf_used(&extra));
    ibx_buf_free(&extra);
    if (g->chunked_out)
        resp_field(c, "Transfer-Encoding", "chunked");
    else if (!g->no_body)
        c->close_after = true;   /* the body ends when the connection does */
    resp_end(c, &r);
    g->head_sent = true;
    return true;
}

/* End the request with status (or cut the response if its head went out
 * already): one line with the reason in the server log (none if why is
 * NULL), one in the access log. */
static void fail(struct cgi *g, int status, const char *why)
{
    struct hconn *c = g->c;
    reap_now(g);
    g->finished = true;
    body_unread(c);   /* before the head: it says Connection: close */
    /* a peer can make any script fail at will: one line a second per
     * cause; every request keeps its line (and status) in the access log */
    unsigned long held;
    if (why && hlog_due(g->cfg, status == 400 || status == 413 ? HLOG_CGI_BODY : HLOG_CGI_FAIL,
                        &held)) {
        /* how the script ended, if it had before we reaped it */
        char ended[48] = "running";
        int ws = g->wstatus;
        if (!g->spawned)
            snprintf(ended, sizeof ended, "not-started");
        else if (ws != -1 && WIFEXITED(ws))
            snprintf(ended, sizeof ended, "exit-%d", WEXITSTATUS(ws));
        else if (ws != -1 && WIFSIGNALED(ws))
            snprintf(ended, sizeof ended, "%s", WTERMSIG(ws) == SIGKILL ? "killed"
                                                                        : "signal");
        ibx_warn(g->cfg->log, "msg=\"cgi request failed\" status=%d reason=%s "
                 "script_end=%s response=%s script=%s pid=%d peer=%s suppressed=%lu",
                 g->head_sent ? g->status : status, why, ended,
                 g->head_sent ? "cut" : "error-page", g->elog.script, g->elog.pid,
                 g->elog.peer, held);
    }
    if (!g->head_sent) {
        g->status = status;
        g->sent = resp_error_page(c, status);
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
        if (ibx_buf_used(&c->out) >= c->cfg->max_output) {
            /* the one output bound (--max-output): wait for cgi_resume */
            ibx_io_modify(loop, io, 0);
            break;
        }
        ssize_t n = read(io->fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            char why[80];
            snprintf(why, sizeof why, "reading its output: %s", strerror(errno));
            fail(g, 502, why);
            conn_kick(c);
            return;
        }
        if (n == 0) {
            if (!g->head_sent) {
                /* the whole output was a header block without a blank line */
                if (!ibx_buf_used(&g->hdr) ||
                    !send_head(g, ibx_buf_head(&g->hdr), ibx_buf_used(&g->hdr))) {
                    fail(g, 502, ibx_buf_used(&g->hdr) ? "bad header block"
                                                       : "no output");
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
                    fail(g, 502, "header block over 16384 bytes");
                    conn_kick(c);
                    return;
                }
                continue;
            }
            if (!send_head(g, h, endh)) {
                fail(g, 502, "bad header block");
                conn_kick(c);
                return;
            }
            body = h + endh;
            blen = hn - endh;
        }
        if (blen && !g->no_body) {
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
    body_unread(c);   /* the script is done: the rest of its body is not */
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
            ibx_io_modify(g->loop, &g->in_io, IBX_EV_WRITE);
            return;
        }
        if (n < 0) {   /* EPIPE: the script does not want the rest */
            ibx_buf_free(&g->body);
            close_io(g, &g->in_io);
            return;
        }
    }
    if (g->in_done) {
        ibx_buf_free(&g->body);
        close_io(g, &g->in_io);   /* EOF on the script's stdin */
        return;
    }
    ibx_buf_reset(&g->body);   /* kept (<= CGI_IN_HIGH) while the body flows */
    ibx_io_modify(g->loop, &g->in_io, 0);
}

static void on_in(ibx_loop *loop, ibx_io *io, uint32_t events)
{
    struct cgi *g = io->data;
    bool was_full = ibx_buf_used(&g->body) >= CGI_IN_HIGH;   /* reading paused */
    pump_body(g);
    if (was_full && g->c && g->c->reading_body && cgi_wants_body(g->c))
        conn_kick(g->c);   /* read from the client again */
}

bool cgi_wants_body(const struct hconn *c)
{
    const struct cgi *g = c->cgi;
    return !g || g->chunked_in || g->in_io.fd < 0 || ibx_buf_used(&g->body) < CGI_IN_HIGH;
}

static int start_or_fail(struct cgi *g)
{
    struct cgi_proc p;   /* the --cgi-max slot is held since cgi_start */
    char *argv[] = {g->script, NULL};
    int r = cgi_spawn(g->script_fd, g->dir_fd, argv, g->env.v, &p);
    close(g->script_fd);
    close(g->dir_fd);
    g->script_fd = g->dir_fd = -1;
    if (r < 0) {
        slot_put(g);
        char why[96];
        snprintf(why, sizeof why, "cannot start: %s", strerror(-r));
        fail(g, 500, why);
        return r;
    }
    g->spawned = true;
    g->pid = p.pid;
    g->elog.pid = (int)p.pid;
    ibx_fd_nonblock(p.in, true);
    ibx_fd_nonblock(p.out, true);
    ibx_fd_nonblock(p.err, true);
    int pfd = (int)syscall(SYS_pidfd_open, g->pid, 0);
    if (pfd < 0 || ibx_io_start(g->loop, &g->pio, pfd, IBX_EV_READ, on_exit_ready, g) < 0) {
        if (pfd >= 0)
            close(pfd);
        g->pio.fd = -1;
    }
    /* A pipe the loop cannot watch (select: past FD_SETSIZE) would leave
     * the response hanging: the script is killed and the request fails. */
    int fds[3] = {p.out, p.in, p.err};
    ibx_io *ios[3] = {&g->out_io, &g->in_io, &g->err_io};
    ibx_io_cb cbs[3] = {on_out, on_in, on_err};
    uint32_t evs[3] = {IBX_EV_READ, 0, IBX_EV_READ};
    r = 0;
    for (int i = 0; i < 3; i++) {
        int e = r < 0 ? r : ibx_io_start(g->loop, ios[i], fds[i], evs[i], cbs[i], g);
        if (e < 0) {
            close(fds[i]);   /* not the watcher's: close_io skips it */
            r = e;
        }
    }
    if (r < 0) {
        char why[96];
        snprintf(why, sizeof why, "cannot watch its pipes: %s", strerror(-r));
        fail(g, 503, why);
        return r;
    }
    pump_body(g);
    return 0;
}

size_t cgi_feed(struct hconn *c, const char *in, size_t len)
{
    struct cgi *g = c->cgi;
    if (!g) {
        /* cannot happen (detach ends the body), but never parse a body */
        body_unread(c);
        return len;
    }
    if (!g->chunked_in) {
        size_t take = len < g->body_left ? len : (size_t)g->body_left, done = 0;
        if (g->in_io.fd < 0) {
            done = take;   /* stdin closed: the rest is read and dropped */
        } else {
            /* at most CGI_IN_HIGH bytes wait for the script */
            while (done < take) {
                size_t used = ibx_buf_used(&g->body);
                size_t room = used < CGI_IN_HIGH ? CGI_IN_HIGH - used : 0;
                if (!room || g->in_io.fd < 0)
                    break;
                size_t k = take - done < room ? take - done : room;
                if (ibx_buf_append(&g->body, in + done, k) < 0) {
                    fail(g, 500, "out of memory");
                    return len;
                }
                done += k;
                pump_body(g);
            }
            if (done < take && g->in_io.fd < 0)
                done = take;
            /* else reading pauses (cgi_wants_body) until on_in */
        }
        g->body_left -= done;
        if (!g->body_left) {
            g->in_done = true;
            c->reading_body = false;
            pump_body(g);
        }
        return done;
    }
    size_t used = 0;
    while (used < len && !ibx_http_chunked_done(&g->ch)) {
        struct ibx_http_str data;
        ssize_t k = ibx_http_chunked_step(&g->ch, in + used, len - used, &data);
        if (k < 0) {
            fail(g, 400, "bad chunked request body");
            return len;
        }
        used += (size_t)k;
        g->body_total += data.n;
        if (g->body_total > c->cfg->max_body) {
            fail(g, 413, "chunked request body over --max-body");
            return len;
        }
        if (ibx_buf_append(&g->body, data.p, data.n) < 0) {
            fail(g, 500, "out of memory");
            return len;
        }
    }
    if (ibx_http_chunked_done(&g->ch)) {
        c->reading_body = false;
        g->in_done = true;
        char num[24];
        int n = snprintf(num, sizeof num, "%llu", (unsigned long long)g->body_total);
        if (cgi_env_add(&g->env, "CONTENT_LENGTH", num, (size_t)n) < 0)
            fail(g, 500, "out of memory");
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
    /* The script's directory is resolved once, through the confined
     * resolver; the script is opened relative to that descriptor and runs
     * in that same directory (fchdir in cgi_spawn.c), from the descriptor
     * opened here (execveat): nothing is looked up by name again, so a
     * directory or symlink swapped meanwhile cannot make the script run
     * elsewhere than where it was found. PATH_INFO obeys the hidden-path
     * rule as well: a script that maps it to a file (PATH_TRANSLATED) must
     * not become a way to read /.env or an upload in progress. */
    char *last = strrchr(script_name, '/');
    int dfd = -ENOENT, fd = -ENOENT;
    if (fs_path_visible(cfg, path)) {
        *last = '\0';
        dfd = fs_open(cfg, script_name[0] ? script_name : "/", O_RDONLY | O_DIRECTORY);
        *last = '/';
        fd = dfd < 0 ? dfd : fs_open_at(cfg, dfd, last + 1, O_RDONLY | O_NONBLOCK);
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
        int status = fd == -ENOENT || fd == -ENOTDIR ? 404 : 403;
        if (fd >= 0)
            close(fd);
        if (dfd >= 0)
            close(dfd);
        c->close_after |= body;
        c->linger |= body;
        resp_error(c, status);
        return;
    }
    struct cgi *g = calloc(1, sizeof *g);
    if (!g) {
        close(fd);
        close(dfd);
        c->close_after = true;
        c->linger |= body;
        resp_error(c, 500);
        return;
    }
    g->c = c;
    g->cfg = cfg;
    g->loop = ibx_worker_loop(c->base.worker);
    g->pio.fd = g->out_io.fd = g->in_io.fd = g->err_io.fd = -1;
    g->script_fd = fd;
    g->dir_fd = dfd;
    g->status = 200;
    g->wstatus = -1;
    c->cgi = g;
    /* until the whole body is here (or the connection closes after the
     * answer: body_unread) */
    c->reading_body = body;
    ibx_addr_format(&c->peer.sa, c->peerlen, g->elog.peer, sizeof g->elog.peer);
    memcpy(g->elog.script, script_name, sn + 1);
    size_t rl = strlen(cfg->root_real);
    g->script = malloc(rl + sn + 1);
    /* a copy of the request line and log fields for the access log */
    size_t ln = req->method.n + req->target.n + req->referer.n + req->user_agent.n;
    g->logstr = malloc(ln + 1);
    if (!g->script || !g->logstr ||
        cgi_env_build(&g->env, c, script_name, slash ? slash : "", query) < 0) {
        fail(g, 500, "out of memory");
        return;
    }
    memcpy(g->script, cfg->root_real, rl);
    memcpy(g->script + rl, script_name, sn + 1);
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

    /* The slot is taken before anything is read or sent: a chunked body
     * is collected in memory (up to --max-body) before its script starts,
     * and at most --cgi-max of them are held at once; a request answered
     * 503 gets no 100 Continue. */
    if (!cgi_slot_take(cfg)) {
        fail(g, 503, NULL);   /* logged by cgi_slot_take, once a second */
        return;
    }
    g->slot = true;
    if (body && (req->flags & IBX_HTTP_F_CONTINUE) && avail_in == 0 && c->minor >= 1)
        ibx_buf_append(conn_outbuf(c), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    if (req->flags & IBX_HTTP_F_CHUNKED) {
        g->chunked_in = true;
        *avail = cgi_feed(c, in, avail_in);
        return;
    }
    g->body_left = body ? req->content_length : 0;
    if (start_or_fail(g) < 0)
        return;
    if (g->body_left) {
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
        ibx_io_modify(g->loop, &g->out_io, IBX_EV_READ);
}

void cgi_abort(struct hconn *c)
{
    struct cgi *g = c->cgi;
    if (!g)
        return;
    if (c->closing || g->finished) {
        /* the client left, or a finished script would not exit */
        g->finished = true;
        detach(g);
        return;
    }
    /* a timeout: 504 if nothing went out yet, else cut the response */
    char why[64];
    snprintf(why, sizeof why, "timed out after %u s, killed", c->cfg->cgi_timeout_ms / 1000);
    fail(g, 504, why);
}
