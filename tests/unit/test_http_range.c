/* Range planning (ibx_http_range_plan): overlapping and adjacent ranges
 * are coalesced, the parts keep the order in which they first appeared,
 * and ranges that add up to more than the representation (or too many of
 * them) make the header ignored, so a request can never ask for more
 * bytes than a plain 200 would send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipcbox/http_fields.h"

/* Parse v against size (a 206 expected), then plan; *np gets the number
 * of ranges parsed. */
static int plan(const char *v, uint64_t size, struct ibx_http_range *r, int *np)
{
    int status;
    int n = ibx_http_range_parse(v, strlen(v), size, r, IBX_HTTP_MAX_RANGES, &status);
    assert_int_equal(status, 206);
    *np = n;
    return ibx_http_range_plan(r, (size_t)n, size);
}

#define RANGE_IS(r, a, b)                     \
    do {                                      \
        assert_int_equal((r).first, (a));     \
        assert_int_equal((r).last, (b));      \
    } while (0)

static void test_disjoint_kept_in_order(void **state)
{
    (void)state;
    struct ibx_http_range r[IBX_HTTP_MAX_RANGES];
    int n;
    assert_int_equal(plan("bytes=500-599,0-9,100-109", 1000, r, &n), 3);
    RANGE_IS(r[0], 500, 599);
    RANGE_IS(r[1], 0, 9);
    RANGE_IS(r[2], 100, 109);
    /* a single range is left alone */
    assert_int_equal(plan("bytes=10-19", 1000, r, &n), 1);
    RANGE_IS(r[0], 10, 19);
}

static void test_overlap_and_adjacent_merged(void **state)
{
    (void)state;
    struct ibx_http_range r[IBX_HTTP_MAX_RANGES];
    int n;
    /* overlapping */
    assert_int_equal(plan("bytes=0-10,5-15", 100, r, &n), 1);
    RANGE_IS(r[0], 0, 15);
    /* adjacent (10 then 11) */
    assert_int_equal(plan("bytes=0-10,11-20", 100, r, &n), 1);
    RANGE_IS(r[0], 0, 20);
    /* one byte apart stays two parts */
    assert_int_equal(plan("bytes=0-10,12-20", 100, r, &n), 2);
    /* contained */
    assert_int_equal(plan("bytes=0-50,10-20", 100, r, &n), 1);
    RANGE_IS(r[0], 0, 50);
    /* a chain merged transitively, out of order; the group takes the
     * place of its earliest member */
    assert_int_equal(plan("bytes=80-89,40-49,20-29,50-59,30-39", 1000, r, &n), 2);
    RANGE_IS(r[0], 80, 89);
    RANGE_IS(r[1], 20, 59);
    assert_int_equal(plan("bytes=900-909,30-39,20-30", 1000, r, &n), 2);
    RANGE_IS(r[0], 900, 909);
    RANGE_IS(r[1], 20, 39);
    /* suffix and open ranges are resolved before merging */
    assert_int_equal(plan("bytes=-10,980-989", 1000, r, &n), 1);
    RANGE_IS(r[0], 980, 999);
    /* many one-byte ranges in a row are one part */
    assert_int_equal(plan("bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,10-10,"
                          "11-11,12-12,13-13,14-14,15-15", 1000, r, &n), 1);
    RANGE_IS(r[0], 0, 15);
}

static void test_amplification_ignored(void **state)
{
    (void)state;
    struct ibx_http_range r[IBX_HTTP_MAX_RANGES];
    int n;
    /* 16 x the whole file: more than the representation -> 200 */
    assert_int_equal(plan("bytes=0-,0-,0-,0-,0-,0-,0-,0-,0-,0-,0-,0-,0-,0-,0-,0-",
                          100000000, r, &n), 0);
    assert_int_equal(n, 16);
    assert_int_equal(plan("bytes=0-,0-", 10, r, &n), 0);
    assert_int_equal(plan("bytes=0-60,40-99", 100, r, &n), 0);
    assert_int_equal(plan("bytes=-60,0-60", 100, r, &n), 0);
    /* exactly the representation, overlapping nothing, is fine */
    assert_int_equal(plan("bytes=0-49,50-99", 100, r, &n), 1);
    RANGE_IS(r[0], 0, 99);
    /* overlap that stays within the size is merged, not refused */
    assert_int_equal(plan("bytes=0-9,0-9,0-9", 100, r, &n), 1);
    RANGE_IS(r[0], 0, 9);
}

static void test_bounds(void **state)
{
    (void)state;
    struct ibx_http_range r[IBX_HTTP_MAX_RANGES + 1];
    /* nothing to plan, or more than the limit */
    assert_int_equal(ibx_http_range_plan(r, 0, 100), 0);
    for (int i = 0; i <= IBX_HTTP_MAX_RANGES; i++)
        r[i] = (struct ibx_http_range){(uint64_t)i * 2, (uint64_t)i * 2};
    assert_int_equal(ibx_http_range_plan(r, IBX_HTTP_MAX_RANGES + 1, 1000), 0);
    assert_int_equal(ibx_http_range_plan(r, IBX_HTTP_MAX_RANGES, 1000),
                     IBX_HTTP_MAX_RANGES);
    /* ranges not resolved against the size are refused, not trusted */
    r[0] = (struct ibx_http_range){5, 4};
    assert_int_equal(ibx_http_range_plan(r, 1, 1000), 0);
    r[0] = (struct ibx_http_range){0, 1000};
    assert_int_equal(ibx_http_range_plan(r, 1, 1000), 0);
    /* largest sizes do not overflow */
    r[0] = (struct ibx_http_range){0, UINT64_MAX - 1};
    r[1] = (struct ibx_http_range){UINT64_MAX - 1, UINT64_MAX - 1};
    assert_int_equal(ibx_http_range_plan(r, 2, UINT64_MAX), 0);
    r[0] = (struct ibx_http_range){0, UINT64_MAX - 3};
    r[1] = (struct ibx_http_range){UINT64_MAX - 2, UINT64_MAX - 1};
    assert_int_equal(ibx_http_range_plan(r, 2, UINT64_MAX), 1);
    RANGE_IS(r[0], 0, UINT64_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disjoint_kept_in_order),
        cmocka_unit_test(test_overlap_and_adjacent_merged),
        cmocka_unit_test(test_amplification_ignored),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
