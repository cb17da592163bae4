/* Passing file descriptors between processes over a Unix-domain socket
 * (SCM_RIGHTS), e.g. the memfd of an anonymous ibx_shmq. Received
 * descriptors are close-on-exec. */
#ifndef IPCBOX_FDPASS_H
#define IPCBOX_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Most descriptors one call carries. */
#define IBX_FDPASS_MAX 16

/* Send len bytes of data (1..; at least one byte must travel with the
 * descriptors) and nfds descriptors (0..IBX_FDPASS_MAX) in one sendmsg,
 * retrying on EINTR. Returns the bytes sent or -errno. */
ssize_t ibx_fdpass_send(int sock, const void *data, size_t len,
                        const int *fds, size_t nfds);

/* Receive up to cap bytes and up to maxfds descriptors (<= IBX_FDPASS_MAX)
 * in one recvmsg; *nfds gets the count (the rest of fds is set to -1).
 * Returns the bytes received (0 at end of stream) or -errno; if the
 * sender's descriptors did not fit, the ones that arrived are closed and
 * -EMSGSIZE is returned. */
ssize_t ibx_fdpass_recv(int sock, void *buf, size_t cap,
                        int *fds, size_t maxfds, size_t *nfds);

#pragma GCC visibility pop

#endif
