/* Removal of upload temporaries a dead server left (see stale.h). */
#include "stale.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool tftpd_is_tmp_name(const char *name)
{
    size_t n = strlen(TFTPD_TMP_PREFIX);
    if (strncmp(name, TFTPD_TMP_PREFIX, n) != 0 || strlen(name) != n + 12)
        return false;
    for (const char *p = name + n; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int tftpd_tmp_lock(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    return fcntl(fd, F_OFD_SETLK, &fl) < 0 ? -errno : 0;
}

struct walk {
    unsigned long entries;
    int removed, kept;
    bool truncated;
};

/* Remove name in dirfd if it is an unlocked regular file. */
static void try_remove(int dirfd, const char *name, struct walk *w)
{
    int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (tftpd_tmp_lock(fd) == 0) {
            /* ours now, and no living server's: the name still names it
             * (a temporary is never renamed to a temporary's name) */
            struct stat now;
            if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 &&
                now.st_ino == st.st_ino && now.st_dev == st.st_dev &&
                unlinkat(dirfd, name, 0) == 0)
                w->removed++;
        } else {
            w->kept++;   /* another server is writing it */
        }
    }
    close(fd);
}

static void walk_dir(int dirfd, int depth, struct walk *w)
{
    int fd = dup(dirfd);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (++w->entries > TFTPD_STALE_ENTRIES) {
            w->truncated = true;
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (tftpd_is_tmp_name(e->d_name)) {
            try_remove(dirfd, e->d_name, w);
            continue;
        }
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
            continue;
        if (depth >= TFTPD_STALE_DEPTH) {
            w->truncated = true;
            continue;
        }
        /* O_NOFOLLOW: a symlink to elsewhere is not below the root */
        int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            continue;
        walk_dir(sub, depth + 1, w);
        close(sub);
    }
    closedir(d);
}

int tftpd_clean_stale(int rootfd, const char *root, const ibx_log *log)
{
    struct walk w = {0};
    int fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    walk_dir(fd, 0, &w);
    close(fd);
    if (w.removed)
        ibx_info(log, "removed %d stale upload temporar%s (%s*) below %s", w.removed,
                 w.removed == 1 ? "y" : "ies", TFTPD_TMP_PREFIX, root);
    if (w.kept)
        ibx_info(log, "kept %d upload temporar%s another server is writing", w.kept,
                 w.kept == 1 ? "y" : "ies");
    if (w.truncated)
        ibx_warn(log, "stale temporaries: stopped at a bound (%d levels, %d entries); "
                 "deeper or later ones were not looked at", TFTPD_STALE_DEPTH,
                 TFTPD_STALE_ENTRIES);
    return w.removed;
}
