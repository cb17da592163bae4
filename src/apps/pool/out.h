/* The output of one job of `ipcbox pool`, held until it is printed: in
 * memory up to a bound shared by the job's stdout and stderr, then in an
 * unlinked temporary file (O_TMPFILE), so a job with huge output costs
 * disk, not memory. Printing prefixes each line with a tag (--tag). */
#ifndef IPCBOX_APPS_POOL_OUT_H
#define IPCBOX_APPS_POOL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One stream (stdout or stderr) of a job. */
struct pool_out {
    char *buf;          /* what is held in memory */
    size_t len, cap;
    int spill;          /* the temporary file once spilled, else -1 */
    uint64_t spilled;   /* bytes in it */
};

/* A stream with nothing held. */
void pool_out_init(struct pool_out *o);
/* Hold n more bytes. *mem counts the job's memory (both streams); past
 * bound the rest goes to a temporary file in tmpdir. Returns 0 or -errno
 * (the bytes are then lost; the caller reports it once). */
int pool_out_add(struct pool_out *o, const char *p, size_t n, size_t *mem, size_t bound,
                 const char *tmpdir);
/* Can a temporary file be made in dir? 0 or -errno (made and closed). */
int pool_out_check_dir(const char *dir);
/* Write everything held to fd, each line after tag (taglen bytes; none if
 * 0); *bol says whether the next byte starts a line (kept across calls).
 * Returns 0 or -errno from writing. */
int pool_out_print(const struct pool_out *o, int fd, const char *tag, size_t taglen,
                   bool *bol);
/* Write p[0..n) to fd the same way (for --line-buffer). */
int pool_out_write_tagged(int fd, const char *p, size_t n, const char *tag, size_t taglen,
                          bool *bol);
/* Forget what is held (the file is closed; a big buffer is freed, a
 * small one kept for the next job). */
void pool_out_reset(struct pool_out *o);
/* Free everything. */
void pool_out_free(struct pool_out *o);

#endif
