/* Per-worker state: one per worker loop, kept in the worker's data slot
 * under the configuration's address (so several httpd instances in
 * `serve` do not share it). In the thread and fork models each connection
 * has a worker of its own, and so a state of its own. It holds the scratch
 * buffers, the Date cache and the file cache: nothing needs a lock. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"

#define RIN_SIZE (64 * 1024)

static void hworker_free(void *p);

static struct hworker *hworker_new(const struct httpd_cfg *cfg, ibx_worker *w)
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

static void hworker_free(void *p)
{
    struct hworker *hw = p;
    if (!hw)
        return;
    cache_free(hw->cache);
    ibx_buf_free(&hw->out);
    free(hw->rin);
    free(hw);
}

struct hworker *hworker_get(const struct httpd_cfg *cfg, ibx_worker *w)
{
    struct hworker *hw = ibx_worker_data(w, cfg);
    if (hw)
        return hw;
    hw = hworker_new(cfg, w);
    if (hw && ibx_worker_set_data(w, cfg, hw, hworker_free) < 0) {
        hworker_free(hw);
        hw = NULL;
    }
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
