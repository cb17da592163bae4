/* Process pool: ibx_pool_map, an array of tasks in, an array of results
 * out. The tag of task i is i, and while the map runs results go straight
 * from the result rings to results + i * result_size (pool_batch.c's
 * ibx__pool_deliver), so order costs nothing: no reordering buffer. The
 * loop keeps every worker's in-flight slots full, collects what came
 * back, and sleeps on the bell only when neither is possible. */
#include <errno.h>

#include "pool_internal.h"

long ibx_pool_map(ibx_pool *p, const void *tasks, size_t task_size, size_t n,
                  void *results, size_t result_size,
                  struct ibx_pool_result *info)
{
    if (!p || (n && task_size && !tasks))
        return -EINVAL;
    if (task_size > p->cfg.max_task)
        return -EMSGSIZE;
    pthread_mutex_lock(&p->mu);
    long r = 0;
    if (p->closing)
        r = -EPIPE;
    else if (p->map || p->st.pending || ibx__pool_busy(p))
        r = -EBUSY;
    if (r < 0) {
        pthread_mutex_unlock(&p->mu);
        return r;
    }
    struct pool_map_sink sink = {results, result_size, info, n, 0, 0};
    p->map = &sink;
    p->st.submitted += n;
    const unsigned char *t = tasks;
    size_t i = 0;
    while (sink.done < n) {
        while (i < n) {
            if (ibx__pool_append(p, t + i * task_size, task_size, i, 0) == 0)
                i++;
            else if (ibx__pool_send_open(p) < 0)
                break;
        }
        if (i == n)
            ibx__pool_send_open(p);
        int k = ibx__pool_pump(p);
        if (k != 0)
            continue;   /* results in (k < 0 cannot happen: no buffer) */
        uint32_t seq = ibx__pool_bell_arm(p);
        if (sink.done >= n || ibx__pool_pump(p) != 0) {
            ibx__pool_bell_disarm(p);
            continue;
        }
        ibx__pool_bell_sleep(p, seq, 0);
    }
    p->map = NULL;
    pthread_mutex_unlock(&p->mu);
    return sink.failed;
}
