/* ipcbench: message-preserving mechanisms (Unix datagram socketpair, UDP
 * loopback, POSIX and SysV message queues). One message per system call;
 * sizes the mechanism cannot carry are reported as n/a with the limit. */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define UDP_MAX 65507u
#define SOCK_BUF (4 << 20)

static void close_fds(struct chan *c)
{
    for (int i = 0; i < 8; i++)
        if (c->fd[i] >= 0) {
            close(c->fd[i]);
            c->fd[i] = -1;
        }
}

static int pair_side(struct chan *c, int side)
{
    c->rfd = c->wfd = c->fd[side];
    close(c->fd[!side]);
    return 0;
}

static int dgram_send(struct chan *c, const void *buf)
{
    for (;;) {
        ssize_t n = send(c->wfd, buf, c->size, 0);
        if (n == (ssize_t)c->size)
            return 0;
        if (n >= 0)
            return -EPROTO;
        if (errno != EINTR)
            return -errno;
    }
}

static int dgram_recv_raw(struct chan *c)
{
    for (;;) {
        ssize_t n = recv(c->rfd, c->rbuf, c->size, MSG_TRUNC);
        if (n == (ssize_t)c->size)
            return 0;
        if (n >= 0)
            return -EPROTO;     /* short or truncated datagram */
        if (errno != EINTR)
            return -errno;
    }
}

static int dgram_recv(struct chan *c, const void **data)
{
    *data = c->rbuf;
    return dgram_recv_raw(c);
}

/* ---- Unix datagram socketpair (the sender blocks when the peer's queue
 * is full, so no loss and no flow control of our own) ---- */

static int unix_dgram_open(struct chan *c)
{
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, c->fd) < 0)
        return -errno;
    int want = SOCK_BUF, got = 0;
    socklen_t len = sizeof got;
    for (int i = 0; i < 2; i++)
        setsockopt(c->fd[i], SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
    getsockopt(c->fd[0], SOL_SOCKET, SO_SNDBUF, &got, &len);
    if ((size_t)got < c->size + 512) {
        snprintf(c->why, sizeof c->why, "datagram exceeds SO_SNDBUF %d (wmem_max)", got);
        close_fds(c);
        return -EMSGSIZE;
    }
    return 0;
}

const struct mech mech_unix_dgram = {
    .name = "unixdgram", .label = "Unix datagram (socketpair)", .kind = MECH_CHANNEL,
    .open = unix_dgram_open, .side = pair_side, .send = dgram_send,
    .recv = dgram_recv, .destroy = close_fds,
};

/* ---- UDP loopback. UDP drops when the receive buffer is full, so the
 * stream uses credits: the receiver returns a count every window/2
 * datagrams and the sender keeps at most a window in flight, sized so a
 * window fits the receive buffer. ---- */

struct udp_flow {
    uint64_t sent, acked, received;
    uint64_t window;
};

static int udp_open(struct chan *c)
{
    if (c->size > UDP_MAX) {
        snprintf(c->why, sizeof c->why, "exceeds the UDP datagram limit (%u B)", UDP_MAX);
        return -EMSGSIZE;
    }
    struct sockaddr_in sa[2];
    int r = 0, want = SOCK_BUF, got = 0;
    socklen_t len = sizeof got;
    for (int i = 0; i < 2 && r == 0; i++) {
        memset(&sa[i], 0, sizeof sa[i]);
        sa[i].sin_family = AF_INET;
        sa[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sa[i];
        c->fd[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (c->fd[i] < 0 || bind(c->fd[i], (struct sockaddr *)&sa[i], sizeof sa[i]) < 0 ||
            getsockname(c->fd[i], (struct sockaddr *)&sa[i], &sl) < 0)
            r = -errno;
        else {
            setsockopt(c->fd[i], SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
            setsockopt(c->fd[i], SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
        }
    }
    for (int i = 0; i < 2 && r == 0; i++)
        if (connect(c->fd[i], (struct sockaddr *)&sa[!i], sizeof sa[!i]) < 0)
            r = -errno;
    if (r == 0 && getsockopt(c->fd[1], SOL_SOCKET, SO_RCVBUF, &got, &len) < 0)
        r = -errno;
    struct udp_flow *f = r == 0 ? calloc(1, sizeof *f) : NULL;
    if (r == 0 && !f)
        r = -ENOMEM;
    if (r < 0) {
        close_fds(c);
        return r;
    }
    /* kernel accounting per datagram is roughly payload + 768 B, twice */
    f->window = (uint64_t)got / (2 * (c->size + 768));
    if (f->window < 2)
        f->window = 2;
    if (f->window > 4096)
        f->window = 4096;
    c->priv = f;
    return 0;
}

static int udp_send(struct chan *c, const void *buf)
{
    struct udp_flow *f = c->priv;
    while (c->stream && f->sent - f->acked >= f->window) {
        uint64_t credit;
        ssize_t n = recv(c->rfd, &credit, sizeof credit, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != sizeof credit)
            return n < 0 ? -errno : -EPROTO;
        if (credit > f->acked)
            f->acked = credit;
    }
    int r = dgram_send(c, buf);
    f->sent++;
    return r;
}

static int udp_recv(struct chan *c, const void **data)
{
    struct udp_flow *f = c->priv;
    *data = c->rbuf;
    int r = dgram_recv_raw(c);
    if (r == 0 && c->stream && ++f->received % (f->window / 2) == 0)
        send(c->wfd, &f->received, sizeof f->received, 0);  /* loopback: never dropped, the window fits */
    return r;
}

static void udp_destroy(struct chan *c)
{
    close_fds(c);
    free(c->priv);
    c->priv = NULL;
}

const struct mech mech_udp = {
    .name = "udp", .label = "UDP loopback", .kind = MECH_CHANNEL,
    .open = udp_open, .side = pair_side, .send = udp_send,
    .recv = udp_recv, .destroy = udp_destroy,
};

/* ---- POSIX message queues: two unnamed-after-open queues, 10 messages
 * deep (the unprivileged default limit). ---- */

static int mq_open_pair(struct chan *c)
{
    struct mq_attr attr = {.mq_maxmsg = 10, .mq_msgsize = (long)c->size};
    for (int i = 0; i < 2; i++) {
        char name[64];
        snprintf(name, sizeof name, "/ipcbench-%d-%d", (int)getpid(), i);
        mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
        if (q == (mqd_t)-1) {
            int e = errno;
            if (e == EINVAL)
                snprintf(c->why, sizeof c->why,
                         "message size above fs.mqueue.msgsize_max");
            else if (e == EMFILE || e == ENOMEM)
                snprintf(c->why, sizeof c->why, "queue exceeds RLIMIT_MSGQUEUE");
            else
                snprintf(c->why, sizeof c->why, "mq_open: %s", strerror(e));
            if (i)
                mq_close(c->fd[0]);
            c->fd[0] = -1;
            return -e;
        }
        mq_unlink(name);    /* the descriptors are all we need */
        c->fd[i] = q;
    }
    return 0;
}

static int mq_side(struct chan *c, int side)
{
    c->wfd = c->fd[side];       /* A sends on queue 0, B on queue 1 */
    c->rfd = c->fd[!side];
    return 0;
}

static int mq_send_msg(struct chan *c, const void *buf)
{
    while (mq_send(c->wfd, buf, c->size, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static int mq_recv_msg(struct chan *c, const void **data)
{
    *data = c->rbuf;
    for (;;) {
        ssize_t n = mq_receive(c->rfd, (char *)c->rbuf, c->size, NULL);
        if (n == (ssize_t)c->size)
            return 0;
        if (n >= 0)
            return -EPROTO;
        if (errno != EINTR)
            return -errno;
    }
}

static void mq_destroy(struct chan *c)
{
    for (int i = 0; i < 2; i++)
        if (c->fd[i] >= 0) {
            mq_close(c->fd[i]);
            c->fd[i] = -1;
        }
}

const struct mech mech_posix_mq = {
    .name = "mq", .label = "POSIX message queue", .kind = MECH_CHANNEL,
    .open = mq_open_pair, .side = mq_side, .send = mq_send_msg,
    .recv = mq_recv_msg, .destroy = mq_destroy,
};

/* ---- SysV message queues (IPC_PRIVATE, removed by the parent). A
 * message must be prefixed by its type, so the sender copies once more. */

struct sysv_buf {
    long mtype;
    unsigned char mtext[];
};

static long read_proc_long(const char *path)
{
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static int sysv_open(struct chan *c)
{
    long max = read_proc_long("/proc/sys/kernel/msgmax");
    if (max > 0 && c->size > (size_t)max) {
        snprintf(c->why, sizeof c->why, "above kernel.msgmax (%ld B)", max);
        return -EMSGSIZE;
    }
    for (int i = 0; i < 2; i++) {
        c->fd[i] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        if (c->fd[i] < 0) {
            int e = errno;
            if (i)
                msgctl(c->fd[0], IPC_RMID, NULL);
            c->fd[0] = -1;
            return -e;
        }
    }
    return 0;
}

static int sysv_side(struct chan *c, int side)
{
    c->wfd = c->fd[side];
    c->rfd = c->fd[!side];
    /* [0] is the send buffer, [1] the receive buffer */
    struct sysv_buf **b = calloc(2, sizeof *b);
    if (!b)
        return -ENOMEM;
    b[0] = malloc(sizeof(struct sysv_buf) + c->size);
    b[1] = malloc(sizeof(struct sysv_buf) + c->size);
    if (!b[0] || !b[1])
        return -ENOMEM;
    b[0]->mtype = 1;
    c->priv = b;
    return 0;
}

static int sysv_send(struct chan *c, const void *buf)
{
    struct sysv_buf **b = c->priv;
    memcpy(b[0]->mtext, buf, c->size);
    while (msgsnd(c->wfd, b[0], c->size, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static int sysv_recv(struct chan *c, const void **data)
{
    struct sysv_buf **b = c->priv;
    for (;;) {
        ssize_t n = msgrcv(c->rfd, b[1], c->size, 0, 0);
        if (n == (ssize_t)c->size) {
            *data = b[1]->mtext;
            return 0;
        }
        if (n >= 0)
            return -EPROTO;
        if (errno != EINTR)
            return -errno;
    }
}

static void sysv_destroy(struct chan *c)
{
    for (int i = 0; i < 2; i++)
        if (c->fd[i] >= 0) {
            msgctl(c->fd[i], IPC_RMID, NULL);
            c->fd[i] = -1;
        }
}

const struct mech mech_sysv_mq = {
    .name = "sysvmq", .label = "SysV message queue", .kind = MECH_CHANNEL,
    .open = sysv_open, .side = sysv_side, .send = sysv_send,
    .recv = sysv_recv, .destroy = sysv_destroy,
};
