/* Private layout of the shared-memory queue (see include/ipcbox/shmq.h).
 * The shared header is the same in every process that maps the queue; the
 * ibx_shmq handle is process-local. */
#ifndef IPCBOX_SHMQ_INTERNAL_H
#define IPCBOX_SHMQ_INTERNAL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ipcbox/shmq.h"

#define SHMQ_MAGIC   UINT64_C(0x3151484d53584249)   /* "IBXSMHQ1" */
#define SHMQ_VERSION 1u
/* Destructive interference size: two lines, for adjacent-line prefetch. */
#define SHMQ_LINE    128
#define SHMQ_REC_HDR 8u
#define SHMQ_DEFAULT_SPIN 4096u

/* Record kinds in shmq_rec.kind. */
enum { SHMQ_REC_MSG = 0x4d534731u, SHMQ_REC_PAD = 0x50414431u };

/* The 8-byte header in front of every record in the ring. */
struct shmq_rec {
    uint32_t len;   /* payload bytes (MSG) */
    uint32_t kind;  /* SHMQ_REC_MSG or SHMQ_REC_PAD (rest of the lap) */
};

/* Slot states. */
enum { SLOT_FREE = 0, SLOT_ATTACHED, SLOT_CLOSED, SLOT_DEAD };

/* One role's attachment: the robust mutex is held while attached. */
struct shmq_slot {
    pthread_mutex_t lock;
    _Atomic uint32_t state;
    _Atomic int32_t pid;
};

/* An event count: sleepers wait on seq, publishers bump it only when
 * waiters is non-zero. */
struct shmq_event {
    _Atomic uint32_t seq;
    _Atomic uint32_t waiters;
};

/* The header at offset 0 of the shared object. */
struct shmq_shared {
    _Atomic uint64_t magic;          /* written last, with release */
    uint32_t version;
    uint32_t flags;
    uint64_t capacity;               /* ring bytes, power of two */
    uint64_t data_offset;            /* ring starts here (page aligned) */
    uint64_t total_size;             /* data_offset + capacity */
    uint32_t nslots;                 /* producer slots in use (1 or 16) */

    alignas(SHMQ_LINE) _Atomic uint64_t head;   /* producer: bytes published */
    alignas(SHMQ_LINE) _Atomic uint64_t tail;   /* consumer: bytes freed */
    alignas(SHMQ_LINE) struct shmq_event data_ev;   /* consumer sleeps */
    alignas(SHMQ_LINE) struct shmq_event space_ev;  /* producers sleep */
    alignas(SHMQ_LINE) pthread_mutex_t plock;       /* multi-producer lock */
    alignas(SHMQ_LINE) struct shmq_slot consumer;
    struct shmq_slot producers[IBX_SHMQ_MAX_PRODUCERS];
};

/* The process-local handle. */
struct ibx_shmq {
    struct shmq_shared *sh;
    unsigned char *data;        /* ring base */
    uint64_t cap, mask;         /* local copies, never re-read */
    size_t map_size;
    size_t max_msg;
    int fd;
    unsigned flags;
    unsigned nslots;
    unsigned spin;
    enum ibx_shmq_role role;    /* 0 until attached */
    bool asym;                  /* registered for membarrier: see ibx__shmq_notify */
    struct shmq_slot *slot;     /* our slot once attached */

    /* producer side */
    uint64_t head_local;        /* next write position (single producer) */
    uint64_t cached_tail;       /* last tail seen */
    bool reserved;
    bool plocked;               /* holding plock (multi-producer) */
    uint64_t res_pos;           /* record position of the reservation */
    size_t res_len;

    /* consumer side */
    uint64_t tail_local;        /* next read position */
    uint64_t cached_head;       /* last head seen */
    bool peeked;
    uint64_t peek_end;
    size_t peek_len;
};

/* Round a record (header + payload) up to 8 bytes. */
static inline uint64_t shmq_rec_size(size_t len)
{
    return ((uint64_t)len + SHMQ_REC_HDR + 7u) & ~UINT64_C(7);
}

/* A condition a waiter re-checks: true when it may proceed. */
typedef bool (*shmq_ready_fn)(ibx_shmq *q, uint64_t arg);

/* Spin, then sleep on ev until ready(q, arg) or timeout, checking the
 * peer's liveness before every sleep (shmq_wait.c). 0 or -errno. */
int ibx__shmq_wait(ibx_shmq *q, struct shmq_event *ev, shmq_ready_fn ready,
                   uint64_t arg, int timeout_ms);
/* Wake sleepers on ev if any are flagged (see shmq_wait.c for the fence). */
void ibx__shmq_notify(ibx_shmq *q, struct shmq_event *ev);
/* Register this process for the asymmetric fence; true on success. */
bool ibx__shmq_asym_register(void);
/* Wake every sleeper on ev unconditionally (detach, death). */
void ibx__shmq_wake_all(struct shmq_event *ev);
/* The peer's state as seen by q's role: 0 alive (or not yet attached),
 * -EPIPE detached, -EOWNERDEAD died. */
int ibx__shmq_peer_status(ibx_shmq *q);

#endif
