/* Sending the file part of a response. Two ways, chosen by --sendfile:
 *
 * pread+send (default): the file is read in HTTPD_FILE_BUF pieces into a
 * buffer the connection holds only while the transfer runs, and a short
 * response head rides in the first piece. What the socket does not take
 * stays in the buffer (never read twice). On loopback and in VMs this
 * beats sendfile(): the copy lands in a cache-hot buffer and the
 * receiver gets whole segments.
 *
 * sendfile: zero-copy from the page cache, in SENDFILE_CHUNK calls; the
 * better choice on real NICs with checksum and segmentation offload. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd.h"

/* Largest sendfile() call. */
#define SENDFILE_CHUNK (256 * 1024)
/* Longest head moved into the body buffer. */
#define COALESCE_MAX 4096

void body_end(struct hconn *c)
{
    if (c->send.fd >= 0)
        close(c->send.fd);
    c->send.fd = -1;
    free(c->send.buf);
    c->send.buf = NULL;
    c->send.bpos = c->send.blen = 0;
    c->send.fill = false;
}

void body_coalesce(struct hconn *c)
{
    ibx_buf *scratch = &c->hw->out;
    size_t n = ibx_buf_used(&c->out) + ibx_buf_used(scratch);
    if (c->cfg->sendfile || !n || n > COALESCE_MAX || c->send.bpos != c->send.blen)
        return;
    if (!c->send.buf && !(c->send.buf = malloc(HTTPD_FILE_BUF)))
        return;
    /* c->out holds the older bytes, the scratch the newer */
    size_t a = ibx_buf_used(&c->out);
    if (a)
        memcpy(c->send.buf, ibx_buf_head(&c->out), a);
    if (ibx_buf_used(scratch))
        memcpy(c->send.buf + a, ibx_buf_head(scratch), ibx_buf_used(scratch));
    ibx_buf_free(&c->out);
    ibx_buf_reset(scratch);
    c->send.bpos = 0;
    c->send.blen = (uint32_t)n;
    c->send.fill = true;
}

static int send_copy(struct hconn *c)
{
    struct hsend *s = &c->send;
    for (;;) {
        if (s->bpos == s->blen && !s->fill) {
            if (s->off >= s->end)
                return FLUSH_DONE;
            s->bpos = s->blen = 0;
            s->fill = true;
        }
        if (s->fill && s->off < s->end) {
            if (!s->buf && !(s->buf = malloc(HTTPD_FILE_BUF)))
                return FLUSH_ERROR;
            size_t room = HTTPD_FILE_BUF - s->blen;
            off_t left = s->end - s->off;
            size_t want = (off_t)room < left ? room : (size_t)left;
            ssize_t r = pread(s->fd, s->buf + s->blen, want, s->off);
            if (r <= 0)
                return FLUSH_ERROR;   /* read error, or the file shrank */
            s->off += r;
            s->blen += (uint32_t)r;
        }
        s->fill = false;
        ssize_t w = send(c->io.fd, s->buf + s->bpos, s->blen - s->bpos, MSG_NOSIGNAL);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR ? FLUSH_AGAIN : FLUSH_ERROR;
        s->bpos += (uint32_t)w;
    }
}

static int send_zero_copy(struct hconn *c)
{
    struct hsend *s = &c->send;
    while (s->off < s->end) {
        off_t left = s->end - s->off;
        size_t n = left > SENDFILE_CHUNK ? SENDFILE_CHUNK : (size_t)left;
        ssize_t w = sendfile(c->io.fd, s->fd, &s->off, n);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            return FLUSH_AGAIN;
        if (w <= 0)
            return FLUSH_ERROR;   /* error, or the file shrank */
    }
    return FLUSH_DONE;
}

int body_send(struct hconn *c)
{
    if (c->send.fd < 0)
        return FLUSH_DONE;
    int r = c->cfg->sendfile ? send_zero_copy(c) : send_copy(c);
    if (r == FLUSH_DONE)
        body_end(c);
    return r;
}
