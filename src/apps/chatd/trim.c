/* chatd gives freed heap back to the kernel. A room's life is bursty: a
 * thousand members joining send a million JOIN and NAMES lines, all freed
 * a moment later, and glibc keeps freed memory in its heap (only the top
 * of the heap is returned by itself). Every CHATD_TRIM_MS the core asks
 * for the size of the free heap and, past CHATD_TRIM_MIN, has malloc_trim
 * release its whole free pages (madvise), so that the RSS of a quiet
 * server follows its members, not its busiest minute. A unit of the main
 * loop: drained and aborted with the rest; in a fork child it holds
 * nothing to release. */
#include <malloc.h>

#include "chatd.h"

#define CHATD_TRIM_MS 5000
#define CHATD_TRIM_MIN ((size_t)1 << 20)

static void on_trim(ibx_loop *loop, ibx_timer *t)
{
    struct chat_trim *tr = t->data;
    struct mallinfo2 mi = mallinfo2();
    if (mi.fordblks > CHATD_TRIM_MIN)
        malloc_trim(0);
    ibx_timer_start(loop, &tr->t, CHATD_TRIM_MS, on_trim, tr);
}

static void trim_stop(ibx_conn *base)
{
    struct chat_trim *tr = (struct chat_trim *)base;
    if (!tr->running)
        return;
    tr->running = false;
    ibx_timer_stop(ibx_worker_loop(tr->w), &tr->t);
    ibx_conn_done(&tr->base);
}

static void trim_release(ibx_conn *base) { (void)base; }

static const struct ibx_conn_ops trim_ops = {
    .drain = trim_stop, .abort = trim_stop, .release = trim_release,
};

static int trim_start(ibx_worker *w, void *arg)
{
    struct chat_trim *tr = arg;
    tr->w = w;
    int r = ibx_timer_start(ibx_worker_loop(w), &tr->t, CHATD_TRIM_MS, on_trim, tr);
    if (r < 0)
        return r;
    tr->running = true;
    ibx_conn_add(w, &tr->base, &trim_ops, true);
    return 0;
}

int trim_add_unit(struct chat_trim *tr, ibx_server *srv)
{
    return ibx_server_add_unit(srv, trim_start, tr);
}
