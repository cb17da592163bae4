/* The socket of udpchat: bound on the chat port (to the group itself for
 * multicast, so that nothing but the group's datagrams reaches it), joined
 * to the multicast group (IPv4, or IPv6 with the interface index
 * link-local groups need),
 * or allowed to broadcast (the subnet-directed broadcast address of each
 * interface, from getifaddrs, or 255.255.255.255 out of each interface).
 * Multicast loops back (two peers on one host see each other) and, with
 * IP_MULTICAST_ALL off, the socket hears only the group it joined. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udpchat.h"

#ifndef IP_MULTICAST_ALL
#define IP_MULTICAST_ALL 49
#endif
#ifndef IPV6_MULTICAST_ALL
#define IPV6_MULTICAST_ALL 29
#endif

/* A runtime failure: the reason, then what the system said. */
static int fail(char *err, size_t errlen, int e, const char *fmt, const char *arg)
{
    char what[256];
    snprintf(what, sizeof what, fmt, arg);
    snprintf(err, errlen, "%s: %s", what, strerror(-e));
    return e;
}

/* A usage mistake: the reason only; marks n->usage. */
static int usage(struct uc_net *n, char *err, size_t errlen, const char *fmt, const char *arg)
{
    snprintf(err, errlen, fmt, arg);
    n->usage = true;
    return -EINVAL;
}

/* Groups every host or router of the link is in (all-nodes, all-routers,
 * the rest of IPv4's local network control block): a chat there would
 * reach every host, member or not. */
static bool reserved_group(const ibx_addr *g)
{
    if (g->ss.ss_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)&g->ss)->sin_addr.s_addr);
        return (a >> 8) == (0xe0000000u >> 8);          /* 224.0.0.0/24 */
    }
    const unsigned char *b = ((const struct sockaddr_in6 *)&g->ss)->sin6_addr.s6_addr;
    for (int i = 2; i < 15; i++)
        if (b[i])
            return false;
    return (b[1] & 0xf0) == 0 && (b[15] == 1 || b[15] == 2);   /* ff0X::1, ff0X::2 */
}

static int setopt(int fd, int level, int name, int v)
{
    return setsockopt(fd, level, name, &v, sizeof v) < 0 ? -errno : 0;
}

/* An address of text (numeric; a bare IPv6 address may omit brackets). */
static int parse(const char *text, uint16_t port, ibx_addr *out)
{
    char buf[128];
    if (strchr(text, ':') != strrchr(text, ':') && text[0] != '[') {
        snprintf(buf, sizeof buf, "[%s]", text);
        text = buf;
    }
    return ibx_addr_parse(text, NULL, port, out);
}

static bool is_loopback(const ibx_addr *a)
{
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&a->ss;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&a->ss;
    return IN6_IS_ADDR_LOOPBACK(&s->sin6_addr);
}

static void label(struct uc_dest *d, const char *ifname)
{
    char a[IBX_ADDRSTRLEN];
    ibx_addr_format((const struct sockaddr *)&d->addr.ss, d->addr.len, a, sizeof a);
    if (ifname && *ifname)
        snprintf(d->label, sizeof d->label, "%s on %s", a, ifname);
    else
        snprintf(d->label, sizeof d->label, "%s", a);
}

/* The one interface that is up, not loopback and can multicast, or 0 when
 * there is none or more than one. */
static int only_interface(char *name, size_t size)
{
    struct ifaddrs *ifs, *i;
    int found = 0;
    if (getifaddrs(&ifs) < 0)
        return 0;
    for (i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 ||
            (i->ifa_flags & (IFF_UP | IFF_MULTICAST | IFF_LOOPBACK)) != (IFF_UP | IFF_MULTICAST))
            continue;
        int idx = (int)if_nametoindex(i->ifa_name);
        if (found && idx != found) {
            found = -1;
            break;
        }
        found = idx;
        snprintf(name, size, "%s", i->ifa_name);
    }
    freeifaddrs(ifs);
    return found > 0 ? found : 0;
}

/* The broadcast address of an IPv4 interface address (host order), or 0
 * when it has none: the one configured, else the subnet's from the
 * netmask (an address added without "brd" reports itself as broadcast
 * address); none for /31 and /32. */
static uint32_t broadcast_of(const struct ifaddrs *i)
{
    uint32_t addr = ntohl(((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
    uint32_t mask = i->ifa_netmask
        ? ntohl(((const struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr) : 0;
    if (i->ifa_broadaddr && i->ifa_broadaddr->sa_family == AF_INET) {
        uint32_t b = ntohl(((const struct sockaddr_in *)i->ifa_broadaddr)->sin_addr.s_addr);
        if (b && b != addr)
            return b;
    }
    if (!mask || ~mask <= 1)
        return 0;
    return addr | ~mask;
}

size_t uc_net_refresh(struct uc_net *n)
{
    if (n->mode != UC_BROADCAST)
        return n->ndest;
    struct ifaddrs *ifs, *i;
    if (getifaddrs(&ifs) < 0)
        return n->ndest;
    struct uc_dest fresh[UC_DEST_MAX];
    size_t k = 0;
    for (i = ifs; i && k < UC_DEST_MAX; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
            (i->ifa_flags & (IFF_UP | IFF_BROADCAST | IFF_LOOPBACK)) != (IFF_UP | IFF_BROADCAST))
            continue;
        if (n->ifindex && strcmp(i->ifa_name, n->ifname) != 0)
            continue;
        uint32_t bcast = broadcast_of(i);
        if (!bcast)
            continue;
        struct uc_dest d = {.ifindex = (int)if_nametoindex(i->ifa_name)};
        struct sockaddr_in *s = (struct sockaddr_in *)&d.addr.ss;
        s->sin_family = AF_INET;
        s->sin_addr.s_addr = htonl(n->limited ? INADDR_BROADCAST : bcast);
        s->sin_port = htons(n->port);
        d.addr.len = sizeof *s;
        bool dup = false;   /* one per interface and address */
        for (size_t j = 0; j < k; j++)
            dup |= fresh[j].ifindex == d.ifindex &&
                   !memcmp(&fresh[j].addr.ss, &d.addr.ss, sizeof *s);
        if (dup)
            continue;
        label(&d, i->ifa_name);
        /* an interface already known keeps its last error */
        for (size_t j = 0; j < n->ndest; j++)
            if (!strcmp(n->dest[j].label, d.label))
                d.last_err = n->dest[j].last_err;
        fresh[k++] = d;
    }
    freeifaddrs(ifs);
    memcpy(n->dest, fresh, k * sizeof fresh[0]);
    n->ndest = k;
    return k;
}

/* --to: every destination resolved, one family. */
static int unicast_dests(struct uc_net *n, const struct uc_cfg *cfg, char *err, size_t errlen)
{
    if (cfg->to.n > UC_DEST_MAX)
        return usage(n, err, errlen, "more than %s --to destinations", "32");
    for (size_t i = 0; i < cfg->to.n; i++) {
        struct uc_dest *d = &n->dest[n->ndest];
        memset(d, 0, sizeof *d);
        if (ibx_addr_resolve(cfg->to.v[i], NULL, n->port, SOCK_DGRAM, &d->addr) < 0)
            return usage(n, err, errlen, "--to %s: not HOST:PORT (or [V6]:PORT)",
                         cfg->to.v[i]);
        if (!ibx_addr_port((const struct sockaddr *)&d->addr.ss))
            return usage(n, err, errlen, "--to %s: port 0 (name the peer's port)",
                         cfg->to.v[i]);
        if (i && d->addr.ss.ss_family != n->family)
            return usage(n, err, errlen,
                         "--to %s: IPv4 and IPv6 destinations cannot be mixed", cfg->to.v[i]);
        n->family = d->addr.ss.ss_family;
        label(d, NULL);
        n->ndest++;
    }
    return 0;
}

/* The address to bind unless --bind says: the wildcard of the family, or
 * the loopback when every --to destination is on it. */
static void default_local(struct uc_net *n)
{
    bool loop = n->mode == UC_UNICAST;
    for (size_t i = 0; loop && i < n->ndest; i++)
        loop = is_loopback(&n->dest[i].addr);
    const char *host = n->family == AF_INET6 ? (loop ? "[::1]" : "[::]")
                                             : (loop ? "127.0.0.1" : "0.0.0.0");
    ibx_addr_parse(host, NULL, n->port, &n->local);
}

static int join_group(struct uc_net *n, const char *text, char *err, size_t errlen)
{
    if (n->family == AF_INET) {
        struct sockaddr_in *g = (struct sockaddr_in *)&n->group.ss;
        struct ip_mreqn m = {.imr_multiaddr = g->sin_addr, .imr_ifindex = n->ifindex};
        if (setsockopt(n->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0) {
            int e = -errno;
            if (e == -ENODEV && !n->ifindex)
                return fail(err, errlen, e,
                            "cannot join %s (no route to it: give --interface)", text);
            return fail(err, errlen, e, "cannot join %s", text);
        }
        if (n->ifindex &&
            setsockopt(n->fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) < 0)
            return fail(err, errlen, -errno, "IP_MULTICAST_IF %s", n->ifname);
        return 0;
    }
    struct sockaddr_in6 *g = (struct sockaddr_in6 *)&n->group.ss;
    struct ipv6_mreq m = {.ipv6mr_multiaddr = g->sin6_addr,
                          .ipv6mr_interface = (unsigned)n->ifindex};
    if (setsockopt(n->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) < 0)
        return fail(err, errlen, -errno, "cannot join %s", text);
    if (n->ifindex && setopt(n->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, n->ifindex) < 0)
        return fail(err, errlen, -errno, "IPV6_MULTICAST_IF %s", n->ifname);
    g->sin6_scope_id = (uint32_t)n->ifindex;
    return 0;
}

/* Mode, family, interface and destinations from cfg, before the socket. */
static int plan(struct uc_net *n, const struct uc_cfg *cfg, char *err, size_t errlen)
{
    n->mode = cfg->to.n ? UC_UNICAST : cfg->broadcast ? UC_BROADCAST : UC_MULTICAST;
    n->port = (uint16_t)cfg->port;
    n->limited = cfg->limited;
    n->family = AF_INET;
    if (cfg->iface) {
        n->ifindex = (int)if_nametoindex(cfg->iface);
        if (!n->ifindex || strlen(cfg->iface) >= sizeof n->ifname)
            return usage(n, err, errlen, "--interface %s: no such interface", cfg->iface);
        snprintf(n->ifname, sizeof n->ifname, "%s", cfg->iface);
    }
    if (n->mode == UC_UNICAST) {
        int r = unicast_dests(n, cfg, err, errlen);
        if (r < 0)
            return r;
    } else if (n->mode == UC_MULTICAST) {
        const char *text = cfg->group ? cfg->group : IBX_UDPCHAT_GROUP4;
        if (parse(text, n->port, &n->group) < 0)
            return usage(n, err, errlen, "--multicast %s: not a numeric address", text);
        n->family = n->group.ss.ss_family;
        n->port = ibx_addr_port((const struct sockaddr *)&n->group.ss);
        bool mc = n->family == AF_INET
            ? IN_MULTICAST(ntohl(((struct sockaddr_in *)&n->group.ss)->sin_addr.s_addr))
            : IN6_IS_ADDR_MULTICAST(&((struct sockaddr_in6 *)&n->group.ss)->sin6_addr);
        if (!mc)
            return usage(n, err, errlen,
                         "--multicast %s: not a multicast group (224.0.0.0/4 or ff00::/8)", text);
        if (reserved_group(&n->group))
            return usage(n, err, errlen,
                         "--multicast %s: every host of the link is in this group "
                         "(224.0.0.0/24, ff0X::1, ff0X::2 are reserved): pick one in "
                         "239.0.0.0/8 or ff02::/16", text);
        if (cfg->bind)
            return usage(n, err, errlen, "%s",
                         "--bind goes with --to or --broadcast (a multicast peer is bound "
                         "to its group)");
        if (n->family == AF_INET6 && !n->ifindex &&
            !(n->ifindex = only_interface(n->ifname, sizeof n->ifname)))
            return usage(n, err, errlen,
                         "--multicast %s: an IPv6 group needs --interface (more than one, "
                         "or no, interface can multicast)", text);
    }
    if (n->mode != UC_UNICAST && !n->port)
        return usage(n, err, errlen, "%s",
                     "port 0: broadcast and multicast peers need the chat's port "
                     "(--port, or GROUP:PORT)");
    if (n->mode == UC_MULTICAST) {
        /* bound to the group: unicast to the port, and other groups, never
         * reach the socket */
        n->local = n->group;
        if (n->family == AF_INET6)
            ((struct sockaddr_in6 *)&n->local.ss)->sin6_scope_id = (uint32_t)n->ifindex;
    } else if (cfg->bind) {
        char b[128];
        const char *text = cfg->bind;
        if (strchr(text, ':') != strrchr(text, ':') && text[0] != '[') {
            snprintf(b, sizeof b, "[%s]", text);
            text = b;
        }
        if (ibx_addr_resolve(text, NULL, (uint16_t)cfg->port, SOCK_DGRAM, &n->local) < 0)
            return usage(n, err, errlen, "--bind %s: not HOST[:PORT]", cfg->bind);
        if (n->local.ss.ss_family != n->family)
            return usage(n, err, errlen,
                         "--bind %s: not the address family of the destinations", cfg->bind);
    } else {
        default_local(n);
    }
    if (n->mode == UC_BROADCAST && n->family != AF_INET)
        return usage(n, err, errlen, "%s", "--broadcast is IPv4 only");
    return 0;
}

int uc_net_open(struct uc_net *n, const struct uc_cfg *cfg, char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    int r = plan(n, cfg, err, errlen);
    if (r < 0)
        return r;
    n->fd = socket(n->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (n->fd < 0)
        return fail(err, errlen, -errno, "%s", "socket");
    bool shared = n->mode != UC_UNICAST;   /* peers on one host share the port */
    if ((shared && setopt(n->fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0) ||
        (n->family == AF_INET6 && setopt(n->fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0) ||
        (n->mode != UC_MULTICAST && n->family == AF_INET &&
         setopt(n->fd, SOL_SOCKET, SO_BROADCAST, 1) < 0))
        return fail(err, errlen, -errno, "%s", "setsockopt");
    /* hear only the groups this socket joined (Linux: else every group any
     * socket of the host joined, on this port) */
    if (n->family == AF_INET)
        setopt(n->fd, IPPROTO_IP, IP_MULTICAST_ALL, 0);
    else
        setopt(n->fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, 0);
    if (bind(n->fd, (const struct sockaddr *)&n->local.ss, n->local.len) < 0) {
        char a[IBX_ADDRSTRLEN];
        ibx_addr_format((const struct sockaddr *)&n->local.ss, n->local.len, a, sizeof a);
        return fail(err, errlen, -errno, "bind %s", a);
    }
    ibx_sock_local(n->fd, &n->local);
    if (!n->port)
        n->port = ibx_addr_port((const struct sockaddr *)&n->local.ss);
    if (n->mode == UC_MULTICAST) {
        char text[IBX_ADDRSTRLEN];
        ibx_addr_format((const struct sockaddr *)&n->group.ss, n->group.len, text, sizeof text);
        int lvl = n->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
        if ((r = join_group(n, text, err, errlen)) < 0)
            return r;
        if (setopt(n->fd, lvl, n->family == AF_INET ? IP_MULTICAST_TTL : IPV6_MULTICAST_HOPS,
                   (int)cfg->ttl) < 0 ||
            setopt(n->fd, lvl, n->family == AF_INET ? IP_MULTICAST_LOOP : IPV6_MULTICAST_LOOP,
                   1) < 0)
            return fail(err, errlen, -errno, "%s", "multicast TTL/loop");
        n->dest[0].addr = n->group;
        ibx_addr_set_port((struct sockaddr *)&n->dest[0].addr.ss, n->port);
        label(&n->dest[0], n->ifname);
        n->ndest = 1;
    }
    uc_net_refresh(n);
    return 0;
}

/* Send to d, out of d->ifindex when set (IP_PKTINFO). */
static int send_one(struct uc_net *n, const struct uc_dest *d, const void *buf, size_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr mh = {.msg_name = (void *)&d->addr.ss, .msg_namelen = d->addr.len,
                        .msg_iov = &iov, .msg_iovlen = 1};
    union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
    } u;
    if (n->mode == UC_BROADCAST && d->ifindex) {
        memset(&u, 0, sizeof u);
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = IPPROTO_IP;
        cm->cmsg_type = IP_PKTINFO;
        cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo pi = {.ipi_ifindex = d->ifindex};
        memcpy(CMSG_DATA(cm), &pi, sizeof pi);
    }
    for (;;) {
        ssize_t r = sendmsg(n->fd, &mh, MSG_DONTWAIT);
        if (r >= 0)
            return 0;
        if (errno != EINTR)
            return -errno;
    }
}

size_t uc_net_send(struct uc_net *n, const void *buf, size_t len)
{
    size_t failed = 0;
    for (size_t i = 0; i < n->ndest; i++) {
        n->dest[i].last_err = send_one(n, &n->dest[i], buf, len);
        failed += n->dest[i].last_err < 0;
    }
    return failed;
}

bool uc_net_accepts(const struct uc_net *n, const struct uc_ep *ep)
{
    if (n->mode != UC_UNICAST)
        return true;
    for (size_t i = 0; i < n->ndest; i++) {
        struct uc_ep d = uc_ep_of((const struct sockaddr *)&n->dest[i].addr.ss,
                                  n->dest[i].addr.len);
        if (uc_ep_equal(&d, ep, true))
            return true;
    }
    return false;
}

void uc_net_describe(const struct uc_net *n, char *out, size_t size)
{
    char local[IBX_ADDRSTRLEN];
    ibx_addr_format((const struct sockaddr *)&n->local.ss, n->local.len, local, sizeof local);
    size_t k = (size_t)snprintf(out, size, "listening on %s, ", local);
    if (k >= size)
        return;
    switch (n->mode) {
    case UC_UNICAST:
        k += (size_t)snprintf(out + k, size - k, "to");
        for (size_t i = 0; i < n->ndest && k < size; i++)
            k += (size_t)snprintf(out + k, size - k, " %s", n->dest[i].label);
        break;
    case UC_BROADCAST:
        k += (size_t)snprintf(out + k, size - k, "broadcast to");
        for (size_t i = 0; i < n->ndest && k < size; i++)
            k += (size_t)snprintf(out + k, size - k, "%s %s", i ? "," : "", n->dest[i].label);
        if (!n->ndest && k < size)
            snprintf(out + k, size - k, " no interface yet");
        break;
    case UC_MULTICAST:
        snprintf(out + k, size - k, "multicast group %s", n->dest[0].label);
        break;
    }
}

void uc_net_close(struct uc_net *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}
