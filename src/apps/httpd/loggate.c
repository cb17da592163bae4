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
#include <sys/mman.h>
#include <time.h>

#include "httpd.h"

struct hlog_gates {
    ibx_log_gate g[HLOG_CAUSES];   /* one line a second each */
};

int hlog_init(struct httpd_cfg *cfg)
{
    void *p = mmap(NULL, sizeof(struct hlog_gates), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    cfg->log_gates = p;
    for (int i = 0; i < HLOG_CAUSES; i++)
        ibx_log_gate_init(&cfg->log_gates->g[i], 1, 1000);
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
    *held = 0;
    if (!cfg->log_gates)
        return true;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    uint64_t now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    return ibx_log_gate_pass(&cfg->log_gates->g[cause], now_ms, held);
}
