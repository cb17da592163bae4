/* Coroutines: stacks, resume and yield (see ipcbox/coro.h). Parking on the
 * loop is coro_io.c; the register switch is coro_switch.c.
 *
 * Each stack is one private anonymous mapping: a PROT_NONE guard region
 * of IBX_CO_GUARD bytes at the bottom, the stack above it (pages committed
 * by the kernel only when touched). The guard is larger than a page so
 * that a big frame (a buffer on the stack) cannot step over it; it costs
 * address space only. Under AddressSanitizer every switch is announced with the
 * fiber annotations, so that ASan tracks which stack is current (and its
 * fake stacks) instead of reporting the switch as a stack overflow. */
#include "coro_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO_ASAN 1
#endif
#endif

#ifdef CO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define START_SWITCH(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define FINISH_SWITCH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#define UNPOISON(p, n) __asan_unpoison_memory_region(p, n)
#else
#define START_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define FINISH_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

/* First code on a new stack: runs the body, then leaves for good. */
static void co_entry(ibx_co *co)
{
    FINISH_SWITCH(NULL, &co->caller_bottom, &co->caller_size);
    co->fn(co, co->arg);
    co->state = CO_DONE;
    /* NULL: this fiber is finished, ASan may drop its fake stack */
    START_SWITCH(NULL, co->caller_bottom, co->caller_size);
    ibx__co_switch(&co->sp, co->caller_sp);
    abort();   /* never resumed: ibx_co_resume refuses a finished one */
}

int ibx_co_new(ibx_co **out, ibx_loop *loop, size_t stack_size, ibx_co_fn fn,
               void *arg)
{
    *out = NULL;
    if (!fn || stack_size > IBX_CO_STACK_MAX)
        return -EINVAL;
    size_t page = page_size();
    if (!stack_size)
        stack_size = IBX_CO_STACK_DEFAULT;
    if (stack_size < IBX_CO_STACK_MIN)
        stack_size = IBX_CO_STACK_MIN;
    stack_size = (stack_size + page - 1) & ~(page - 1);
    ibx_co *co = calloc(1, sizeof *co);
    if (!co)
        return -ENOMEM;
    size_t guard = IBX_CO_GUARD > page ? (IBX_CO_GUARD + page - 1) & ~(page - 1) : page;
    co->map_len = stack_size + guard;
    void *m = mmap(NULL, co->map_len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (m == MAP_FAILED) {
        free(co);
        return -ENOMEM;
    }
    co->map = m;
    co->stack_lo = co->map + guard;
    co->stack_len = stack_size;
    if (mprotect(co->map, guard, PROT_NONE) < 0) {   /* the guard */
        int e = errno;
        munmap(co->map, co->map_len);
        free(co);
        return e == ENOMEM ? -ENOMEM : -e;
    }
    co->sp = ibx__co_stack_init(co->map + co->map_len, co_entry, co);
    if (!co->sp) {
        munmap(co->map, co->map_len);
        free(co);
        return -ENOSYS;
    }
    co->fn = fn;
    co->arg = arg;
    co->loop = loop;
    co->state = CO_NEW;
    co->io.fd = -1;
    co->short_fd = -1;
    *out = co;
    return 0;
}

static void release_stack(ibx_co *co)
{
    if (co->map) {
        /* A coroutine freed while suspended never left its frames: ASan
         * still marks their redzones, and would report whatever is mapped
         * there next (munmap does not clear the marks). */
        if (co->state == CO_SUSPENDED)
            UNPOISON(co->stack_lo, co->stack_len);
        munmap(co->map, co->map_len);
        co->map = NULL;
    }
}

static void free_later(ibx_loop *loop, ibx_defer *d)
{
    ibx_co *co = d->data;
    if (co->wake_d.queued) {   /* its pending wake looks at it first */
        ibx_loop_defer(loop, &co->free_d, free_later, co);
        return;
    }
    free(co);
}

/* The handle goes once nothing of the loop can point at it: watchers are
 * stopped now, and a deferred callback frees it after the current pass. */
static void free_handle(ibx_co *co)
{
    co->freeing = true;
    ibx__co_unpark(co);
    release_stack(co);
    if (co->loop)
        ibx_loop_defer(co->loop, &co->free_d, free_later, co);
    else
        free(co);
}

int ibx_co_resume(ibx_co *co)
{
    if (co->freeing || (co->state != CO_NEW && co->state != CO_SUSPENDED))
        return -EINVAL;
    co->state = CO_RUNNING;
    void *fake = NULL;
    START_SWITCH(&fake, co->stack_lo, co->stack_len);
    ibx__co_switch(&co->caller_sp, co->sp);
    FINISH_SWITCH(fake, NULL, NULL);
    if (co->state != CO_DONE)
        return 0;
    ibx__co_unpark(co);
    release_stack(co);
    if (co->detached)
        free_handle(co);
    return 1;
}

int ibx_co_yield(ibx_co *co)
{
    char *here = __builtin_frame_address(0);
    if (co->state != CO_RUNNING || !co->map || here < co->stack_lo ||
        here >= co->stack_lo + co->stack_len)
        return -EPERM;
    co->state = CO_SUSPENDED;
    START_SWITCH(&co->fake_stack, co->caller_bottom, co->caller_size);
    ibx__co_switch(&co->sp, co->caller_sp);
    FINISH_SWITCH(co->fake_stack, &co->caller_bottom, &co->caller_size);
    return 0;
}

bool ibx_co_finished(const ibx_co *co) { return co->state == CO_DONE; }

ibx_loop *ibx_co_loop(const ibx_co *co) { return co->loop; }

void ibx_co_free(ibx_co *co)
{
    if (!co || co->freeing || co->state == CO_RUNNING)
        return;
    free_handle(co);
}

int ibx_co_spawn(ibx_loop *loop, size_t stack_size, ibx_co_fn fn, void *arg,
                 ibx_co **out)
{
    if (out)
        *out = NULL;
    if (!loop)
        return -EINVAL;
    ibx_co *co;
    int r = ibx_co_new(&co, loop, stack_size, fn, arg);
    if (r < 0)
        return r;
    co->detached = true;
    if (out)
        *out = co;
    ibx_co_resume(co);
    return 0;
}
