/* Shared secrets for the frame protocol's authentication: loading a
 * --token-file, the loopback test behind recv's "no token, no public
 * listener" rule, and the random nonces. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "xfer.h"

int xfer_token_load(const char *path, struct xfer_token *t, char *err,
                    size_t size)
{
    /* room for the longest token and its "\r\n", and one byte more to
     * notice a longer file */
    uint8_t buf[IBX_AUTH_TOKEN_MAX + 3];
    t->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, size, "token file %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, size, "token file %s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & (S_IROTH | S_IWOTH)) {
        snprintf(err, size, "token file %s: readable or writable by every user "
                 "(chmod 600 %s)", path, path);
        close(fd);
        return -1;
    }
    size_t n = 0;
    while (n < sizeof buf) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, size, "token file %s: %s", path, strerror(errno));
            close(fd);
            OPENSSL_cleanse(buf, sizeof buf);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    ssize_t len = n < sizeof buf ? ibx_auth_token_trim(buf, n) : -EINVAL;
    if (len < 0) {
        snprintf(err, size, "token file %s: %s", path,
                 n == 0 ? "empty" : n >= sizeof buf ? "longer than 1024 bytes"
                 : "must hold the token on one line (no NUL, no second line)");
    } else if ((size_t)len < XFER_TOKEN_MIN) {
        snprintf(err, size, "token file %s: token too short (%zd bytes, at least %d; "
                 "make one with: head -c 32 /dev/urandom | base64 > %s)",
                 path, len, XFER_TOKEN_MIN, path);
        len = -EINVAL;
    } else {
        memcpy(t->key, buf, (size_t)len);
        t->len = (size_t)len;
    }
    OPENSSL_cleanse(buf, sizeof buf);
    return len < 0 ? -1 : 0;
}

void xfer_token_wipe(struct xfer_token *t)
{
    OPENSSL_cleanse(t->key, sizeof t->key);
    t->len = 0;
}

bool xfer_addr_is_local(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_UNIX)
        return true;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

int xfer_random(uint8_t *out, size_t n)
{
    while (n > 0) {
        ssize_t r = getrandom(out, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        out += r;
        n -= (size_t)r;
    }
    return 0;
}

int xfer_token_load_cli(const char *applet, const char *path, struct xfer_token *t)
{
    char err[512];
    if (xfer_token_load(path, t, err, sizeof err) == 0)
        return 0;
    opt_usage(applet, "%s", err);
    return -1;
}
