/* echo --udp's guard: which datagrams get an answer. UDP sources are
 * unverified (anyone can forge one), so an echo server must never answer
 * a datagram whose reply would come back to an echo-like service: its own
 * port (a self-addressed datagram, or a twin server on the same port,
 * would loop for ever), a well-known service port below 1024 (echo,
 * chargen, daytime ... as inetd refuses them), and no source may make it
 * answer faster than a per-source token bucket allows (a ping-pong with an
 * echo server on another port has one datagram in flight: the first drop
 * ends it). Pure: no I/O, the caller passes the clock. */
#ifndef IPCBOX_APPS_ECHO_GUARD_H
#define IPCBOX_APPS_ECHO_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Default answers per second per source address (--udp-rate). */
#define ECHO_UDP_RATE 1000u
/* Sources tracked at once (least recently seen evicted first). */
#define ECHO_GUARD_SOURCES 1024u

/* What the guard decided for one datagram. */
enum echo_verdict {
    ECHO_PASS = 0,          /* answer it */
    ECHO_DROP_OWN_PORT,     /* from our own port */
    ECHO_DROP_PRIV_PORT,    /* from a port below 1024 (or 0) */
    ECHO_DROP_RATE,         /* over the source's rate */
    ECHO_DROP_KINDS
};

/* A guard (opaque). */
struct echo_guard;

/* New guard for a socket bound to own_port: rate answers per second per
 * source address (0 = no rate limit) with bursts of up to burst (0 means
 * burst = rate). Returns 0 or -ENOMEM. */
int echo_guard_new(struct echo_guard **out, uint16_t own_port, unsigned rate,
                   unsigned burst);
/* Decide for a datagram from src (AF_INET or AF_INET6; anything else is
 * dropped as a privileged port) at now_ms on a monotonic clock. */
enum echo_verdict echo_guard_check(struct echo_guard *g, const struct sockaddr *src,
                                   uint64_t now_ms);
/* Short text for a drop verdict ("from our own port" ...). */
const char *echo_verdict_text(enum echo_verdict v);
/* Free (NULL is fine). */
void echo_guard_free(struct echo_guard *g);

#endif
