/* Private to the core's side of chatd's hub: hub.c (batching, the
 * rings, an edge's records and its end) and hubunit.c (the unit on the
 * main loop, registrations, its life). See chatd.h and hub.c. */
#ifndef IPCBOX_APPS_CHATD_HUB_H
#define IPCBOX_APPS_CHATD_HUB_H

#include <unistd.h>

#include "chatd.h"

#define HUB_BATCHES 4

struct hub_batch {
    struct chat_msg *m;
    bool bulk;
    uint64_t seq;
    uint64_t *ids;
    size_t n, cap;
};

struct hub_edge {
    struct hub *hub;
    struct hub_edge *prev, *next;   /* the hub's live (or dead) edges */
    struct hub_edge *dnext;         /* the hub's edges to flush */
    bool dirty, dead;
    ibx_shmq *rx;                   /* edge -> core */
    struct hub_tx tx;               /* core -> edge */
    int bell;
    ibx_io bell_io;
    ibx_timer retry;
    ibx_defer free_d;
    struct imap conns;              /* id -> struct conn */
    struct hub_batch b[HUB_BATCHES];
    size_t nb;
    uint64_t seq;
    long pid;
    bool broken;                    /* its reader is gone: nothing more to it */
};

struct hub {
    ibx_conn base;                  /* first: the unit */
    struct chat_srv *srv;
    ibx_worker *w;
    int ctl[2];                     /* [0] the core's end */
    ibx_io ctl_io;
    pid_t pid;
    size_t ring;
    struct hub_edge *edges, *dead, *dirty;
    size_t nedges;
    ibx_defer flush_d;
    bool running, draining, released;
};

/* In the core's process, not in a fork child finishing a loop pass on its
 * copy (see hub.c). */
static inline bool hub_core_here(const struct hub *h) { return getpid() == h->pid; }

static inline void hub_list_del(struct hub_edge **head, struct hub_edge *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        *head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

static inline void hub_list_add(struct hub_edge **head, struct hub_edge *e)
{
    e->prev = NULL;
    e->next = *head;
    if (*head)
        (*head)->prev = e;
    *head = e;
}

/* A registration (fds: its ring to us, ours to it, its doorbell). */
void hub_edge_add(struct hub *h, int fds[3], long pid);
/* Read what e committed. */
void hub_edge_pump(struct hub_edge *e);
/* The clients of e quit (reason), its watchers stop; freed after the pass. */
void hub_edge_dead(struct hub_edge *e, const char *reason);
/* Free e's memory and descriptors; the loop is not touched. */
void hub_edge_free_mem(struct hub_edge *e, bool forked);
/* The unit is done (the server may end). */
void hub_unit_done(struct hub *h);

#endif
