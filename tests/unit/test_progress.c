/* The clients' progress lines (src/apps/progress.c) and the terminal
 * text rules under them (src/apps/termtext.c): columns of UTF-8 text,
 * masking, ellipsis; lines fitted to 20..200 columns never exceed
 * width - 1; fields go in a fixed order as the width shrinks; skipped
 * files are counted, not shown as transfers; the summary keeps its full
 * form off a terminal. */
//unit-sources: src/apps/progress.c src/apps/termtext.c
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "progress.h"
#include "termtext.h"

static void test_cols(void **state)
{
    (void)state;
    assert_int_equal(termtext_cols(""), 0);
    assert_int_equal(termtext_cols("abc"), 3);
    assert_int_equal(termtext_cols("caf\xc3\xa9"), 4);              /* é */
    assert_int_equal(termtext_cols("e\xcc\x81"), 1);                /* e + U+0301 */
    assert_int_equal(termtext_cols("\xe6\x97\xa5\xe6\x9c\xac"), 4);  /* 日本 */
    assert_int_equal(termtext_cols("\xf0\x9f\x98\x80"), 2);         /* U+1F600 */
    assert_int_equal(termtext_cols("a\nb\rc\x1b[K"), 8);            /* masked: 1 each */
    assert_int_equal(termtext_cols("\xff\xc0\xaf"), 3);             /* invalid bytes */
    assert_int_equal(termtext_cols("\xed\xa0\x80"), 3);             /* a surrogate */
    assert_int_equal(termtext_cols("\xe2\x80\xae"), 1);             /* U+202E: '?' */
}

static void test_fit(void **state)
{
    (void)state;
    char b[128];
    assert_int_equal(termtext_fit(b, sizeof b, "short", 10, TERMTEXT_KEEP_TAIL), 5);
    assert_string_equal(b, "short");
    assert_int_equal(termtext_fit(b, sizeof b, "dir/sub/name.bin", 11, TERMTEXT_KEEP_TAIL), 11);
    assert_string_equal(b, "...name.bin");
    assert_int_equal(termtext_fit(b, sizeof b, "dir/sub/name.bin", 10, TERMTEXT_KEEP_HEAD), 10);
    assert_string_equal(b, "dir/sub...");
    /* controls never reach the terminal */
    termtext_fit(b, sizeof b, "a\x1b]0;x\a\nb", 40, TERMTEXT_KEEP_TAIL);
    assert_string_equal(b, "a?]0;x??b");
    /* a wide character is never split: one column short instead */
    const char *jp = "ab\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";   /* ab日本語 */
    assert_int_equal(termtext_fit(b, sizeof b, jp, 8, TERMTEXT_KEEP_TAIL), 8);
    assert_string_equal(b, jp);
    assert_int_equal(termtext_fit(b, sizeof b, jp, 7, TERMTEXT_KEEP_TAIL), 7);
    assert_string_equal(b, "...\xe6\x9c\xac\xe8\xaa\x9e");
    assert_int_equal(termtext_fit(b, sizeof b, jp, 6, TERMTEXT_KEEP_TAIL), 5);
    assert_string_equal(b, "...\xe8\xaa\x9e");
    assert_int_equal(termtext_fit(b, sizeof b, jp, 6, TERMTEXT_KEEP_HEAD), 5);
    assert_string_equal(b, "ab...");
    /* marks of a cut character go with it */
    termtext_fit(b, sizeof b, "xxxxe\xcc\x81z", 4, TERMTEXT_KEEP_TAIL);
    assert_int_equal(termtext_cols(b), 4);
    assert_string_equal(b, "...z");
    /* tiny widths */
    assert_int_equal(termtext_fit(b, sizeof b, "abcdef", 2, TERMTEXT_KEEP_TAIL), 2);
    assert_string_equal(b, "..");
    assert_int_equal(termtext_fit(b, sizeof b, "abcdef", 0, TERMTEXT_KEEP_TAIL), 0);
    assert_string_equal(b, "");
    /* a small buffer is cut safely */
    char s[6];
    termtext_fit(s, sizeof s, "\xe6\x97\xa5\xe6\x9c\xac", 4, TERMTEXT_KEEP_HEAD);
    assert_string_equal(s, "\xe6\x97\xa5");
}

/* A multi-file job in the middle: 300 files, 120 ended (20 of them
 * skipped, 1 failed), a long name, 10 s in at 1 MiB/s. */
static void mid_job(struct progress *p, const char *name)
{
    progress_init(p, "send", true, PROGRESS_QUIET);   /* quiet: no output here */
    progress_expect(p, 300, 300ull << 20, true);
    p->ok = 99;
    p->unchanged = 20;
    p->failed = 1;
    p->bytes_done = 120ull << 20;
    p->moved = 10ull << 20;
    p->rate_t = p->t0 + 1;
    p->rate = 1 << 20;
    progress_file_begin(p, name, 4ull << 20, true, 1ull << 20);
}

#define LONG_NAME "photos/2026/\xe6\x97\xa5\xe6\x9c\xac/caf\xc3\xa9-e\xcc\x81-" \
                  "a-rather-long-file-name-that-goes-on-and-on.jpeg"

static void test_line_widths(void **state)
{
    (void)state;
    struct progress p;
    mid_job(&p, LONG_NAME);
    uint64_t now = p.t0 + 10000 * 1000000ull;
    char out[1100];
    for (int w = 10; w <= 200; w++) {
        int n = progress_line(&p, now, w, out, sizeof out);
        assert_int_equal(n, (int)strlen(out));
        assert_true(termtext_cols(out) <= w - 1);
        assert_null(strchr(out, '\r'));
        assert_null(strchr(out, '\n'));
        if (w >= 30) {
            assert_non_null(strstr(out, "120/300 files"));
            assert_non_null(strstr(out, ".jpeg"));   /* the name's tail */
        }
    }
    /* wide: everything, name whole */
    progress_line(&p, now, 200, out, sizeof out);
    assert_non_null(strstr(out, "20 skipped"));
    assert_non_null(strstr(out, "1 failed"));
    assert_non_null(strstr(out, "121/300 MiB"));
    assert_non_null(strstr(out, "1.0 MiB/s"));
    assert_non_null(strstr(out, "ETA 2:59"));
    assert_non_null(strstr(out, "40%"));
    assert_non_null(strstr(out, "[####......]"));
    assert_non_null(strstr(out, LONG_NAME));
    /* 80 columns: the bar goes first, the name is shortened */
    progress_line(&p, now, 80, out, sizeof out);
    assert_null(strstr(out, "[#"));
    assert_non_null(strstr(out, "20 skipped"));
    assert_non_null(strstr(out, "..."));
    /* 60: no rate, percentage or ETA; still files, skipped, bytes */
    progress_line(&p, now, 60, out, sizeof out);
    assert_null(strstr(out, "MiB/s"));
    assert_null(strchr(out, '%'));
    assert_null(strstr(out, "ETA"));
    assert_non_null(strstr(out, "20 skipped"));
    assert_non_null(strstr(out, "121/300 MiB"));
}

static void test_line_plain(void **state)
{
    (void)state;
    struct progress p;
    mid_job(&p, "a\nb");
    char out[1100];
    progress_line(&p, p.t0 + 10000 * 1000000ull, 0, out, sizeof out);
    assert_string_equal(out, "send: 40% 120/300 files, 20 skipped, 1 failed "
                             "121/300 MiB 1.0 MiB/s ETA 2:59 a?b");
}

/* Skipped files add to the count and the bytes, never a 0 B/s transfer. */
static void test_skipped(void **state)
{
    (void)state;
    struct progress p;
    progress_init(&p, "send", true, PROGRESS_QUIET);
    progress_expect(&p, 3, 3000, true);
    for (int i = 0; i < 3; i++) {
        progress_file_begin(&p, "same.bin", 1000, true, 1000);
        progress_file_end(&p, PROGRESS_UNCHANGED, 0);
    }
    char out[1100];
    progress_line(&p, p.t0 + 1000 * 1000000ull, 100, out, sizeof out);
    assert_string_equal(out, "[##########] 100% 3/3 files, 3 skipped 2.9/2.9 KiB same.bin");
    int n = progress_summary(&p, p.t0 + 1000 * 1000000ull, 0, out, sizeof out);
    assert_int_equal(n, (int)strlen(out));
    assert_string_equal(out, "send: 3 files: 0 ok, 3 unchanged, 0 resumed (0 B skipped), "
                             "0 failed; 0 B in 1.00 s (0.0 MB/s, 0 B/s)");
    progress_summary(&p, p.t0 + 1000 * 1000000ull, 60, out, sizeof out);
    assert_string_equal(out, "send: 3 files: 0 ok, 3 unchanged; 0 B in 1.00 s (0 B/s)");
}

/* A job whose files announce their sizes one by one (get): no total, no
 * ETA, until the last file. */
static void test_unknown_total(void **state)
{
    (void)state;
    struct progress p;
    progress_init(&p, "get", true, PROGRESS_QUIET);
    progress_expect(&p, 2, 0, false);
    progress_file_begin(&p, "a", 1000, true, 0);
    progress_add(&p, 500);
    char out[1100];
    progress_line(&p, p.t0 + 2000 * 1000000ull, 100, out, sizeof out);
    assert_null(strchr(out, '%'));
    assert_null(strstr(out, "ETA"));
    assert_non_null(strstr(out, "0/2 files 500 B"));
    progress_file_end(&p, PROGRESS_OK, 0);
    progress_file_begin(&p, "b", 1000, true, 0);
    progress_line(&p, p.t0 + 2000 * 1000000ull, 100, out, sizeof out);
    assert_non_null(strstr(out, "50%"));
    assert_non_null(strstr(out, "1/2 files"));
}

/* One transfer (tftp): bar and bytes; the summary names the file and
 * carries the note until it does not fit. */
static void test_single(void **state)
{
    (void)state;
    struct progress p;
    progress_init(&p, "tftp get", false, PROGRESS_QUIET);
    progress_file_begin(&p, "images/boot.img", 8ull << 20, true, 0);
    progress_set(&p, 2ull << 20);
    char out[1100];
    uint64_t now = p.t0 + 2000 * 1000000ull;
    progress_line(&p, now, 100, out, sizeof out);
    assert_string_equal(out, "[##........] 25% 2.0/8.0 MiB 1.0 MiB/s ETA 0:06 images/boot.img");
    progress_line(&p, now, 0, out, sizeof out);
    assert_string_equal(out, "tftp get: 25% 2.0/8.0 MiB 1.0 MiB/s ETA 0:06 images/boot.img");
    progress_set(&p, 8ull << 20);
    progress_file_end(&p, PROGRESS_OK, 0);
    progress_note(&p, "blksize %u, %u retransmitted", 8192u, 0u);
    now = p.t0 + 4000 * 1000000ull;
    progress_summary(&p, now, 0, out, sizeof out);
    assert_string_equal(out, "tftp get images/boot.img: 8.0 MiB in 4.00 s "
                             "(2.1 MB/s, 2.0 MiB/s), blksize 8192, 0 retransmitted");
    for (int w = 10; w <= 120; w++) {
        progress_summary(&p, now, w, out, sizeof out);
        assert_true(termtext_cols(out) <= w - 1);
    }
    progress_summary(&p, now, 60, out, sizeof out);
    assert_string_equal(out, "tftp get images/boot.img: 8.0 MiB in 4.00 s (2.0 MiB/s)");
}

/* A counted job (pool): jobs, not files or bytes; rate and ETA from the
 * counts; every width fits. */
static void test_counting(void **state)
{
    (void)state;
    struct progress p;
    progress_init(&p, "pool", true, PROGRESS_QUIET);
    progress_counting(&p, "job");
    progress_expect(&p, 40, 0, false);
    for (int i = 0; i < 10; i++) {
        progress_file_begin(&p, "sleep 1", 0, false, 0);
        progress_file_end(&p, i == 3 ? PROGRESS_NOT_OK : PROGRESS_OK, 0);
        if (i == 3)
            progress_fail(&p);
    }
    char out[1100];
    uint64_t now = p.t0 + 5000 * 1000000ull;
    progress_line(&p, now, 0, out, sizeof out);
    assert_string_equal(out, "pool: 25% 10/40 jobs, 1 failed 2.0/s ETA 0:15 sleep 1");
    progress_line(&p, now, 100, out, sizeof out);
    assert_string_equal(out, "[##........] 25% 10/40 jobs, 1 failed 2.0/s ETA 0:15 sleep 1");
    for (int w = 10; w <= 120; w++) {
        progress_line(&p, now, w, out, sizeof out);
        assert_true(termtext_cols(out) <= w - 1);
        assert_null(strstr(out, " B"));
    }
    progress_summary(&p, now, 0, out, sizeof out);
    assert_string_equal(out, "pool: 10 jobs: 9 ok, 1 failed in 5.00 s (2.0 jobs/s)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cols),
        cmocka_unit_test(test_fit),
        cmocka_unit_test(test_line_widths),
        cmocka_unit_test(test_line_plain),
        cmocka_unit_test(test_skipped),
        cmocka_unit_test(test_unknown_total),
        cmocka_unit_test(test_single),
        cmocka_unit_test(test_counting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
