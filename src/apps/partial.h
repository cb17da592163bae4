/* Names of uploads in progress, shared by every applet that serves files
 * from a directory others may write to. recv writes an upload to the
 * hidden part file ".NAME.ibxpart" beside its target (kept for resume,
 * verified only when complete); tftpd writes to ".tftp-upload.XXXXXX"
 * and renames it over the target when the transfer ends. Neither is ever
 * served (httpd, tftpd), listed, or accepted as a name to write, under
 * any flag: their contents are unverified. */
#ifndef IPCBOX_APPS_PARTIAL_H
#define IPCBOX_APPS_PARTIAL_H

#include <stdbool.h>
#include <stddef.h>

/* Suffix of recv's part files (".NAME" + this). */
#define PART_SUFFIX ".ibxpart"
/* Prefix of tftpd's temporary upload files (random hex follows). */
#define TFTP_TMP_PREFIX ".tftp-upload."

/* True if the path component name[0..len) is an upload in progress: a
 * part file ".X.ibxpart" or a tftpd temporary ".tftp-upload.*". */
bool partial_name(const char *name, size_t len);
/* True if any '/'-separated component of path is an upload in progress
 * (see partial_name). */
bool partial_path(const char *path);

#endif
