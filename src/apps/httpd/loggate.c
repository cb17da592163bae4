/* Log lines a peer can trigger at will (a Range header we ignore, a
 * truncated listing, a client at --max-output, a CGI request that fails or
 * whose body is refused, a static 500 at the descriptor limit) are written
 * at most once a second per cause for the whole server, with the count held
 * back since, so that a flood of such requests cannot fill the disk
 * through the server log (the access log is the operator's to turn off;
 * this one is not). The gates live in a shared anonymous mapping made
 * before any worker starts, so the fork and prefork models share them
 * too. */
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

#include "httpd.h"

struct hlog_gates {
    struct {
        atomic_llong last;       /* second of the last line written */
        atomic_ulong held;       /* lines held back since */
    } g[HLOG_CAUSES];
};

int hlog_init(struct httpd_cfg *cfg)
{
    void *p = mmap(NULL, sizeof(struct hlog_gates), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    cfg->log_gates = p;
    for (int i = 0; i < HLOG_CAUSES; i++) {
        atomic_init(&cfg->log_gates->g[i].last, -1);
        atomic_init(&cfg->log_gates->g[i].held, 0);
    }
    return 0;
}

void hlog_fini(struct httpd_cfg *cfg)
{
    if (cfg->log_gates)
        munmap(cfg->log_gates, sizeof(struct hlog_gates));
    cfg->log_gates = NULL;
}

bool hlog_due(const struct httpd_cfg *cfg, enum hlog_cause cause, unsigned long *held)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    long long now = (long long)ts.tv_sec;
    if (!cfg->log_gates) {
        *held = 0;
        return true;
    }
    long long last = atomic_load(&cfg->log_gates->g[cause].last);
    if (last != now && atomic_compare_exchange_strong(&cfg->log_gates->g[cause].last,
                                                      &last, now)) {
        *held = atomic_exchange(&cfg->log_gates->g[cause].held, 0);
        return true;
    }
    atomic_fetch_add(&cfg->log_gates->g[cause].held, 1);
    return false;
}
