/* ipcbench: shared-memory mechanisms. Three use a simple ring of
 * fixed-size slots per direction (indices on separate 128-byte blocks):
 *   eventfd + shm   the consumer sleeps in read(eventfd); every message
 *                   costs an eventfd write each way (data, then space)
 *   shm busy-wait   both sides spin on the indices; no system call
 *   mmap'd file     the busy-wait ring in a MAP_SHARED regular file
 * plus the library's ibx_shmq (zero-copy reserve/commit and peek/release,
 * spin-then-futex) and the physical floor: one cache line bounced between
 * two cores. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/magic.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "bench.h"
#include "ipcbox/shmq.h"

#define RING_BYTES (4u << 20)
#define RING_HDR 256u

struct ring_hdr {
    alignas(128) _Atomic uint64_t head;
    alignas(128) _Atomic uint64_t tail;
};

/* One direction as seen by one side. */
struct ring_end {
    struct ring_hdr *h;
    unsigned char *slots;
    uint64_t pos;       /* our index (head if sending, tail if receiving) */
    uint64_t cached;    /* the other side's index, last seen */
    int data_efd, space_efd;
};

struct ring_priv {
    unsigned char *base;
    size_t len;
    uint64_t k;         /* slots per direction */
    size_t stride;      /* slot size (64-byte multiple) */
    int efd[4];         /* data0, space0, data1, space1 (eventfd variant) */
    bool efd_mode;
    struct ring_end tx, rx;
};

/* Busy-wait step: pause, and yield now and then so that two sides forced
 * onto one CPU (--cpus 0,0, or a one-CPU machine) still make progress. */
static void spin_step(unsigned *n)
{
    if ((++*n & 1023) == 0)
        sched_yield();
    else
        cpu_relax();
}

static unsigned char *ring_dir(struct ring_priv *p, int d)
{
    return p->base + (size_t)d * (RING_HDR + p->k * p->stride);
}

/* Size the rings; map them from fd (file variant) or anonymous memory. */
static int ring_open(struct chan *c, int fd, bool efd)
{
    struct ring_priv *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->stride = (c->size + 63) & ~(size_t)63;
    p->k = RING_BYTES / p->stride;
    if (p->k < 4)
        p->k = 4;
    if (p->k > 1024)
        p->k = 1024;
    p->len = 2 * (RING_HDR + p->k * p->stride);
    for (int i = 0; i < 4; i++)
        p->efd[i] = -1;
    int r = 0;
    if (fd >= 0 && ftruncate(fd, (off_t)p->len) < 0)
        r = -errno;
    if (r == 0) {
        p->base = mmap(NULL, p->len, PROT_READ | PROT_WRITE,
                       fd >= 0 ? MAP_SHARED : MAP_SHARED | MAP_ANONYMOUS, fd, 0);
        if (p->base == MAP_FAILED) {
            p->base = NULL;
            r = -errno;
        }
    }
    p->efd_mode = efd;
    for (int i = 0; efd && r == 0 && i < 4; i++)
        if ((p->efd[i] = eventfd(0, EFD_CLOEXEC)) < 0)
            r = -errno;
    c->priv = p;
    return r;
}

static int ring_side(struct chan *c, int side)
{
    struct ring_priv *p = c->priv;
    int out = side, in = !side;     /* A sends on ring 0, B on ring 1 */
    p->tx = (struct ring_end){(struct ring_hdr *)ring_dir(p, out),
                              ring_dir(p, out) + RING_HDR, 0, 0,
                              p->efd[2 * out], p->efd[2 * out + 1]};
    p->rx = (struct ring_end){(struct ring_hdr *)ring_dir(p, in),
                              ring_dir(p, in) + RING_HDR, 0, 0,
                              p->efd[2 * in], p->efd[2 * in + 1]};
    return 0;
}

static int efd_wait(int fd)
{
    uint64_t v;
    for (;;) {
        ssize_t n = read(fd, &v, sizeof v);
        if (n == sizeof v)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

static int efd_post(int fd)
{
    uint64_t one = 1;
    while (write(fd, &one, sizeof one) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

static int ring_send(struct chan *c, const void *buf)
{
    struct ring_priv *p = c->priv;
    struct ring_end *e = &p->tx;
    unsigned spins = 0;
    while (e->pos - e->cached >= p->k) {
        e->cached = atomic_load_explicit(&e->h->tail, memory_order_acquire);
        if (e->pos - e->cached < p->k)
            break;
        if (p->efd_mode) {
            int r = efd_wait(e->space_efd);
            if (r < 0)
                return r;
        } else {
            spin_step(&spins);
        }
    }
    memcpy(e->slots + (e->pos % p->k) * p->stride, buf, c->size);
    atomic_store_explicit(&e->h->head, ++e->pos, memory_order_release);
    return p->efd_mode ? efd_post(e->data_efd) : 0;
}

static int ring_recv(struct chan *c, const void **data)
{
    struct ring_priv *p = c->priv;
    struct ring_end *e = &p->rx;
    unsigned spins = 0;
    while (e->pos == e->cached) {
        e->cached = atomic_load_explicit(&e->h->head, memory_order_acquire);
        if (e->pos != e->cached)
            break;
        if (p->efd_mode) {
            int r = efd_wait(e->data_efd);
            if (r < 0)
                return r;
        } else {
            spin_step(&spins);
        }
    }
    *data = e->slots + (e->pos % p->k) * p->stride;
    return 0;
}

static void ring_release(struct chan *c)
{
    struct ring_priv *p = c->priv;
    struct ring_end *e = &p->rx;
    atomic_store_explicit(&e->h->tail, ++e->pos, memory_order_release);
    if (p->efd_mode)
        efd_post(e->space_efd);
}

static void ring_destroy(struct chan *c)
{
    struct ring_priv *p = c->priv;
    if (!p)
        return;
    if (p->base)
        munmap(p->base, p->len);
    for (int i = 0; i < 4; i++)
        if (p->efd[i] >= 0)
            close(p->efd[i]);
    free(p);
    c->priv = NULL;
    static const char *const names[] = {"ring"};
    chan_tmpdir_remove(c, names, 1);
}

static int efd_open(struct chan *c)
{
    return ring_open(c, -1, true);
}

static int spin_open(struct chan *c)
{
    return ring_open(c, -1, false);
}

/* A regular file: $IPCBENCH_DIR, else /var/tmp (usually a disk file
 * system, unlike /tmp which is often tmpfs). */
static int mmap_file_open(struct chan *c)
{
    const char *dir = getenv("IPCBENCH_DIR");
    if (!dir || !*dir)
        dir = access("/var/tmp", W_OK) == 0 ? "/var/tmp" : "/tmp";
    int r = chan_tmpdir(c, dir);
    if (r < 0)
        return r;
    char path[128];
    snprintf(path, sizeof path, "%s/ring", c->tmpdir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    struct statfs sf;
    if (fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
        snprintf(c->why, sizeof c->why, "file on tmpfs");
    r = ring_open(c, fd, false);
    close(fd);
    return r;
}

const struct mech mech_eventfd_shm = {
    .name = "eventfd", .label = "eventfd + shared memory", .kind = MECH_CHANNEL,
    .open = efd_open, .side = ring_side, .send = ring_send, .recv = ring_recv,
    .release = ring_release, .destroy = ring_destroy,
};

const struct mech mech_shm_spin = {
    .name = "shmspin", .label = "shared memory, busy-wait", .kind = MECH_CHANNEL,
    .open = spin_open, .side = ring_side, .send = ring_send, .recv = ring_recv,
    .release = ring_release, .destroy = ring_destroy,
};

const struct mech mech_mmap_file = {
    .name = "mmapfile", .label = "mmap'd file, busy-wait", .kind = MECH_CHANNEL,
    .open = mmap_file_open, .side = ring_side, .send = ring_send, .recv = ring_recv,
    .release = ring_release, .destroy = ring_destroy,
};

/* ---- ibx_shmq: queue 0 carries A->B, queue 1 B->A ---- */

struct shmq_priv {
    ibx_shmq *q[2];
    ibx_shmq *tx, *rx;
};

static int shmq_open(struct chan *c)
{
    struct shmq_priv *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    c->priv = p;
    size_t cap = 256u << 10;
    while (cap < 3 * (c->size + 16))
        cap <<= 1;
    for (int i = 0; i < 2; i++) {
        int r = ibx_shmq_create(NULL, cap, 0, 0600, &p->q[i]);
        if (r < 0)
            return r;
    }
    return 0;
}

static int shmq_side(struct chan *c, int side)
{
    struct shmq_priv *p = c->priv;
    p->tx = p->q[side];
    p->rx = p->q[!side];
    int r = ibx_shmq_attach(p->tx, IBX_SHMQ_PRODUCER);
    return r < 0 ? r : ibx_shmq_attach(p->rx, IBX_SHMQ_CONSUMER);
}

static int shmq_send(struct chan *c, const void *buf)
{
    struct shmq_priv *p = c->priv;
    return ibx_shmq_send(p->tx, buf, c->size, -1);
}

static int shmq_recv(struct chan *c, const void **data)
{
    struct shmq_priv *p = c->priv;
    size_t n;
    int r = ibx_shmq_peek(p->rx, data, &n, -1);
    return r < 0 ? r : n == c->size ? 0 : -EPROTO;
}

static void shmq_release(struct chan *c)
{
    struct shmq_priv *p = c->priv;
    ibx_shmq_release(p->rx);
}

static void shmq_destroy(struct chan *c)
{
    struct shmq_priv *p = c->priv;
    if (!p)
        return;
    ibx_shmq_close(p->q[0]);
    ibx_shmq_close(p->q[1]);
    free(p);
    c->priv = NULL;
}

const struct mech mech_shmq = {
    .name = "shmq", .label = "ipcbox shmq (spin, then futex)", .kind = MECH_CHANNEL,
    .open = shmq_open, .side = shmq_side, .send = shmq_send, .recv = shmq_recv,
    .release = shmq_release, .leave = shmq_destroy, .destroy = shmq_destroy,
};

/* ---- the floor: an 8-byte value and a sequence number in one cache line
 * per direction, polled by the other core ---- */

struct line {
    alignas(128) _Atomic uint64_t seq;
    _Atomic uint64_t val;
};

struct line_priv {
    struct line *l;         /* [2], shared */
    uint64_t sent, seen;
    int side;
};

static int line_open(struct chan *c)
{
    struct line_priv *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    c->priv = p;
    p->l = shared_alloc(2 * sizeof *p->l);
    return p->l ? 0 : -ENOMEM;
}

static int line_side(struct chan *c, int side)
{
    struct line_priv *p = c->priv;
    p->side = side;
    return 0;
}

static int line_send(struct chan *c, const void *buf)
{
    struct line_priv *p = c->priv;
    struct line *l = &p->l[p->side];
    uint64_t v;
    memcpy(&v, buf, sizeof v);
    atomic_store_explicit(&l->val, v, memory_order_relaxed);
    atomic_store_explicit(&l->seq, ++p->sent, memory_order_release);
    return 0;
}

static int line_recv(struct chan *c, const void **data)
{
    struct line_priv *p = c->priv;
    struct line *l = &p->l[!p->side];
    unsigned spins = 0;
    p->seen++;
    while (atomic_load_explicit(&l->seq, memory_order_acquire) != p->seen)
        spin_step(&spins);
    uint64_t v = atomic_load_explicit(&l->val, memory_order_relaxed);
    memcpy(c->rbuf, &v, sizeof v);
    *data = c->rbuf;
    return 0;
}

static void line_destroy(struct chan *c)
{
    struct line_priv *p = c->priv;
    if (!p)
        return;
    shared_free(p->l, 2 * sizeof *p->l);
    free(p);
    c->priv = NULL;
}

const struct mech mech_cacheline = {
    .name = "cacheline", .label = "core-to-core cache line (floor)",
    .kind = MECH_LATENCY, .fixed_size = 8,
    .open = line_open, .side = line_side, .send = line_send, .recv = line_recv,
    .destroy = line_destroy,
};
