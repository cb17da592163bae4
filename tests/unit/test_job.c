/* Unit tests for ibx_job: blocking work on a thread of its own, finished
 * on the loop that started it. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipcbox/job.h"

struct probe {
    pthread_t loop_thread, work_thread, done_thread;
    int works, dones;
    int gate[2];              /* the work blocks until a byte arrives */
};

static void work(struct ibx_job *j)
{
    struct probe *p = j->data;
    p->work_thread = pthread_self();
    p->works++;
    char c;
    if (p->gate[0] >= 0)
        assert_int_equal(read(p->gate[0], &c, 1), 1);
}

static void done(ibx_loop *loop, struct ibx_job *j)
{
    struct probe *p = j->data;
    (void)loop;
    p->done_thread = pthread_self();
    p->dones++;
    assert_false(ibx_job_running(j));
}

/* The work runs on another thread, done() on the loop's, exactly once;
 * the running job keeps ibx_loop_run() alive until then. */
static void test_job_runs_off_the_loop(void **state)
{
    (void)state;
    ibx_loop *loop;
    assert_int_equal(ibx_loop_new(&loop), 0);
    struct probe p = {.loop_thread = pthread_self(), .gate = {-1, -1}};
    struct ibx_job j;
    ibx_job_init(&j);
    assert_false(ibx_job_running(&j));
    ibx_job_start(&j, loop, work, done, &p);
    assert_true(ibx_job_running(&j));
    assert_int_equal(ibx_loop_run(loop), 0);   /* returns once done() ran */
    assert_int_equal(p.works, 1);
    assert_int_equal(p.dones, 1);
    assert_false(pthread_equal(p.work_thread, p.loop_thread));
    assert_true(pthread_equal(p.done_thread, p.loop_thread));
    /* the slot is reusable */
    ibx_job_start(&j, loop, work, done, &p);
    assert_int_equal(ibx_loop_run(loop), 0);
    assert_int_equal(p.dones, 2);
    ibx_job_fini(&j, loop);
    ibx_loop_free(loop);
}

static void *open_gate(void *arg)
{
    struct probe *p = arg;
    usleep(20000);
    assert_int_equal(write(p->gate[1], "x", 1), 1);
    return NULL;
}

/* fini() of a running job waits for its thread and skips done(). */
static void test_job_fini_waits(void **state)
{
    (void)state;
    ibx_loop *loop;
    assert_int_equal(ibx_loop_new(&loop), 0);
    struct probe p = {.loop_thread = pthread_self()};
    assert_int_equal(pipe(p.gate), 0);
    struct ibx_job j;
    ibx_job_init(&j);
    ibx_job_start(&j, loop, work, done, &p);
    pthread_t opener;
    pthread_create(&opener, NULL, open_gate, &p);
    ibx_job_fini(&j, loop);   /* blocks until the work could finish */
    assert_int_equal(p.works, 1);
    assert_int_equal(p.dones, 0);
    assert_int_equal(ibx_loop_run(loop), 0);   /* nothing left to run */
    assert_int_equal(p.dones, 0);
    pthread_join(opener, NULL);
    close(p.gate[0]);
    close(p.gate[1]);
    ibx_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_runs_off_the_loop),
        cmocka_unit_test(test_job_fini_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
