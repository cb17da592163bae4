/* Upload temporaries that a dead server left behind. An upload is written
 * to ".tftp-upload.XXXXXXXXXXXX" (12 hex digits) beside its target and
 * renamed when complete (root.c); a server killed with SIGKILL (or a
 * crash, or a power loss) leaves that file for ever. The server holds an
 * open-file-description lock (F_OFD_SETLK, write) on each temporary while
 * it uploads, which the kernel drops when the process dies, however it
 * dies. At start-up every file below the root with exactly that name
 * whose lock can be taken belongs to no living server and is removed;
 * a temporary another server on the same root is writing is locked and
 * stays. */
#ifndef IPCBOX_APPS_TFTP_STALE_H
#define IPCBOX_APPS_TFTP_STALE_H

#include <stdbool.h>

#include "ipcbox/log.h"

/* Name prefix of an upload temporary (followed by 12 lowercase hex digits). */
#define TFTPD_TMP_PREFIX ".tftp-upload."
/* Deepest directory level searched below the root. */
#define TFTPD_STALE_DEPTH 32
/* Most directory entries looked at (bounds the start-up time). */
#define TFTPD_STALE_ENTRIES 200000

/* True if name is an upload temporary's name. */
bool tftpd_is_tmp_name(const char *name);
/* Lock an upload temporary for as long as fd stays open (see above).
 * Returns 0 or -errno. */
int tftpd_tmp_lock(int fd);
/* Remove the unlocked upload temporaries below rootfd (root is its name
 * for the log). Logs what it removed and when it stopped at a bound.
 * Returns how many it removed. */
int tftpd_clean_stale(int rootfd, const char *root, const ibx_log *log);

#endif
