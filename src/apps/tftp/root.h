/* Files of the TFTP server, confined to one root directory: a name never
 * resolves outside the root (no "..", no absolute names after the leading
 * slashes PXE clients send are dropped, no symlink that leaves the root;
 * openat2 RESOLVE_BENEATH, or a component walk that follows no symlink on
 * kernels without it). Uploads go to a temporary file beside the target
 * and are renamed over it only when complete. */
#ifndef IPCBOX_APPS_TFTP_ROOT_H
#define IPCBOX_APPS_TFTP_ROOT_H

#include <stdbool.h>
#include <stdint.h>

/* An upload in progress. */
struct root_upload {
    int fd;          /* the temporary file */
    int dirfd;       /* its directory */
    char tmp[80];    /* temporary name in dirfd */
    char *base;      /* final name in dirfd */
    bool replace;    /* may replace an existing file */
};

/* Check a requested name and return it without leading slashes in *rel.
 * Returns 0 or -EACCES (empty, "..", control characters, too long). */
int root_check_name(const char *name, const char **rel);
/* Open a regular file below rootfd for reading. Returns the fd (size in
 * *size) or -errno: -ENOENT, -EACCES (escape, not regular, permission). */
int root_open_read(int rootfd, const char *name, uint64_t *size);
/* Start an upload of name below rootfd. A new file needs create, an
 * existing one overwrite. Returns 0 or -errno: -EEXIST, -EACCES, -ENOENT
 * (directory missing). */
int root_upload_begin(struct root_upload *u, int rootfd, const char *name,
                      bool create, bool overwrite);
/* Make a complete upload visible (fsync, rename). Returns 0 or -errno;
 * either way the upload is closed. */
int root_upload_commit(struct root_upload *u);
/* Drop an upload: the temporary file is removed, the target untouched. */
void root_upload_abort(struct root_upload *u);

#endif
