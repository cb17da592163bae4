/* Local files of the TFTP client: a source to send, or a destination that
 * lands atomically (temporary file in the same directory, fsync, rename)
 * unless it is stdout or an existing non-regular file such as /dev/null. */
#ifndef IPCBOX_APPS_TFTP_LOCAL_H
#define IPCBOX_APPS_TFTP_LOCAL_H

#include <stdbool.h>
#include <stdint.h>

/* An open local file. */
struct local_file {
    int fd;
    uint64_t size;   /* source: its size */
    char *path;      /* destination: final name (NULL when direct) */
    char *tmp;       /* destination: temporary name (NULL when direct) */
};

/* Open path for reading; it must be a regular file (blocks are re-read
 * for retransmission). Returns 0 or -errno. */
int local_open_read(struct local_file *f, const char *path);
/* Open a destination: "-" is stdout. Returns 0 or -errno. */
int local_open_write(struct local_file *f, const char *path);
/* Make a complete destination visible (fsync + rename). Returns 0 or
 * -errno (the temporary file is then removed by local_abandon). */
int local_commit(struct local_file *f);
/* Remove an incomplete destination and close. */
void local_abandon(struct local_file *f);
/* Close and free. */
void local_close(struct local_file *f);

#endif
