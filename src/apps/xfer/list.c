/* The file listing recv answers LIST with: every regular file under the
 * root, recursively, one entry at a time (so a large tree never sits in
 * memory), without following symlinks and without names a client could
 * not ask for (temporary files, control characters). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xfer_list.h"

int xfer_walk_open(struct xfer_walk *w, int rootfd, int max_depth)
{
    memset(w, 0, sizeof *w);
    if (max_depth < 1 || max_depth > XFER_DEPTH_MAX)
        return -EINVAL;
    w->max_depth = max_depth;
    int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || !(w->d[0] = fdopendir(fd))) {
        int e = -errno;
        if (fd >= 0)
            close(fd);
        return e;
    }
    w->depth = 1;
    return 0;
}

/* Count an entry the walk cannot show (the first one is kept). */
static void walk_missed(struct xfer_walk *w, const char *path, size_t len, int err)
{
    if (w->missed++ == 0) {
        if (len > IBX_FRAME_PATH_MAX)
            len = IBX_FRAME_PATH_MAX;
        memcpy(w->missed_path, path, len);
        w->missed_path[len] = '\0';
        w->missed_err = err;
    }
}

unsigned xfer_walk_missed(const struct xfer_walk *w, char *why, size_t size)
{
    if (!w->missed)
        return 0;
    if (w->missed_err == -ELOOP)
        snprintf(why, size, "%u entries not seen; the first: %.160s: deeper than "
                 "%d directory levels (--max-depth)", w->missed, w->missed_path,
                 w->max_depth);
    else
        snprintf(why, size, "%u entries not seen; the first: %.160s: %s", w->missed,
                 w->missed_path, w->missed_err == -ENAMETOOLONG
                     ? "path longer than the protocol allows" : strerror(-w->missed_err));
    return w->missed;
}

void xfer_walk_close(struct xfer_walk *w)
{
    while (w->depth > 0)
        closedir(w->d[--w->depth]);
}

int xfer_walk_step(struct xfer_walk *w, struct xfer_walk_entry *e)
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
        if (len > IBX_FRAME_PATH_MAX) {
            w->path[base] = '\0';
            walk_missed(w, w->path, base, -ENAMETOOLONG);
            continue;
        }
        if (base)
            w->path[base] = '/';
        memcpy(w->path + base + (base ? 1 : 0), de->d_name, nl + 1);
        if (fstatat(dirfd(d), de->d_name, &e->st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        e->dfd = dirfd(d);
        e->name = de->d_name;
        e->path = w->path;
        e->len = len;
        return 1;
    }
    return 0;
}

int xfer_walk_enter(struct xfer_walk *w, const struct xfer_walk_entry *e)
{
    /* d[0] is the root: entering makes depth levels below it */
    if (w->depth > w->max_depth) {
        walk_missed(w, e->path, e->len, -ELOOP);
        return -ELOOP;
    }
    int fd = openat(e->dfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *sub = fd >= 0 ? fdopendir(fd) : NULL;
    if (!sub) {
        int err = -errno;
        if (fd >= 0)
            close(fd);
        if (err != -ENOENT)   /* removed meanwhile: nothing missed */
            walk_missed(w, e->path, e->len, err);
        return err;
    }
    w->d[w->depth] = sub;
    w->plen[w->depth] = e->len;
    w->depth++;
    return 0;
}

struct xfer_list {
    struct xfer_walk w;
};

int xfer_list_open(struct xfer_list **out, int rootfd, int max_depth)
{
    struct xfer_list *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    int r = xfer_walk_open(&l->w, rootfd, max_depth);
    if (r < 0) {
        free(l);
        return r;
    }
    *out = l;
    return 0;
}

unsigned xfer_list_missed(const struct xfer_list *l, char *why, size_t size)
{
    return xfer_walk_missed(&l->w, why, size);
}

void xfer_list_close(struct xfer_list *l)
{
    if (!l)
        return;
    xfer_walk_close(&l->w);
    free(l);
}

int xfer_list_next(struct xfer_list *l, struct ibx_msg_offer *o)
{
    struct xfer_walk_entry e;
    while (xfer_walk_step(&l->w, &e) == 1) {
        if (ibx_frame_path_check(e.path, e.len) < 0)
            continue;   /* a name no client could ask for */
        if (S_ISDIR(e.st.st_mode)) {
            (void)xfer_walk_enter(&l->w, &e);   /* a miss is counted */
            continue;
        }
        if (!S_ISREG(e.st.st_mode))
            continue;
        memset(o, 0, sizeof *o);
        o->size = (uint64_t)e.st.st_size;
        o->mode = e.st.st_mode & 07777;
        o->mtime_sec = e.st.st_mtim.tv_sec;
        o->mtime_nsec = (uint32_t)e.st.st_mtim.tv_nsec;
        o->path = e.path;
        o->path_len = (uint16_t)e.len;
        return 1;
    }
    return 0;
}
