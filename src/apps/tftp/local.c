/* Local files of the TFTP client (see local.h). */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int local_open_read(struct local_file *f, const char *path)
{
    struct stat st;
    memset(f, 0, sizeof *f);
    f->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return -errno;
    if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISREG(st.st_mode) ? -errno : -EINVAL;
        close(f->fd);
        f->fd = -1;
        return e;
    }
    f->size = (uint64_t)st.st_size;
    return 0;
}

int local_open_write(struct local_file *f, const char *path)
{
    struct stat st;
    memset(f, 0, sizeof *f);
    if (!strcmp(path, "-")) {
        f->fd = STDOUT_FILENO;
        return 0;
    }
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode))
            return -EISDIR;
        f->fd = open(path, O_WRONLY | O_CLOEXEC);
        return f->fd < 0 ? -errno : 0;
    }
    char *d = strdup(path), *b = strdup(path);
    f->path = strdup(path);
    if (!d || !b || !f->path ||
        asprintf(&f->tmp, "%s/.%s.tftp-XXXXXX", dirname(d), basename(b)) < 0) {
        f->tmp = NULL;
        free(d);
        free(b);
        local_close(f);
        return -ENOMEM;
    }
    free(d);
    free(b);
    f->fd = mkostemp(f->tmp, O_CLOEXEC);
    if (f->fd < 0) {
        int e = -errno;
        free(f->tmp);
        f->tmp = NULL;
        local_close(f);
        return e;
    }
    return 0;
}

int local_commit(struct local_file *f)
{
    if (!f->tmp)
        return 0;
    mode_t um = umask(0);
    umask(um);
    if (fchmod(f->fd, 0666 & ~um) < 0 || fsync(f->fd) < 0 ||
        rename(f->tmp, f->path) < 0)
        return -errno;
    free(f->tmp);
    f->tmp = NULL;
    return 0;
}

void local_abandon(struct local_file *f)
{
    if (f->tmp)
        unlink(f->tmp);
    local_close(f);
}

void local_close(struct local_file *f)
{
    if (f->fd > STDERR_FILENO)
        close(f->fd);
    f->fd = -1;
    free(f->tmp);
    free(f->path);
    f->tmp = f->path = NULL;
}
