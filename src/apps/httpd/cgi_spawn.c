/* Starting a CGI script, and the cap on how many run at once.
 *
 * The script runs from the very descriptor its confined check opened
 * (execveat(fd, "", AT_EMPTY_PATH)), in the directory its confined open
 * gave (fchdir): nothing is looked up by name again, so a symlink or
 * directory swapped in after the check cannot make us run a program
 * outside ROOT. A "#!" script is started by the kernel as "interpreter
 * /dev/fd/3", so for those (and only those) the descriptor is left open
 * across exec at 3; anything else gets 0, 1 and 2 only.
 *
 * The child is made with fork() and calls only async-signal-safe
 * functions before exec (safe in the threaded models too). An exec
 * failure comes back to the parent through a close-on-exec pipe, so a
 * script that cannot start is a 500 with its errno, not a silent 502. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Shared by every worker, thread and (being MAP_SHARED) forked process. */
struct cgi_shared {
    atomic_uint running;         /* scripts started and not yet reaped */
};

int cgi_shared_init(struct httpd_cfg *cfg)
{
    void *p = mmap(NULL, sizeof(struct cgi_shared), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -errno;
    cfg->cgi_shared = p;
    atomic_init(&cfg->cgi_shared->running, 0);
    return 0;
}

void cgi_shared_fini(struct httpd_cfg *cfg)
{
    if (cfg->cgi_shared)
        munmap(cfg->cgi_shared, sizeof(struct cgi_shared));
    cfg->cgi_shared = NULL;
}

bool cgi_slot_take(const struct httpd_cfg *cfg)
{
    struct cgi_shared *s = cfg->cgi_shared;
    unsigned n = atomic_load(&s->running);
    do {
        if (n >= cfg->cgi_max) {
            /* one line a second at most: a flood must not flood the log */
            unsigned long held;
            if (hlog_due(cfg, HLOG_CGI_LIMIT, &held))
                ibx_warn(cfg->log, "msg=\"cgi limit reached (--cgi-max), answering "
                                   "503\" cgi_max=%u suppressed=%lu", cfg->cgi_max, held);
            return false;
        }
    } while (!atomic_compare_exchange_weak(&s->running, &n, n + 1));
    return true;
}

void cgi_slot_put(const struct httpd_cfg *cfg)
{
    atomic_fetch_sub(&cfg->cgi_shared->running, 1);
}

/* Put src at slot dst (0..3) with close-on-exec cleared. */
static int place(int src, int dst)
{
    if (src == dst)
        return fcntl(dst, F_SETFD, 0);
    return dup2(src, dst) < 0 ? -1 : 0;
}

static _Noreturn void child(int script, int dir, int in, int out, int err, int report,
                            bool hashbang, char *const argv[], char *const envp[])
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigset_t none;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);   /* EINVAL for KILL, STOP: fine */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);   /* a group of its own, killed as one */
    int src[4] = {in, out, err, script};
    /* move anything sitting in 0..3 out of the way first */
    for (int i = 0; i < 4; i++)
        if (src[i] <= 3 && src[i] != i && (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 10)) < 0)
            goto fail;
    if (fchdir(dir) < 0)
        goto fail;
    for (int i = 0; i < 4; i++)
        if (place(src[i], i) < 0)
            goto fail;
    if (!hashbang && fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
        goto fail;
    /* nothing else crosses exec, whatever a careless open elsewhere did */
    syscall(SYS_close_range, 4u, ~0u, CLOSE_RANGE_CLOEXEC);
    syscall(SYS_execveat, 3, "", argv, envp, AT_EMPTY_PATH);
fail:;
    int e = errno;
    ssize_t w = write(report, &e, sizeof e);
    (void)w;
    _exit(127);
}

int cgi_spawn(int script_fd, int dir_fd, char *const argv[], char *const envp[],
              struct cgi_proc *p)
{
    char magic[2];
    bool hashbang = pread(script_fd, magic, 2, 0) == 2 && magic[0] == '#' && magic[1] == '!';
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rep[2] = {-1, -1};
    int r = 0;
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
        pipe2(rep, O_CLOEXEC) < 0) {
        r = -errno;
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        r = -errno;
        goto out;
    }
    if (pid == 0)
        child(script_fd, dir_fd, in[0], out[1], err[1], rep[1], hashbang, argv, envp);
    close(rep[1]);
    rep[1] = -1;
    /* the report pipe closes at exec (or carries exec's errno) */
    int e = 0;
    ssize_t n;
    while ((n = read(rep[0], &e, sizeof e)) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)sizeof e) {
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        r = e ? -e : -EIO;
        goto out;
    }
    p->pid = pid;
    p->in = in[1];
    p->out = out[0];
    p->err = err[0];
    in[1] = out[0] = err[0] = -1;
out:
    for (int i = 0; i < 2; i++) {
        int *fds[] = {in, out, err, rep};
        for (int k = 0; k < 4; k++)
            if (fds[k][i] >= 0)
                close(fds[k][i]);
    }
    return r;
}
