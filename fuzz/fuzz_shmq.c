/* libFuzzer harness for the shared-memory queue's trust boundary: the
 * shared header and ring are writable by the peer, so whatever they hold,
 *   - ibx_shmq_from_fd either refuses the object or maps a sane queue;
 *   - ibx_shmq_peek only ever returns bytes inside the ring (or -EPROTO);
 *   - ibx_shmq_reserve only ever hands out room inside the ring.
 * Input byte 0 picks the mode; the rest is the hostile memory. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../src/lib/shmq_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const ibx_shmq *q, const void *p, size_t len)
{
    const unsigned char *b = p;
    if (b < q->data || b + len > q->data + q->cap)
        abort();
}

/* A header from the input, of an input-chosen file size. */
static void fuzz_header(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz-shmq", MFD_CLOEXEC);
    if (fd < 0)
        return;
    size_t len = size >= 2 ? (size_t)data[0] * 4096 + size : size;
    if (len > (1u << 20))
        len = 1u << 20;
    if (ftruncate(fd, (off_t)len) == 0 && write(fd, data, size) == (ssize_t)size) {
        ibx_shmq *q;
        if (ibx_shmq_from_fd(fd, &q) == 0) {
            size_t cap = ibx_shmq_capacity(q);
            if (cap < IBX_SHMQ_MIN_CAPACITY || (cap & (cap - 1)) ||
                q->map_size < cap || ibx_shmq_max_msg(q) >= cap)
                abort();
            ibx_shmq_close(q);
        }
    }
    close(fd);
}

/* Indices and ring contents from the input. */
static void fuzz_ring(const uint8_t *data, size_t size)
{
    if (size < 17)
        return;
    ibx_shmq *cons, *prod;
    unsigned flags = (data[0] & 2) ? IBX_SHMQ_MULTI_PRODUCER : 0;
    if (ibx_shmq_create(NULL, 4096, flags, 0600, &cons) < 0)
        return;
    if (ibx_shmq_from_fd(ibx_shmq_fd(cons), &prod) < 0) {
        ibx_shmq_close(cons);
        return;
    }
    uint64_t head, tail;
    memcpy(&head, data + 1, 8);
    memcpy(&tail, data + 9, 8);
    /* keep most cases near each other so records get parsed */
    if (data[0] & 4) {
        tail &= 0xffff;
        head = tail + (head & 0x1fff);
    }
    atomic_store(&cons->sh->head, head);
    atomic_store(&cons->sh->tail, tail);
    data += 17;
    size -= 17;
    for (size_t i = 0; size && i < cons->cap; i++)
        cons->data[i] = data[i % size];
    if (ibx_shmq_attach(cons, IBX_SHMQ_CONSUMER) < 0 ||
        ibx_shmq_attach(prod, IBX_SHMQ_PRODUCER) < 0)
        abort();
    unsigned sum = 0;
    for (int i = 0; i < 64; i++) {
        const void *p;
        size_t n;
        if (ibx_shmq_peek(cons, &p, &n, 0) < 0)
            break;
        inside(cons, p, n);
        for (size_t k = 0; k < n; k++)
            sum += ((const unsigned char *)p)[k];
        if (ibx_shmq_release(cons) < 0)
            abort();
    }
    for (int i = 0; i < 8; i++) {
        void *w;
        size_t len = size ? data[i % size] * 16u : 0;
        if (ibx_shmq_reserve(prod, len, &w, 0) < 0)
            break;
        inside(prod, w, len);
        memset(w, (int)sum, len);
        if (ibx_shmq_commit(prod, len) < 0)
            abort();
    }
    ibx_shmq_close(prod);
    ibx_shmq_close(cons);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    if (data[0] & 1)
        fuzz_ring(data, size);
    else
        fuzz_header(data + 1, size - 1);
    return 0;
}
