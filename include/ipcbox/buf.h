/* ipcbox growable byte buffer: a read cursor and a write end over one
 * heap block. Consuming only moves the cursor; space is reclaimed by
 * compaction when appending needs room. */
#ifndef IPCBOX_BUF_H
#define IPCBOX_BUF_H

#include <stddef.h>
#include <sys/types.h>

/* Exported by libipcbox.so, built with hidden visibility otherwise. */
#pragma GCC visibility push(default)

/* Zero-initialised is an empty buffer. */
typedef struct ibx_buf {
    char *data;
    size_t off;   /* first unread byte */
    size_t len;   /* end of written bytes */
    size_t cap;
} ibx_buf;

/* Bytes available to read. */
static inline size_t ibx_buf_used(const ibx_buf *b) { return b->len - b->off; }
/* Pointer to the first unread byte. */
static inline char *ibx_buf_head(const ibx_buf *b) { return b->data + b->off; }
/* Pointer to the free space after the written bytes. */
static inline char *ibx_buf_tail(const ibx_buf *b) { return b->data + b->len; }
/* Free space at the tail. */
static inline size_t ibx_buf_room(const ibx_buf *b) { return b->cap - b->len; }

/* Ensure at least n bytes of room at the tail (compacts, then grows).
 * Returns 0 or -ENOMEM. */
int ibx_buf_reserve(ibx_buf *b, size_t n);
/* Append n bytes. Returns 0 or -ENOMEM. */
int ibx_buf_append(ibx_buf *b, const void *p, size_t n);
/* Append printf-formatted text. Returns 0, -ENOMEM or -EINVAL. */
int ibx_buf_printf(ibx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Mark n bytes written at the tail (after writing into ibx_buf_tail). */
static inline void ibx_buf_commit(ibx_buf *b, size_t n) { b->len += n; }
/* Drop n bytes from the head; resets to empty when everything is read. */
void ibx_buf_consume(ibx_buf *b, size_t n);
/* Drop all content, keep the memory. */
static inline void ibx_buf_reset(ibx_buf *b) { b->off = b->len = 0; }
/* Free the memory; the buffer is empty and reusable afterwards. */
void ibx_buf_free(ibx_buf *b);

/* read() up to max bytes from fd into the tail, growing as needed.
 * Returns bytes read, 0 on EOF, or -errno (-EAGAIN when nothing ready). */
ssize_t ibx_buf_read_fd(ibx_buf *b, int fd, size_t max);
/* write() the unread bytes to fd (MSG_NOSIGNAL for sockets) and consume
 * what was written. Returns bytes written or -errno (-EAGAIN included). */
ssize_t ibx_buf_write_fd(ibx_buf *b, int fd);

#pragma GCC visibility pop

#endif
