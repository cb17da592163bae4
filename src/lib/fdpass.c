/* SCM_RIGHTS descriptor passing over Unix-domain sockets. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipcbox/fdpass.h"

/* Control buffer big enough for IBX_FDPASS_MAX descriptors, aligned. */
union fdpass_cmsg {
    struct cmsghdr hdr;
    char buf[CMSG_SPACE(sizeof(int) * IBX_FDPASS_MAX)];
};

ssize_t ibx_fdpass_send(int sock, const void *data, size_t len,
                        const int *fds, size_t nfds)
{
    if (len == 0 || nfds > IBX_FDPASS_MAX)
        return -EINVAL;
    union fdpass_cmsg cm;
    memset(&cm, 0, sizeof cm);
    struct iovec iov = {(void *)data, len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        msg.msg_control = cm.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : n;
}

ssize_t ibx_fdpass_recv(int sock, void *buf, size_t cap,
                        int *fds, size_t maxfds, size_t *nfds)
{
    if (maxfds > IBX_FDPASS_MAX)
        return -EINVAL;
    for (size_t i = 0; i < maxfds; i++)
        fds[i] = -1;
    *nfds = 0;
    union fdpass_cmsg cm;
    struct iovec iov = {buf, cap};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = cm.buf, .msg_controllen = sizeof cm.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    size_t got = 0;
    int overflow = (msg.msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char *d = CMSG_DATA(c);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, d + i * sizeof(int), sizeof fd);
            if (got < maxfds)
                fds[got++] = fd;
            else {
                close(fd);
                overflow = 1;
            }
        }
    }
    if (overflow) {
        for (size_t i = 0; i < got; i++) {
            close(fds[i]);
            fds[i] = -1;
        }
        return -EMSGSIZE;
    }
    *nfds = got;
    return n;
}
