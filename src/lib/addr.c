/* Address text <-> sockaddr: HOST:PORT, [V6]:PORT, PORT (ipcbox/net.h). */
#include "ipcbox/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *s, uint16_t *out)
{
    if (!*s)
        return -EINVAL;
    unsigned long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535)
            return -EINVAL;
    }
    *out = (uint16_t)v;
    return 0;
}

/* Split text into host (copied into host[], "" if absent) and port. */
static int split(const char *text, char *host, size_t hostsz, uint16_t *port,
                 bool *has_port)
{
    *has_port = false;
    const char *colon;
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (!end || (size_t)(end - text - 1) >= hostsz)
            return -EINVAL;
        memcpy(host, text + 1, (size_t)(end - text - 1));
        host[end - text - 1] = 0;
        if (end[1] == 0)
            return 0;
        if (end[1] != ':')
            return -EINVAL;
        *has_port = true;
        return parse_port(end + 2, port);
    }
    colon = strrchr(text, ':');
    if (colon && strchr(text, ':') != colon)
        return -EINVAL;   /* bare IPv6 needs brackets */
    if (!colon) {
        /* "PORT" alone, or "HOST" alone */
        if (parse_port(text, port) == 0) {
            host[0] = 0;
            *has_port = true;
            return 0;
        }
        size_t n = strlen(text);
        if (n >= hostsz)
            return -EINVAL;
        memcpy(host, text, n + 1);
        return 0;
    }
    if ((size_t)(colon - text) >= hostsz)
        return -EINVAL;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    *has_port = true;
    return parse_port(colon + 1, port);
}

static int numeric(const char *host, uint16_t port, ibx_addr *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
    if (strcmp(host, "*") == 0)
        host = "0.0.0.0";
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out->len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out->len = sizeof *v6;
        return 0;
    }
    return -EINVAL;
}

/* Host and port of text, with the defaults filled in. */
static int split_defaults(const char *text, const char *default_host,
                          uint16_t default_port, char *host, size_t hostsz,
                          uint16_t *port)
{
    bool has_port;
    *port = default_port;
    if (split(text ? text : "", host, hostsz, port, &has_port) < 0)
        return -EINVAL;
    if (!has_port)
        *port = default_port;
    if (!host[0]) {
        if (!default_host)
            return -EINVAL;
        snprintf(host, hostsz, "%s", default_host);
    }
    return 0;
}

int ibx_addr_parse(const char *text, const char *default_host,
                   uint16_t default_port, ibx_addr *out)
{
    char host[256];
    uint16_t port;
    if (split_defaults(text, default_host, default_port, host, sizeof host, &port) < 0)
        return -EINVAL;
    return numeric(host, port, out);
}

int ibx_addr_resolve(const char *text, const char *default_host,
                     uint16_t default_port, int socktype, ibx_addr *out)
{
    char host[256];
    uint16_t port;
    if (split_defaults(text, default_host, default_port, host, sizeof host, &port) < 0)
        return -EINVAL;
    if (numeric(host, port, out) == 0)
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = socktype};
    struct addrinfo *res;
    char serv[8];
    snprintf(serv, sizeof serv, "%u", port);
    if (getaddrinfo(host, serv, &hints, &res) != 0 || !res)
        return -EHOSTUNREACH;
    memset(out, 0, sizeof *out);
    memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
    out->len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

char *ibx_addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
                      size_t size)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *v4 = (const void *)sa;
        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
        snprintf(buf, size, "%s:%u", ip, ntohs(v4->sin_port));
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *v6 = (const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
            inet_ntop(AF_INET, &v6->sin6_addr.s6_addr[12], ip, sizeof ip);
            snprintf(buf, size, "%s:%u", ip, ntohs(v6->sin6_port));
        } else {
            inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
            snprintf(buf, size, "[%s]:%u", ip, ntohs(v6->sin6_port));
        }
    } else if (sa->sa_family == AF_UNIX) {
        snprintf(buf, size, "unix");
    } else {
        snprintf(buf, size, "?");
    }
    return buf;
}

uint16_t ibx_addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port);
    return 0;
}

void ibx_addr_set_port(struct sockaddr *sa, uint16_t port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)(void *)sa)->sin_port = htons(port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons(port);
}
