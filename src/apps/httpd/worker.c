/* Per-worker state: one per worker loop, found through a small map in the
 * shared configuration (locked only when a connection opens); or, in the
 * thread and fork models where each connection has a loop of its own, one
 * per connection. It holds the scratch buffers, the Date cache and the
 * file cache, so nothing per request needs a lock. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"

#define RIN_SIZE (64 * 1024)

struct hworker *hworker_new(const struct httpd_cfg *cfg, ibx_worker *w)
{
    struct hworker *hw = calloc(1, sizeof *hw);
    if (!hw)
        return NULL;
    hw->w = w;
    hw->cfg = cfg;
    hw->rin_cap = RIN_SIZE;
    hw->rin = malloc(hw->rin_cap);
    /* a connection's private state (thread/fork models) needs few entries */
    hw->cache = cache_new(cfg, cfg->per_conn_worker ? 16 : cfg->cache_entries);
    hw->date_sec = -1;
    if (!hw->rin || !hw->cache) {
        hworker_free(hw);
        return NULL;
    }
    return hw;
}

void hworker_free(struct hworker *hw)
{
    if (!hw)
        return;
    cache_free(hw->cache);
    ibx_buf_free(&hw->out);
    free(hw->rin);
    free(hw);
}

struct hworker *hworker_get(struct httpd_cfg *cfg, ibx_worker *w)
{
    struct hworker *hw = NULL;
    pthread_mutex_lock(&cfg->lock);
    for (size_t i = 0; i < cfg->nworkers; i++)
        if (cfg->workers[i]->w == w) {
            hw = cfg->workers[i];
            break;
        }
    if (!hw && cfg->nworkers == cfg->capworkers) {
        size_t cap = cfg->capworkers ? cfg->capworkers * 2 : 8;
        struct hworker **a = realloc(cfg->workers, cap * sizeof *a);
        if (a) {
            cfg->workers = a;
            cfg->capworkers = cap;
        }
    }
    if (!hw && cfg->nworkers < cfg->capworkers) {
        hw = hworker_new(cfg, w);
        if (hw)
            cfg->workers[cfg->nworkers++] = hw;
    }
    pthread_mutex_unlock(&cfg->lock);
    return hw;
}

const char *hworker_date(struct hworker *hw)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != hw->date_sec) {
        hw->date_sec = ts.tv_sec;
        ibx_http_date_format(ts.tv_sec, hw->date);
    }
    return hw->date;
}
