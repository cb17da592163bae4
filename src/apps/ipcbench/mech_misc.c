/* ipcbench: a real-time signal carrying a sigqueue() payload (latency
 * only: the payload is one union sigval, 8 bytes) and the cost of starting
 * a child process. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

struct sig_priv {
    pid_t *pid;         /* [2], shared: each side's pid */
    int side;
    sigset_t set;
};

static int sig_open(struct chan *c)
{
    struct sig_priv *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    c->priv = p;
    p->pid = shared_alloc(2 * sizeof *p->pid);
    return p->pid ? 0 : -ENOMEM;
}

static int sig_side(struct chan *c, int side)
{
    struct sig_priv *p = c->priv;
    p->side = side;
    sigemptyset(&p->set);
    sigaddset(&p->set, SIGRTMIN);
    /* blocked before the barrier, so nothing arrives unblocked */
    if (sigprocmask(SIG_BLOCK, &p->set, NULL) < 0)
        return -errno;
    p->pid[side] = getpid();
    return 0;
}

static int sig_send(struct chan *c, const void *buf)
{
    struct sig_priv *p = c->priv;
    union sigval v;
    memset(&v, 0, sizeof v);
    memcpy(&v, buf, c->size < sizeof v ? c->size : sizeof v);
    while (sigqueue(p->pid[!p->side], SIGRTMIN, v) < 0)
        if (errno != EAGAIN && errno != EINTR)
            return -errno;
    return 0;
}

static int sig_recv(struct chan *c, const void **data)
{
    struct sig_priv *p = c->priv;
    siginfo_t si;
    for (;;) {
        if (sigwaitinfo(&p->set, &si) < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (si.si_code == SI_QUEUE && si.si_pid == p->pid[!p->side])
            break;
    }
    memcpy(c->rbuf, &si.si_value, c->size);
    *data = c->rbuf;
    return 0;
}

static void sig_destroy(struct chan *c)
{
    struct sig_priv *p = c->priv;
    if (!p)
        return;
    shared_free(p->pid, 2 * sizeof *p->pid);
    free(p);
    c->priv = NULL;
}

const struct mech mech_signal = {
    .name = "signal", .label = "RT signal (sigqueue payload)",
    .kind = MECH_LATENCY, .fixed_size = sizeof(union sigval),
    .open = sig_open, .side = sig_side, .send = sig_send, .recv = sig_recv,
    .destroy = sig_destroy,
};

/* ---- starting a child ---- */

static int reap(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

static int spawn_fork_exec(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    return pid < 0 ? -errno : reap(pid);
}

static int spawn_vfork_exec(const char *path)
{
    pid_t pid = vfork();
    if (pid == 0) {
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    return pid < 0 ? -errno : reap(pid);
}

static int spawn_posix(const char *path)
{
    pid_t pid;
    char *argv[] = {(char *)path, NULL};
    int r = posix_spawn(&pid, path, NULL, NULL, argv, environ);
    return r ? -r : reap(pid);
}

static int spawn_fork_only(const char *path)
{
    (void)path;
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    return pid < 0 ? -errno : reap(pid);
}

const struct mech mech_fork_exec = {
    .name = "forkexec", .label = "fork + exec + wait", .kind = MECH_SPAWN,
    .spawn = spawn_fork_exec,
};
const struct mech mech_vfork_exec = {
    .name = "vfork", .label = "vfork + exec + wait", .kind = MECH_SPAWN,
    .spawn = spawn_vfork_exec,
};
const struct mech mech_posix_spawn = {
    .name = "spawn", .label = "posix_spawn + wait", .kind = MECH_SPAWN,
    .spawn = spawn_posix,
};
const struct mech mech_fork_only = {
    .name = "fork", .label = "fork + _exit + wait (no exec)", .kind = MECH_SPAWN,
    .spawn = spawn_fork_only,
};
