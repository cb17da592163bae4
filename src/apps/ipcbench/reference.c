/* ipcbench reference rows: one core working on the same messages, no
 * IPC, so the stream rows can be read against what a single core can do.
 *
 *   memcpy       into a ring of destination slots with the footprint the
 *                shared-memory queue has at that size (4 MiB, or four
 *                messages): source and ring stay in the core's caches, so
 *                this is the cache-resident copy rate.
 *   memcpy-dram  between two 128 MiB buffers (a 256 MiB working set, far
 *                beyond any core's caches): the single-core memory copy
 *                bandwidth, the figure mbw or STREAM's "copy" report for
 *                "memcpy bandwidth" of a machine.
 *   xxh3         the receivers' check alone: a running XXH3-64 over the
 *                messages, as every stream receiver computes it, with the
 *                messages in cache. No verified stream can be faster.
 *
 * All count bytes (MB = 10^6) like the stream rows count bytes delivered.
 * The copies are verified (the last messages copied must be in place,
 * byte for byte), the hash by a second pass that must give the same
 * digest. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>
#if defined(__x86_64__) && __has_include(<xxh_x86dispatch.h>)
/* the same hash, using AVX2 or AVX-512 when the CPU has them (chosen at
 * run time; Debian's library is built for baseline x86-64 otherwise) */
#include <xxh_x86dispatch.h>
#endif

#include "bench.h"

/* One buffer of the memory-bandwidth row: well beyond a core's L2 and a
 * CCX's or socket's L3 on common machines. */
#define DRAM_HALF (128u << 20)

/* Fill the row from a timed copy loop: n messages in t1 - t0 ns. */
static void finish(struct row *row, size_t size, uint64_t n, int64_t t0, int64_t t1,
                   bool ok)
{
    row->has_tput = true;
    row->tput_count = n;
    row->msg_s = t1 > t0 ? n / ((t1 - t0) / 1e9) : 0;
    row->mb_s = row->msg_s * size / 1e6;
    row->verified = ok;
    if (!ok)
        row->status = ROW_FAIL;
}

/* Single-core memcpy into a ring of destination slots (the same 4 MiB
 * footprint as the shared-memory queue at large sizes). */
static void run_memcpy(const struct plan *pl, size_t size, struct row *row)
{
    size_t ring = size * 4 > (4u << 20) ? size * 4 : (4u << 20);
    size_t slots = ring / size;
    unsigned char *pool = pool_make(size), *dst = malloc(slots * size);
    if (!pool || !dst) {
        row->status = ROW_FAIL;
        snprintf(row->note, sizeof row->note, "out of memory");
        free(pool);
        free(dst);
        return;
    }
    memset(dst, 0, slots * size);   /* fault the ring in before timing */
    cpu_set_t old;
    sched_getaffinity(0, sizeof old, &old);
    pin_cpu(pl->cpu_a);
    uint64_t warm, max;
    plan_counts(pl, size, true, &warm, &max);
    int64_t cap = (int64_t)(pl->cap_s * 1e9), t0 = 0;
    uint64_t i;
    for (i = 0; i < warm + max; i++) {
        if (i == warm)
            t0 = now_ns();
        memcpy(dst + (i % slots) * size, pool_msg(pool, i, 0), size);
        if ((i & 63) == 0 && i > warm + 64 && now_ns() - t0 > cap) {
            i++;
            break;
        }
    }
    int64_t t1 = now_ns();
    sched_setaffinity(0, sizeof old, &old);
    /* the last `slots` messages must be in place */
    bool ok = true;
    for (uint64_t k = i > slots ? i - slots : 0; k < i; k++)
        ok = ok && memcmp(dst + (k % slots) * size, pool_msg(pool, k, 0), size) == 0;
    finish(row, size, i - warm, t0, t1, ok);
    snprintf(row->note, sizeof row->note, "reference, no IPC: %zu MiB ring, in cache",
             ring >> 20);
    free(pool);
    free(dst);
}

/* Anonymous memory, faulted in at once (cheaper than a fault per page). */
static unsigned char *map_buffer(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Random bytes, a word at a time (xorshift64). */
static void fill_random(unsigned char *p, size_t len)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i + 8 <= len; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
}

/* The source slot of message i: every lap of the destination ring reads
 * the source slots in a rotated order, so each lap writes new contents
 * into every destination slot (a copy that stopped after the first lap
 * would fail verification). */
static size_t dram_src_slot(uint64_t i, size_t slots)
{
    return (size_t)((i + i / slots) % slots);
}

/* Single-core memcpy between two 128 MiB buffers: message i goes from a
 * source slot to destination slot i mod slots, sweeping both buffers. */
static void run_memcpy_dram(const struct plan *pl, size_t size, struct row *row)
{
    size_t slots = DRAM_HALF / size, len = slots * size;
    unsigned char *src = map_buffer(len), *dst = map_buffer(len);
    if (!src || !dst) {
        row->status = ROW_NA;
        snprintf(row->note, sizeof row->note, "cannot map 2 x %u MiB", DRAM_HALF >> 20);
        goto out;
    }
    /* write every byte before timing: on a VM the first touch of memory
     * can also fault in the hypervisor, even after MAP_POPULATE */
    fill_random(src, len);
    memset(dst, 0, len);
    cpu_set_t old;
    sched_getaffinity(0, sizeof old, &old);
    pin_cpu(pl->cpu_a);
    uint64_t warm, max;
    plan_counts(pl, size, true, &warm, &max);
    int64_t cap = (int64_t)(pl->cap_s * 1e9), t0 = 0;
    uint64_t i;
    for (i = 0; i < warm + max; i++) {
        if (i == warm)
            t0 = now_ns();
        memcpy(dst + (i % slots) * size, src + dram_src_slot(i, slots) * size, size);
        if ((i & 63) == 0 && i > warm + 64 && now_ns() - t0 > cap) {
            i++;
            break;
        }
    }
    int64_t t1 = now_ns();
    sched_setaffinity(0, sizeof old, &old);
    /* the last `slots` messages (one per destination slot) must be there */
    bool ok = true;
    for (uint64_t k = i > slots ? i - slots : 0; ok && k < i; k++)
        ok = memcmp(dst + (k % slots) * size, src + dram_src_slot(k, slots) * size,
                    size) == 0;
    finish(row, size, i - warm, t0, t1, ok);
    snprintf(row->note, sizeof row->note,
             "reference, no IPC: 2 x %u MiB, memory bound", DRAM_HALF >> 20);
out:
    if (src)
        munmap(src, len);
    if (dst)
        munmap(dst, len);
}

/* XXH3-64 of messages [0, count) as the stream receivers compute it. */
static uint64_t hash_msgs(XXH3_state_t *hs, const unsigned char *pool, size_t size,
                          uint64_t count)
{
    XXH3_64bits_reset(hs);
    for (uint64_t i = 0; i < count; i++)
        XXH3_64bits_update(hs, pool_msg(pool, i, 0), size);
    return XXH3_64bits_digest(hs);
}

/* The receivers' check on one core: the same running hash over the same
 * messages (from the in-cache pool), timed like a stream. */
static void run_hash(const struct plan *pl, size_t size, struct row *row)
{
    unsigned char *pool = pool_make(size);
    XXH3_state_t *hs = XXH3_createState();
    if (!pool || !hs) {
        row->status = ROW_FAIL;
        snprintf(row->note, sizeof row->note, "out of memory");
        goto out;
    }
    cpu_set_t old;
    sched_getaffinity(0, sizeof old, &old);
    pin_cpu(pl->cpu_a);
    uint64_t warm, max;
    plan_counts(pl, size, true, &warm, &max);
    int64_t cap = (int64_t)(pl->cap_s * 1e9), t0 = 0;
    uint64_t i;
    XXH3_64bits_reset(hs);
    for (i = 0; i < warm + max; i++) {
        if (i == warm)
            t0 = now_ns();
        XXH3_64bits_update(hs, pool_msg(pool, i, 0), size);
        if ((i & 63) == 0 && i > warm + 64 && now_ns() - t0 > cap) {
            i++;
            break;
        }
    }
    uint64_t digest = XXH3_64bits_digest(hs);
    int64_t t1 = now_ns();
    sched_setaffinity(0, sizeof old, &old);
    finish(row, size, i - warm, t0, t1, digest == hash_msgs(hs, pool, size, i));
    snprintf(row->note, sizeof row->note, "reference, no IPC: what each receiver does");
out:
    XXH3_freeState(hs);
    free(pool);
}

void run_reference(const struct plan *pl, const struct mech *m, size_t size,
                   struct row *row)
{
    if (m == &mech_memcpy_dram)
        run_memcpy_dram(pl, size, row);
    else if (m == &mech_hash)
        run_hash(pl, size, row);
    else
        run_memcpy(pl, size, row);
}

const struct mech mech_memcpy = {
    .name = "memcpy", .label = "memcpy, one core, in cache (reference)",
    .kind = MECH_MEMCPY,
};

const struct mech mech_memcpy_dram = {
    .name = "memcpy-dram", .label = "memcpy, one core, 256 MiB (memory bw)",
    .kind = MECH_MEMCPY,
};

const struct mech mech_hash = {
    .name = "xxh3", .label = "XXH3 check, one core (reference)",
    .kind = MECH_MEMCPY,
};
