/* Shared-memory queue: creating, naming, mapping and attaching. A queue is
 * one shared-memory object: a POSIX shm name or an anonymous memfd (sealed
 * against resizing, so a peer cannot make our mapping SIGBUS). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shmq_internal.h"

#define PAGE 4096u

static uint64_t data_offset(void)
{
    return ((uint64_t)sizeof(struct shmq_shared) + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

/* "/name": one leading slash, no other, 2..NAME_MAX bytes. */
static bool valid_name(const char *name)
{
    size_t n = strlen(name);
    return n >= 2 && n <= NAME_MAX && name[0] == '/' && !strchr(name + 1, '/');
}

static int init_robust(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    int r = pthread_mutexattr_init(&a);
    if (r == 0)
        r = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (r == 0)
        r = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    if (r == 0)
        r = pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return -r;
}

/* Fill a zeroed header; magic goes last so openers never see half of it. */
static int init_shared(struct shmq_shared *sh, uint64_t cap, unsigned flags)
{
    sh->version = SHMQ_VERSION;
    sh->flags = flags;
    sh->capacity = cap;
    sh->data_offset = data_offset();
    sh->total_size = sh->data_offset + cap;
    sh->nslots = (flags & IBX_SHMQ_MULTI_PRODUCER) ? IBX_SHMQ_MAX_PRODUCERS : 1;
    int r = init_robust(&sh->plock);
    if (r == 0)
        r = init_robust(&sh->consumer.lock);
    for (unsigned i = 0; r == 0 && i < IBX_SHMQ_MAX_PRODUCERS; i++)
        r = init_robust(&sh->producers[i].lock);
    if (r == 0)
        atomic_store_explicit(&sh->magic, SHMQ_MAGIC, memory_order_release);
    return r;
}

/* Map fd, validate the header and build a handle owning fd. */
static int map_fd(int fd, ibx_shmq **out)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if ((uint64_t)st.st_size < data_offset()) {
        /* a creator between shm_open and ftruncate looks like this */
        return st.st_size == 0 ? -EAGAIN : -EPROTO;
    }
    size_t size = (size_t)st.st_size;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    struct shmq_shared *sh = p;
    uint64_t magic = atomic_load_explicit(&sh->magic, memory_order_acquire);
    uint64_t cap = sh->capacity;
    int r = 0;
    if (magic == 0)
        r = -EAGAIN;
    else if (magic != SHMQ_MAGIC || sh->version != SHMQ_VERSION ||
             (sh->flags & ~(uint32_t)IBX_SHMQ_MULTI_PRODUCER) ||
             cap < IBX_SHMQ_MIN_CAPACITY || cap > IBX_SHMQ_MAX_CAPACITY ||
             (cap & (cap - 1)) || sh->data_offset != data_offset() ||
             sh->total_size != data_offset() + cap || sh->total_size != size ||
             sh->nslots != ((sh->flags & IBX_SHMQ_MULTI_PRODUCER) ? IBX_SHMQ_MAX_PRODUCERS : 1u))
        r = -EPROTO;
    ibx_shmq *q = r == 0 ? calloc(1, sizeof *q) : NULL;
    if (r == 0 && !q)
        r = -ENOMEM;
    if (r < 0) {
        munmap(p, size);
        return r;
    }
    q->sh = sh;
    q->data = (unsigned char *)p + data_offset();
    q->cap = cap;
    q->mask = cap - 1;
    q->map_size = size;
    q->max_msg = cap / 2 - SHMQ_REC_HDR;
    q->fd = fd;
    q->flags = sh->flags;
    q->nslots = sh->nslots;
    q->spin = SHMQ_DEFAULT_SPIN;
    *out = q;
    return 0;
}

int ibx_shmq_create(const char *name, size_t capacity, unsigned flags,
                    mode_t mode, ibx_shmq **out)
{
    if ((flags & ~(unsigned)IBX_SHMQ_MULTI_PRODUCER) || capacity > IBX_SHMQ_MAX_CAPACITY ||
        (name && !valid_name(name)))
        return -EINVAL;
    uint64_t cap = IBX_SHMQ_MIN_CAPACITY;
    while (cap < capacity)
        cap <<= 1;
    int fd;
    if (name)
        fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    else
        fd = memfd_create("ipcbox-shmq", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -errno;
    int r = 0;
    uint64_t total = data_offset() + cap;
    if (ftruncate(fd, (off_t)total) < 0)
        r = -errno;
    if (r == 0 && !name &&
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        r = -errno;
    void *p = MAP_FAILED;
    if (r == 0) {
        p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            r = -errno;
    }
    if (r == 0) {
        r = init_shared(p, cap, flags);
        munmap(p, total);
    }
    if (r == 0)
        r = map_fd(fd, out);
    if (r < 0) {
        if (name)
            shm_unlink(name);
        close(fd);
    }
    return r;
}

int ibx_shmq_open(const char *name, ibx_shmq **out)
{
    if (!name || !valid_name(name))
        return -EINVAL;
    int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int r = map_fd(fd, out);
    if (r < 0)
        close(fd);
    return r;
}

int ibx_shmq_from_fd(int fd, ibx_shmq **out)
{
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0)
        return -errno;
    int r = map_fd(dup, out);
    if (r < 0)
        close(dup);
    return r;
}

int ibx_shmq_unlink(const char *name)
{
    if (!name || !valid_name(name))
        return -EINVAL;
    return shm_unlink(name) < 0 ? -errno : 0;
}

int ibx_shmq_fd(const ibx_shmq *q)
{
    return q->fd;
}

size_t ibx_shmq_capacity(const ibx_shmq *q)
{
    return (size_t)q->cap;
}

size_t ibx_shmq_max_msg(const ibx_shmq *q)
{
    return q->max_msg;
}

bool ibx_shmq_is_multi_producer(const ibx_shmq *q)
{
    return q->flags & IBX_SHMQ_MULTI_PRODUCER;
}

void ibx_shmq_set_spin(ibx_shmq *q, unsigned iterations)
{
    q->spin = iterations;
}

/* Take a free slot: lock its robust mutex and keep it locked. */
static int take_slot(struct shmq_slot *s)
{
    int r = pthread_mutex_trylock(&s->lock);
    if (r == EOWNERDEAD) {      /* a previous holder died: slot is spent */
        pthread_mutex_consistent(&s->lock);
        pthread_mutex_unlock(&s->lock);
        return -EBUSY;
    }
    if (r != 0)
        return -EBUSY;
    if (atomic_load(&s->state) != SLOT_FREE) {
        pthread_mutex_unlock(&s->lock);
        return -EBUSY;
    }
    atomic_store(&s->pid, (int32_t)getpid());
    atomic_store_explicit(&s->state, SLOT_ATTACHED, memory_order_release);
    return 0;
}

int ibx_shmq_attach(ibx_shmq *q, enum ibx_shmq_role role)
{
    if (q->role || (role != IBX_SHMQ_CONSUMER && role != IBX_SHMQ_PRODUCER))
        return -EINVAL;
    struct shmq_shared *sh = q->sh;
    struct shmq_slot *s = NULL;
    if (role == IBX_SHMQ_CONSUMER) {
        if (take_slot(&sh->consumer) == 0)
            s = &sh->consumer;
    } else {
        for (unsigned i = 0; i < q->nslots && !s; i++)
            if (take_slot(&sh->producers[i]) == 0)
                s = &sh->producers[i];
    }
    if (!s)
        return -EBUSY;
    q->role = role;
    q->slot = s;
    q->asym = ibx__shmq_asym_register();
    /* Start from the shared indices (another producer may have written). */
    q->head_local = atomic_load_explicit(&sh->head, memory_order_acquire);
    q->cached_tail = atomic_load_explicit(&sh->tail, memory_order_acquire);
    q->tail_local = q->cached_tail;
    q->cached_head = q->head_local;
    return 0;
}

void ibx_shmq_close(ibx_shmq *q)
{
    if (!q)
        return;
    if (q->slot) {
        if (q->plocked)
            pthread_mutex_unlock(&q->sh->plock);
        atomic_store_explicit(&q->slot->state, SLOT_CLOSED, memory_order_release);
        pthread_mutex_unlock(&q->slot->lock);
        ibx__shmq_wake_all(&q->sh->data_ev);
        ibx__shmq_wake_all(&q->sh->space_ev);
    }
    munmap(q->sh, q->map_size);
    close(q->fd);
    free(q);
}

void ibx_shmq_free_forked(ibx_shmq *q)
{
    if (!q)
        return;
    munmap(q->sh, q->map_size);
    close(q->fd);
    free(q);
}
