/* ipcbench: peer libraries over ipc:// — ZeroMQ (PAIR) and nng (pair1).
 * They are loaded with dlopen() at run time (libzmq.so.5, libnng.so.1), so
 * ipcbox never depends on them: without the library the rows are n/a.
 * Each child opens its own context/socket after fork (neither library
 * survives a fork with live threads). B listens, A connects. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static const char *const sock_names[] = {"sock"};

/* A connects only once B's socket file exists: both libraries would
 * otherwise retry on a ~100 ms reconnect timer. Bounded by the runner's
 * alarm. */
static void wait_for_listener(const struct chan *c)
{
    char path[128];
    snprintf(path, sizeof path, "%s/sock", c->tmpdir);
    while (access(path, F_OK) != 0)
        usleep(500);
}

/* ---- ZeroMQ ---- */

#define ZMQ_PAIR 0
#define ZMQ_LINGER 17
#define ZMQ_SNDHWM 23
#define ZMQ_RCVHWM 24

struct zmq_api {
    void *dl;
    void *(*ctx_new)(void);
    int (*ctx_term)(void *);
    void *(*socket)(void *, int);
    int (*close)(void *);
    int (*bind)(void *, const char *);
    int (*connect)(void *, const char *);
    int (*setsockopt)(void *, int, const void *, size_t);
    int (*send)(void *, const void *, size_t, int);
    int (*recv)(void *, void *, size_t, int);
    int (*err)(void);
    const char *(*strerror)(int);
    void *ctx, *sock;
};

/* Look up one symbol into a function-pointer field (the POSIX idiom:
 * dlsym returns an object pointer, copied bit for bit). */
static void load(void *dl, const char *name, void *field, size_t size, bool *ok)
{
    void *f = dlsym(dl, name);
    if (!f || size != sizeof f)
        *ok = false;
    else
        memcpy(field, &f, sizeof f);
}

static int zmq_open_(struct chan *c)
{
    struct zmq_api *z = calloc(1, sizeof *z);
    if (!z)
        return -ENOMEM;
    c->priv = z;
    z->dl = dlopen("libzmq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!z->dl) {
        snprintf(c->why, sizeof c->why, "libzmq.so.5 not installed");
        return -ENOSYS;
    }
    bool ok = true;
    load(z->dl, "zmq_ctx_new", &z->ctx_new, sizeof z->ctx_new, &ok);
    load(z->dl, "zmq_ctx_term", &z->ctx_term, sizeof z->ctx_term, &ok);
    load(z->dl, "zmq_socket", &z->socket, sizeof z->socket, &ok);
    load(z->dl, "zmq_close", &z->close, sizeof z->close, &ok);
    load(z->dl, "zmq_bind", &z->bind, sizeof z->bind, &ok);
    load(z->dl, "zmq_connect", &z->connect, sizeof z->connect, &ok);
    load(z->dl, "zmq_setsockopt", &z->setsockopt, sizeof z->setsockopt, &ok);
    load(z->dl, "zmq_send", &z->send, sizeof z->send, &ok);
    load(z->dl, "zmq_recv", &z->recv, sizeof z->recv, &ok);
    load(z->dl, "zmq_errno", &z->err, sizeof z->err, &ok);
    load(z->dl, "zmq_strerror", &z->strerror, sizeof z->strerror, &ok);
    if (!ok) {
        snprintf(c->why, sizeof c->why, "libzmq.so.5 lacks the 4.x API");
        return -ENOSYS;
    }
    return chan_tmpdir(c, NULL);
}

static int zmq_fail(struct chan *c, struct zmq_api *z, const char *what)
{
    int e = z->err();
    snprintf(c->why, sizeof c->why, "%s: %s", what, z->strerror(e));
    return e > 0 ? -e : -EIO;
}

static int zmq_side(struct chan *c, int side)
{
    struct zmq_api *z = c->priv;
    char url[128];
    snprintf(url, sizeof url, "ipc://%s/sock", c->tmpdir);
    z->ctx = z->ctx_new();
    z->sock = z->ctx ? z->socket(z->ctx, ZMQ_PAIR) : NULL;
    if (!z->sock)
        return zmq_fail(c, z, "zmq_socket");
    int hwm = (int)((16u << 20) / c->size), zero = 0;
    hwm = hwm < 8 ? 8 : hwm > 1000 ? 1000 : hwm;
    z->setsockopt(z->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    z->setsockopt(z->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    z->setsockopt(z->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (!side)
        wait_for_listener(c);
    if ((side ? z->bind(z->sock, url) : z->connect(z->sock, url)) < 0)
        return zmq_fail(c, z, side ? "zmq_bind" : "zmq_connect");
    return 0;
}

static int zmq_send_(struct chan *c, const void *buf)
{
    struct zmq_api *z = c->priv;
    while (z->send(z->sock, buf, c->size, 0) != (int)c->size)
        if (z->err() != EINTR)
            return zmq_fail(c, z, "zmq_send");
    return 0;
}

static int zmq_recv_(struct chan *c, const void **data)
{
    struct zmq_api *z = c->priv;
    for (;;) {
        int n = z->recv(z->sock, c->rbuf, c->size, 0);
        if (n == (int)c->size)
            break;
        if (n >= 0)
            return -EPROTO;
        if (z->err() != EINTR)
            return zmq_fail(c, z, "zmq_recv");
    }
    *data = c->rbuf;
    return 0;
}

static void zmq_leave(struct chan *c)
{
    struct zmq_api *z = c->priv;
    if (z->sock)
        z->close(z->sock);
    if (z->ctx)
        z->ctx_term(z->ctx);
}

static void zmq_destroy(struct chan *c)
{
    struct zmq_api *z = c->priv;
    if (z && z->dl)
        dlclose(z->dl);
    free(z);
    c->priv = NULL;
    chan_tmpdir_remove(c, sock_names, 1);
}

const struct mech mech_zmq = {
    .name = "zmq", .label = "ZeroMQ PAIR ipc:// (peer)", .kind = MECH_CHANNEL,
    .optional = true, .open = zmq_open_, .side = zmq_side, .send = zmq_send_,
    .recv = zmq_recv_, .leave = zmq_leave, .destroy = zmq_destroy,
};

/* ---- nng ---- */

typedef struct {
    uint32_t id;
} nng_sock;

#define NNG_FLAG_NONBLOCK 2

struct nng_api {
    void *dl;
    int (*pair1_open)(nng_sock *);
    int (*listen)(nng_sock, const char *, void *, int);
    int (*dial)(nng_sock, const char *, void *, int);
    int (*send)(nng_sock, void *, size_t, int);
    int (*recv)(nng_sock, void *, size_t *, int);
    int (*close)(nng_sock);
    const char *(*strerror)(int);
    int (*set_size)(nng_sock, const char *, size_t);
    int (*set_int)(nng_sock, const char *, int);
    nng_sock sock;
    bool open;
};

static int nng_open_(struct chan *c)
{
    struct nng_api *n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    c->priv = n;
    n->dl = dlopen("libnng.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!n->dl) {
        snprintf(c->why, sizeof c->why, "libnng.so.1 not installed");
        return -ENOSYS;
    }
    bool ok = true;
    load(n->dl, "nng_pair1_open", &n->pair1_open, sizeof n->pair1_open, &ok);
    load(n->dl, "nng_listen", &n->listen, sizeof n->listen, &ok);
    load(n->dl, "nng_dial", &n->dial, sizeof n->dial, &ok);
    load(n->dl, "nng_send", &n->send, sizeof n->send, &ok);
    load(n->dl, "nng_recv", &n->recv, sizeof n->recv, &ok);
    load(n->dl, "nng_close", &n->close, sizeof n->close, &ok);
    load(n->dl, "nng_strerror", &n->strerror, sizeof n->strerror, &ok);
    load(n->dl, "nng_socket_set_size", &n->set_size, sizeof n->set_size, &ok);
    load(n->dl, "nng_socket_set_int", &n->set_int, sizeof n->set_int, &ok);
    if (!ok) {
        snprintf(c->why, sizeof c->why, "libnng.so.1 lacks the 1.x API");
        return -ENOSYS;
    }
    return chan_tmpdir(c, NULL);
}

static int nng_fail(struct chan *c, struct nng_api *n, const char *what, int e)
{
    snprintf(c->why, sizeof c->why, "%s: %s", what, n->strerror(e));
    return -EIO;
}

static int nng_side(struct chan *c, int side)
{
    struct nng_api *n = c->priv;
    char url[128];
    snprintf(url, sizeof url, "ipc://%s/sock", c->tmpdir);
    int e = n->pair1_open(&n->sock);
    if (e)
        return nng_fail(c, n, "nng_pair1_open", e);
    n->open = true;
    n->set_size(n->sock, "recv-size-max", 0);           /* no 1 MiB cap */
    int depth = (int)((16u << 20) / c->size);
    depth = depth < 2 ? 2 : depth > 1000 ? 1000 : depth;
    n->set_int(n->sock, "send-buffer", depth);
    n->set_int(n->sock, "recv-buffer", depth);
    if (!side)
        wait_for_listener(c);
    e = side ? n->listen(n->sock, url, NULL, 0)
             : n->dial(n->sock, url, NULL, NNG_FLAG_NONBLOCK);   /* retries */
    return e ? nng_fail(c, n, side ? "nng_listen" : "nng_dial", e) : 0;
}

static int nng_send_(struct chan *c, const void *buf)
{
    struct nng_api *n = c->priv;
    int e = n->send(n->sock, (void *)buf, c->size, 0);
    return e ? nng_fail(c, n, "nng_send", e) : 0;
}

static int nng_recv_(struct chan *c, const void **data)
{
    struct nng_api *n = c->priv;
    size_t len = c->size;
    int e = n->recv(n->sock, c->rbuf, &len, 0);
    if (e)
        return nng_fail(c, n, "nng_recv", e);
    *data = c->rbuf;
    return len == c->size ? 0 : -EPROTO;
}

static void nng_leave(struct chan *c)
{
    struct nng_api *n = c->priv;
    if (n->open)
        n->close(n->sock);
}

static void nng_destroy(struct chan *c)
{
    struct nng_api *n = c->priv;
    if (n && n->dl)
        dlclose(n->dl);
    free(n);
    c->priv = NULL;
    chan_tmpdir_remove(c, sock_names, 1);
}

const struct mech mech_nng = {
    .name = "nng", .label = "nng pair1 ipc:// (peer)", .kind = MECH_CHANNEL,
    .optional = true, .open = nng_open_, .side = nng_side, .send = nng_send_,
    .recv = nng_recv_, .leave = nng_leave, .destroy = nng_destroy,
};
