/* Private to the coroutines: the handle (coro.c, coro_io.c) and the
 * context switch (coro_switch.c). */
#ifndef IPCBOX_CORO_INT_H
#define IPCBOX_CORO_INT_H

#include "ipcbox/coro.h"

enum co_state {
    CO_NEW,        /* created, never entered */
    CO_RUNNING,    /* on the CPU (or resuming another coroutine) */
    CO_SUSPENDED,  /* yielded: parked, or a plain ibx_co_yield */
    CO_DONE,       /* its function returned; stack released */
};

struct ibx_co {
    void *sp;               /* its saved stack pointer while not running */
    void *caller_sp;        /* the resumer's, while it runs */
    ibx_co_fn fn;
    void *arg;
    char *map;              /* guard page + stack */
    size_t map_len;
    char *stack_lo;         /* the stack proper, above the guard page */
    size_t stack_len;
    enum co_state state;
    bool detached;          /* spawned: frees itself when done */
    bool freeing;           /* ibx_co_free was called */
    /* sanitizer fiber bookkeeping (unused without ASan) */
    void *fake_stack;
    const void *caller_bottom;
    size_t caller_size;
    /* parking on the loop (coro_io.c) */
    ibx_loop *loop;
    ibx_io io;              /* watcher on the fd it last waited on */
    ibx_timer timer;        /* timeout or sleep */
    ibx_defer wake_d;       /* a deferred wake (cancellation) */
    ibx_defer free_d;       /* the deferred free of the handle */
    bool parked;            /* waiting for io/timer/cancel */
    bool parked_input;      /* ... for new input (drain cancels it) */
    bool sleeping;          /* ... in ibx_co_sleep (the timer ends it well) */
    uint32_t want;          /* IBX_EV_* it waits for */
    int result;             /* what the wake says: 0 or -errno */
    int cancel;             /* 0, IBX_CO_DRAIN, IBX_CO_ABORT */
    unsigned timeout_ms;
    int short_fd;           /* its last read came back short: wait first */
};

/* coro_switch.c: save the callee-saved registers on the current stack,
 * store the stack pointer in *save, load `to` and restore from there. */
void ibx__co_switch(void **save, void *to);
/* Lay out a fresh stack whose top is `top` so that the first switch to
 * the returned stack pointer calls entry(co). NULL when unsupported. */
void *ibx__co_stack_init(char *top, void (*entry)(ibx_co *), ibx_co *co);

/* coro_io.c: forget co's watcher and timer (it finished or is freed). */
void ibx__co_unpark(ibx_co *co);

#endif
