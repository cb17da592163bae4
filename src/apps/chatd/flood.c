/* chatd's flood control: a token bucket per client. Each line takes a
 * token; tokens refill at --flood-rate a second up to --flood-burst. A
 * client out of tokens is delayed (its lines wait in its input buffer),
 * and one whose waiting input outgrows its bound is disconnected with
 * "Excess Flood" (conn.c). */
#include "chatd.h"

void flood_init(struct flood *f, unsigned burst, uint64_t now)
{
    f->tokens = burst;
    f->last_ms = now;
}

uint64_t flood_take(struct flood *f, unsigned burst, unsigned rate, uint64_t now)
{
    if (!burst || !rate)
        return 0;
    if (now > f->last_ms) {
        f->tokens += (double)(now - f->last_ms) * rate / 1000.0;
        if (f->tokens > burst)
            f->tokens = burst;
    }
    f->last_ms = now;
    if (f->tokens >= 1.0) {
        f->tokens -= 1.0;
        return 0;
    }
    uint64_t ms = (uint64_t)((1.0 - f->tokens) * 1000.0 / rate) + 1;
    return ms;
}
