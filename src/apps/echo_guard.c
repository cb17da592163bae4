/* echo --udp's guard (echo_guard.h): the port rules and a per-source
 * token bucket in a fixed table of ECHO_GUARD_SOURCES entries, 4-way set
 * associative by a keyed hash of the address, least recently seen entry
 * evicted (an evicted source starts again with a full bucket: the table
 * bounds memory, not what a forger of many addresses can get, which is
 * 1:1 anyway). */
#include "echo_guard.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define WAYS 4u
#define SETS (ECHO_GUARD_SOURCES / WAYS)

struct src_entry {
    uint8_t addr[16];       /* IPv4 as ::ffff:a.b.c.d */
    uint64_t seen_ms;       /* last datagram */
    uint64_t tokens;        /* in thousandths of an answer */
    bool used;
};

struct echo_guard {
    uint16_t own_port;
    uint64_t rate;          /* answers per second; 0 = unlimited */
    uint64_t cap;           /* bucket size, thousandths */
    uint64_t seed;
    struct src_entry e[SETS][WAYS];
};

int echo_guard_new(struct echo_guard **out, uint16_t own_port, unsigned rate,
                   unsigned burst)
{
    struct echo_guard *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    g->own_port = own_port;
    g->rate = rate;
    g->cap = (uint64_t)(burst ? burst : rate) * 1000;
    if (getrandom(&g->seed, sizeof g->seed, GRND_NONBLOCK) != sizeof g->seed)
        g->seed = (uint64_t)(uintptr_t)g ^ 0x9e3779b97f4a7c15ull;
    *out = g;
    return 0;
}

void echo_guard_free(struct echo_guard *g)
{
    free(g);
}

const char *echo_verdict_text(enum echo_verdict v)
{
    switch (v) {
    case ECHO_PASS: return "answered";
    case ECHO_DROP_OWN_PORT: return "from our own port";
    case ECHO_DROP_PRIV_PORT: return "from a port below 1024";
    case ECHO_DROP_RATE: return "over the per-source rate";
    default: return "?";
    }
}

static uint64_t hash_addr(uint64_t seed, const uint8_t a[16])
{
    uint64_t h = seed ^ 0xcbf29ce484222325ull;
    for (int i = 0; i < 16; i++) {
        h ^= a[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

/* The bucket of addr: found, or the least recently seen way of its set
 * taken over with a full bucket. */
static struct src_entry *lookup(struct echo_guard *g, const uint8_t addr[16],
                                uint64_t now_ms)
{
    struct src_entry *set = g->e[hash_addr(g->seed, addr) % SETS];
    struct src_entry *victim = &set[0];
    for (unsigned i = 0; i < WAYS; i++) {
        if (set[i].used && memcmp(set[i].addr, addr, 16) == 0)
            return &set[i];
        if (!set[i].used || (victim->used && set[i].seen_ms < victim->seen_ms))
            victim = &set[i];
    }
    memcpy(victim->addr, addr, 16);
    victim->used = true;
    victim->seen_ms = now_ms;
    victim->tokens = g->cap;
    return victim;
}

enum echo_verdict echo_guard_check(struct echo_guard *g, const struct sockaddr *src,
                                   uint64_t now_ms)
{
    uint8_t addr[16] = {0};
    uint16_t port;
    if (src->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)src;
        addr[10] = addr[11] = 0xff;
        memcpy(addr + 12, &s4->sin_addr, 4);
        port = ntohs(s4->sin_port);
    } else if (src->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
        memcpy(addr, &s6->sin6_addr, 16);
        port = ntohs(s6->sin6_port);
    } else {
        return ECHO_DROP_PRIV_PORT;
    }
    /* by port alone, whatever the address: our own port may be ours on
     * any local address, or a twin server's on another host */
    if (port == g->own_port)
        return ECHO_DROP_OWN_PORT;
    if (port < 1024)
        return ECHO_DROP_PRIV_PORT;
    if (!g->rate)
        return ECHO_PASS;
    struct src_entry *e = lookup(g, addr, now_ms);
    uint64_t dt = now_ms > e->seen_ms ? now_ms - e->seen_ms : 0;
    e->seen_ms = now_ms;
    /* rate answers per second = rate thousandths per millisecond */
    uint64_t add = dt > g->cap / g->rate ? g->cap : dt * g->rate;
    e->tokens = e->tokens + add > g->cap ? g->cap : e->tokens + add;
    if (e->tokens < 1000)
        return ECHO_DROP_RATE;
    e->tokens -= 1000;
    return ECHO_PASS;
}
