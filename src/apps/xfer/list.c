/* The file listing recv answers LIST with: every regular file under the
 * root, recursively, one entry at a time (so a large tree never sits in
 * memory), without following symlinks and without names a client could
 * not ask for (temporary files, control characters). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xfer_list.h"

struct xfer_list {
    int depth;                      /* open levels in d[] */
    DIR *d[XFER_LIST_DEPTH];
    size_t plen[XFER_LIST_DEPTH];   /* path length at each level */
    char path[IBX_FRAME_PATH_MAX + 2];
};

int xfer_list_open(struct xfer_list **out, int rootfd)
{
    struct xfer_list *w = calloc(1, sizeof *w);
    if (!w)
        return -ENOMEM;
    int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(w->d[0] = fdopendir(fd))) {
        int e = -errno;
        if (fd >= 0)
            close(fd);
        free(w);
        return e;
    }
    w->depth = 1;
    *out = w;
    return 0;
}

void xfer_list_close(struct xfer_list *w)
{
    if (!w)
        return;
    while (w->depth > 0)
        closedir(w->d[--w->depth]);
    free(w);
}

int xfer_list_next(struct xfer_list *w, struct ibx_msg_offer *e)
{
    while (w->depth > 0) {
        DIR *d = w->d[w->depth - 1];
        size_t base = w->plen[w->depth - 1];
        struct dirent *de = readdir(d);
        if (!de) {
            closedir(d);
            w->depth--;
            continue;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        size_t nl = strlen(de->d_name);
        size_t len = base + (base ? 1 : 0) + nl;
        if (len > IBX_FRAME_PATH_MAX)
            continue;
        if (base)
            w->path[base] = '/';
        memcpy(w->path + base + (base ? 1 : 0), de->d_name, nl + 1);
        if (ibx_xfer_path_check(w->path, len) < 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (w->depth >= XFER_LIST_DEPTH)
                continue;
            int fd = openat(dirfd(d), de->d_name,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            DIR *sub = fd >= 0 ? fdopendir(fd) : NULL;
            if (!sub) {
                if (fd >= 0)
                    close(fd);
                continue;
            }
            w->d[w->depth] = sub;
            w->plen[w->depth] = len;
            w->depth++;
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        memset(e, 0, sizeof *e);
        e->size = (uint64_t)st.st_size;
        e->mode = st.st_mode & 07777;
        e->mtime_sec = st.st_mtim.tv_sec;
        e->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
        e->path = w->path;
        e->path_len = (uint16_t)len;
        return 1;
    }
    return 0;
}
