/* ipcbox pool's pure parts: the template (replacement strings, GNU
 * parallel's quoting, the words of a command run without a shell and the
 * decision to use one), the job log (format and reading for --resume),
 * and the -j / --timeout / --halt arithmetic against the numbers GNU
 * parallel 20221122 gives. */
//unit-sources: src/apps/pool/template.c src/apps/pool/joblog.c src/apps/pool/policy.c
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pool/joblog.h"
#include "pool/policy.h"
#include "pool/template.h"

/* The command line of template t for values v (NULL-terminated). */
static char *line_of(const char *t, const char *const *v, uint64_t seq, unsigned slot)
{
    struct tpl tp;
    assert_int_equal(tpl_parse(&tp, t), 0);
    size_t nv = 0, len[8];
    while (v[nv]) {
        len[nv] = strlen(v[nv]);
        nv++;
    }
    struct tpl_job j = {.v = v, .vlen = len, .nv = nv, .seq = seq, .slot = slot};
    struct tpl_buf b = {0};
    assert_int_equal(tpl_line(&tp, &j, &b), 0);
    tpl_free(&tp);
    return b.p;
}

#define LINE(t, exp, ...)                                                   \
    do {                                                                    \
        const char *v_[] = {__VA_ARGS__, NULL};                             \
        char *got_ = line_of(t, v_, 7, 2);                                  \
        assert_string_equal(got_, exp);                                     \
        free(got_);                                                         \
    } while (0)

static void test_replacements(void **state)
{
    (void)state;
    LINE("echo {} {.} {/} {//} {/.}", "echo dir/sub/f.tar.gz dir/sub/f.tar f.tar.gz dir/sub f.tar",
         "dir/sub/f.tar.gz");
    LINE("echo {#} {%}", "echo 7 2", "x");
    LINE("echo", "echo a", "a");                     /* appended */
    LINE("echo {#}", "echo 7", "a");                 /* any replacement: no append */
    LINE("echo {}", "echo a 1", "a", "1");           /* every source */
    LINE("echo {2}-{1} {3}", "echo 1-a ''", "a", "1");
    LINE("cp {1} {2/.}.bak", "cp x.c 'y z'.bak", "x.c", "d/y z.c");
    LINE("echo {0} {x} {", "echo {0} {x} { a", "a"); /* not replacement strings */
    LINE("", "echo 'hi' there", "echo 'hi' there"); /* raw: the value is the command */
    LINE("echo {.}", "echo ''", ".bashrc");
    LINE("echo {.}", "echo a.b/c", "a.b/c");
    LINE("echo {/}", "echo ''", "a/");
    LINE("echo {//}", "echo .", "a/");
    LINE("echo {//}", "echo a", "a//b");
    LINE("echo {//}", "echo /", "/a");
    LINE("echo {//}", "echo .", "");
    LINE("echo {//}", "echo a", "a/b/");
}

static void test_quote(void **state)
{
    (void)state;
    LINE("echo", "echo 'a b'", "a b");
    LINE("echo", "echo 'd'\"'\"'e'", "d'e");
    LINE("echo", "echo \"'\"'x'", "'x");
    LINE("echo", "echo 'x'\"'\"", "x'");
    LINE("echo", "echo ''", "");
    LINE("echo", "echo a+b/c-d_e.f", "a+b/c-d_e.f");
    LINE("echo", "echo 'a=b'", "a=b");
    LINE("echo", "echo '$x'", "$x");
    LINE("echo", "echo 'a,b'", "a,b");
}

/* The words of template t for values v, joined by '|'. */
static char *words_of(const char *t, const char *const *v, bool *shell)
{
    struct tpl tp;
    assert_int_equal(tpl_parse(&tp, t), 0);
    *shell = tp.shell;
    size_t nv = 0, len[8];
    while (v[nv]) {
        len[nv] = strlen(v[nv]);
        nv++;
    }
    struct tpl_job j = {.v = v, .vlen = len, .nv = nv, .seq = 3, .slot = 1};
    struct tpl_buf b = {0};
    long n = tpl_words(&tp, &j, &b);
    assert_true(n >= 0);
    for (size_t i = 0; i + 1 < b.len; i++)
        if (!b.p[i])
            b.p[i] = '|';
    tpl_free(&tp);
    if (!b.p)
        tpl_buf_add(&b, "", 0);
    return b.p;
}

#define WORDS(t, exp, ...)                                                  \
    do {                                                                    \
        const char *v_[] = {__VA_ARGS__, NULL};                             \
        bool sh_;                                                           \
        char *got_ = words_of(t, v_, &sh_);                                 \
        assert_false(sh_);                                                  \
        assert_string_equal(got_, exp);                                     \
        free(got_);                                                         \
    } while (0)

static void test_words(void **state)
{
    (void)state;
    WORDS("echo", "echo|a b", "a b");
    WORDS("echo  x{}y   {#}", "echo|xa by|3", "a b");
    WORDS("echo {}", "echo|a|1", "a", "1");
    WORDS("echo x{}y", "echo|xa|1y", "a", "1");
    WORDS("echo {2}", "echo|", "a");               /* an empty argument */
    WORDS("cp -a {} {/}.bak", "cp|-a|d/$f|$f.bak", "d/$f");
    WORDS("  true", "true|x", "x");
    WORDS("printf %s:%d", "printf|%s:%d|'", "'");
}

static bool needs_shell(const char *t)
{
    struct tpl tp;
    assert_int_equal(tpl_parse(&tp, t), 0);
    bool s = tp.shell;
    if (!s)
        assert_non_null(tp.prog);
    tpl_free(&tp);
    return s;
}

static void test_shell_decision(void **state)
{
    (void)state;
    assert_false(needs_shell("echo"));
    assert_false(needs_shell("gzip -9 {}"));
    assert_false(needs_shell("/usr/bin/env X=1 {}"));   /* '=' past the first word */
    assert_false(needs_shell("cmd a,b:c@d%e^f+g"));
    const char *shell[] = {
        "echo {} | wc", "echo {} > out", "echo {}; ls", "a && b", "echo $HOME",
        "echo `id`", "echo 'q'", "echo \"q\"", "echo *", "echo ?", "echo [a]", "echo ~",
        "echo a\\ b", "X=1 env", "cd {}", "exit {}", "for x in 1; do :; done", "if",
        "(echo)", "{} arg", "{}", "x{} arg", "echo {a,b}", "echo #c", "echo !x",
        "echo a\nb", "", "  ", "time sleep 1", "export A", "echo é",
    };
    for (size_t i = 0; i < sizeof shell / sizeof shell[0]; i++)
        if (!needs_shell(shell[i]))
            fail_msg("'%s' should need a shell", shell[i]);
    assert_true(tpl_shell_word("cd", 2));
    assert_false(tpl_shell_word("cat", 3));
}

static void test_joblog_format(void **state)
{
    (void)state;
    char buf[256];
    struct joblog_rec r = {.seq = 12, .start = 1796611368.7934, .runtime = 2.1489,
                           .receive = 5, .exitval = -1, .sig = 15, .cmd = "sleep 3\nx",
                           .cmdlen = 9};
    int n = joblog_format(&r, buf, sizeof buf);
    const char exp[] = "12\t:\t1796611368.793\t     2.148\t0\t5\t-1\t15\tsleep 3\0x\n";
    assert_int_equal(n, (int)sizeof exp - 1);
    assert_memory_equal(buf, exp, sizeof exp - 1);
    /* too small: the length needed, and a terminated prefix */
    char small[8];
    assert_int_equal(joblog_format(&r, small, sizeof small), n);
    assert_int_equal(strlen(small), 7);
    /* it reads back */
    struct joblog_rec q;
    assert_int_equal(joblog_parse(buf, (size_t)n - 1, &q), 0);
    assert_int_equal(q.seq, 12);
    assert_int_equal(q.exitval, -1);
    assert_int_equal(q.sig, 15);
    assert_int_equal(q.receive, 5);
    assert_int_equal(q.cmdlen, 9);
    assert_true(q.runtime > 2.14 && q.runtime < 2.15);
}

static void test_joblog_read(void **state)
{
    (void)state;
    const char log[] = JOBLOG_HEADER
        "1\t:\t1.000\t     0.001\t0\t2\t0\t0\techo 0\n"
        "3\t:\t1.000\t     0.001\t0\t2\t1\t0\techo 1\n"
        "2\t:\t1.000\t     0.001\t0\t2\t0\t9\tkill\n"
        "4\tsrv\t1.5\t0\t0\t2\t0\t0\ttabs\tin\tcmd\n"
        "1\t:\t1.000\t     0.001\t0\t2\t0\t0\techo 0 again\n";
    struct joblog_done d;
    size_t bad = 0;
    assert_int_equal(joblog_read(log, strlen(log), false, &d, &bad), 0);
    assert_int_equal(d.n, 4);
    for (uint64_t s = 1; s <= 4; s++)
        assert_true(joblog_done_has(&d, s));
    assert_false(joblog_done_has(&d, 5));
    joblog_done_free(&d);
    assert_int_equal(joblog_read(log, strlen(log), true, &d, &bad), 0);
    assert_int_equal(d.n, 2);
    assert_true(joblog_done_has(&d, 1));
    assert_true(joblog_done_has(&d, 4));
    assert_false(joblog_done_has(&d, 2));
    assert_false(joblog_done_has(&d, 3));
    joblog_done_free(&d);
    /* a log without its header, and without a final newline */
    const char bare[] = "7\t:\t1\t1\t0\t0\t0\t0\tx";
    assert_int_equal(joblog_read(bare, strlen(bare), false, &d, &bad), 0);
    assert_true(joblog_done_has(&d, 7));
    joblog_done_free(&d);
    /* a last record cut short is not done, and is dropped before appending */
    const char cut[] = JOBLOG_HEADER "1\t:\t1.000\t     0.001\t0\t2\t0\t0\techo 0\n3\t:\t17";
    assert_int_equal(joblog_read(cut, strlen(cut), false, &d, &bad), 0);
    assert_int_equal(d.n, 1);
    assert_true(joblog_done_has(&d, 1));
    assert_false(joblog_done_has(&d, 3));
    joblog_done_free(&d);
    assert_int_equal(joblog_keep(cut, strlen(cut)), strlen(cut) - strlen("3\t:\t17"));
    assert_int_equal(joblog_keep(bare, strlen(bare)), strlen(bare));
    assert_int_equal(joblog_keep(log, strlen(log)), strlen(log));
    assert_int_equal(joblog_keep("Seq\tHo", 6), 0);
    assert_int_equal(joblog_keep("", 0), 0);
    /* malformed lines are refused with their number */
    const char *broken[] = {
        JOBLOG_HEADER "x\t:\t1\t1\t0\t0\t0\t0\tc\n",
        JOBLOG_HEADER "1\t:\t1\t1\t0\t0\t0\t0\n",     /* no command field */
        JOBLOG_HEADER "1\t\t1\t1\t0\t0\t0\t0\tc\n",   /* no host */
        JOBLOG_HEADER "1\t:\t1\t1\t0\t0\tz\t0\tc\n",
        JOBLOG_HEADER "1\t:\t1\t1\t-1\t0\t0\t0\tc\n", /* negative Send */
        JOBLOG_HEADER "\n",
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        bad = 0;
        assert_int_equal(joblog_read(broken[i], strlen(broken[i]), false, &d, &bad), -EINVAL);
        assert_int_equal(bad, 2);
    }
}

static void test_jobs(void **state)
{
    (void)state;
    unsigned n;
    assert_int_equal(pool_parse_jobs("4", 2, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(pool_parse_jobs("+2", 2, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(pool_parse_jobs("-1", 2, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pool_parse_jobs("-5", 2, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pool_parse_jobs("50%", 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(pool_parse_jobs("10%", 2, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pool_parse_jobs("200%", 2, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(pool_parse_jobs("0", 2, &n), 0);
    assert_int_equal(n, POOL_JOBS_MAX);
    assert_int_equal(pool_parse_jobs("99999999", 2, &n), 0);
    assert_int_equal(n, POOL_JOBS_MAX);
    const char *bad[] = {"", "x", "1x", "+", "%", "-", "1.5", "+-1", "9999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pool_parse_jobs(bad[i], 2, &n), -EINVAL);
}

static void test_seconds(void **state)
{
    (void)state;
    uint64_t ms;
    assert_int_equal(pool_parse_seconds("10", &ms), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(pool_parse_seconds("0.5", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(pool_parse_seconds(".25", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(pool_parse_seconds("0.0001", &ms), 0);
    assert_int_equal(ms, 1);
    const char *bad[] = {"", "0", "0.0", ".", "-1", "1s", "86401", "1..2", "x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pool_parse_seconds(bad[i], &ms), -EINVAL);
}

/* Run jobs with exit statuses ex[] (-1 .. : exit status; 1000+N: signal N)
 * through halt h with -j1; returns the exit status, *ran the jobs run. */
static int simulate(const char *spec, const int *ex, size_t n, size_t *ran)
{
    struct halt h;
    assert_int_equal(halt_parse(spec, &h), 0);
    struct halt_state st = {0};
    *ran = 0;
    for (size_t i = 0; i < n && !st.halting; i++) {
        st.started++;
        (*ran)++;
        long e = ex[i] >= 1000 ? 0 : ex[i];
        int sig = ex[i] >= 1000 ? ex[i] - 1000 : 0;
        halt_job_done(&h, &st, e, sig, n);
    }
    return halt_exit_status(&h, &st);
}

#define SIM(spec, exp_status, exp_ran, ...)                                  \
    do {                                                                    \
        const int ex_[] = {__VA_ARGS__};                                    \
        size_t ran_;                                                        \
        assert_int_equal(simulate(spec, ex_, sizeof ex_ / sizeof ex_[0], &ran_), exp_status); \
        assert_int_equal(ran_, exp_ran);                                    \
    } while (0)

static void test_halt(void **state)
{
    (void)state;
    /* the numbers parallel 20221122 gives for the same runs */
    SIM("never", 3, 5, 0, 1, 2, 3, 0);
    SIM("now,fail=1", 3, 2, 0, 3, 4);
    SIM("now,fail=1", 137, 1, 1009, 3);     /* a signal: 128 + N */
    SIM("now,fail=1", 255, 1, -1);          /* a timeout */
    SIM("soon,fail=2", 2, 3, 0, 3, 4, 5, 0);
    SIM("now,success=1", 0, 2, 3, 0, 4);
    SIM("now,fail=30%", 34, 8, 0, 0, 0, 0, 3, 0, 4, 5, 6);
    SIM("soon,fail=30%", 38, 7, 0, 0, 0, 3, 0, 4, 5, 6);
    SIM("soon,success=50%", 60, 5, 1, 0, 0, 4, 4);
    SIM("now,done=2", 1, 2, 3, 0, 4);
    SIM("soon,fail=5", 2, 3, 1, 2, 0);
    SIM("2", 7, 2, 0, 7, 0);
    SIM("1", 7, 2, 0, 7, 0);
    SIM("-2", 0, 2, 1, 0, 1);
    SIM("50%", 1, 1, 1, 0);                 /* 50% of 2 is one job: its status */
    /* more than 100 failures: 101 */
    int many[150];
    for (size_t i = 0; i < 150; i++)
        many[i] = 1;
    size_t ran;
    assert_int_equal(simulate("never", many, 150, &ran), 101);
    assert_int_equal(simulate("never", many, 100, &ran), 100);
    assert_int_equal(simulate("soon,fail=120", many, 150, &ran), 101);
    struct halt h;
    const char *bad[] = {"", "later,fail=1", "now", "now,", "now,oops=1", "now,fail=",
                         "now,fail=x", "now,fail=101%", "soon,fail=1%%", "3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (halt_parse(bad[i], &h) != -EINVAL)
            fail_msg("'%s' should be refused", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replacements), cmocka_unit_test(test_quote),
        cmocka_unit_test(test_words),        cmocka_unit_test(test_shell_decision),
        cmocka_unit_test(test_joblog_format), cmocka_unit_test(test_joblog_read),
        cmocka_unit_test(test_jobs),         cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_halt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
