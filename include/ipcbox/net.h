/* ipcbox socket helpers. Every socket is created non-blocking and
 * close-on-exec in the same call. Addresses are written HOST:PORT,
 * [V6]:PORT or PORT; "*" or "[::]" as host means every address ([::] is
 * dual-stack: it also accepts IPv4). All functions return 0 (or an fd) on
 * success and -errno on failure. */
#ifndef IPCBOX_NET_H
#define IPCBOX_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* A resolved socket address. */
typedef struct ibx_addr {
    struct sockaddr_storage ss;
    socklen_t len;
} ibx_addr;

/* Longest text ibx_addr_format() produces, with the NUL. */
#define IBX_ADDRSTRLEN 64

/* Parse "HOST:PORT", "[V6]:PORT", "PORT" or "HOST" (numeric hosts only;
 * "*" = 0.0.0.0, "[::]" = every address, dual-stack). Missing parts come
 * from default_host / default_port. Returns 0 or -EINVAL. */
int ibx_addr_parse(const char *text, const char *default_host,
                   uint16_t default_port, ibx_addr *out);
/* Like ibx_addr_parse, but HOST may also be a name (getaddrinfo; blocks).
 * Returns 0, -EINVAL, or -EHOSTUNREACH when the name does not resolve. */
int ibx_addr_resolve(const char *text, const char *default_host,
                     uint16_t default_port, int socktype, ibx_addr *out);
/* Format "1.2.3.4:80" or "[::1]:80" into buf (IBX_ADDRSTRLEN bytes).
 * Returns buf. */
char *ibx_addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
                      size_t size);
/* Port of an AF_INET/AF_INET6 address, host order (0 otherwise). */
uint16_t ibx_addr_port(const struct sockaddr *sa);
/* Set the port of an AF_INET/AF_INET6 address. */
void ibx_addr_set_port(struct sockaddr *sa, uint16_t port);

/* Listener options. */
enum {
    IBX_LISTEN_REUSEPORT = 1 << 0,  /* SO_REUSEPORT (several listeners) */
    IBX_LISTEN_V6ONLY = 1 << 1,     /* IPV6_V6ONLY=1 (default: dual-stack) */
};

/* socket+bind+listen a TCP listener (SO_REUSEADDR always). Returns the
 * fd or -errno. */
int ibx_tcp_listen(const ibx_addr *addr, int backlog, int flags);
/* socket+bind a UDP socket. Returns the fd or -errno. */
int ibx_udp_bind(const ibx_addr *addr, int flags);
/* Non-blocking TCP connect; returns the fd (connection may be in progress:
 * wait for EPOLLOUT then ibx_sock_error()) or -errno. */
int ibx_tcp_connect(const ibx_addr *addr);
/* Blocking TCP connect with a timeout in ms (<0 = none). The returned fd is
 * blocking and close-on-exec. Returns the fd or -errno. */
int ibx_tcp_connect_wait(const ibx_addr *addr, int timeout_ms);
/* Pending SO_ERROR of a socket, as -errno (0 if none). */
int ibx_sock_error(int fd);
/* Set TCP_NODELAY. */
int ibx_tcp_nodelay(int fd, bool on);
/* Local address of a socket. */
int ibx_sock_local(int fd, ibx_addr *out);
/* Make fd blocking (on = false) or non-blocking (on = true). */
int ibx_fd_nonblock(int fd, bool on);

/* Accept with the EMFILE spare-fd trick: when out of descriptors the spare
 * (*spare, opened on /dev/null) is closed, the pending connection accepted
 * and closed at once, and the spare reopened, so a full process sheds load
 * instead of spinning. The accepted fd is non-blocking and close-on-exec.
 * Returns the fd, -EAGAIN when none pending, -EMFILE after shedding one, or
 * another -errno. */
int ibx_accept(int lfd, int *spare, struct sockaddr_storage *peer,
               socklen_t *peerlen);
/* Open the spare fd used by ibx_accept. Returns the fd or -errno. */
int ibx_spare_fd_open(void);

/* systemd socket activation: when LISTEN_PID is this process, store up to
 * max inherited fds (from 3) in fds, made close-on-exec, and, if names is
 * not NULL, the matching LISTEN_FDNAMES entries (pointers into the
 * environment string, ':'-terminated entries, NULL when absent). Unsets
 * LISTEN_PID and LISTEN_FDS (LISTEN_FDNAMES stays, names point into it). Returns the count (0 when not activated) or
 * -errno. */
int ibx_listen_fds(int *fds, const char **names, int max);
/* True if fd is a listening SOCK_STREAM socket. */
bool ibx_sock_is_listener(int fd);

#pragma GCC visibility pop

#endif
