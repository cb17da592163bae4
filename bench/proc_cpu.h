/* proc_cpu.h: CPU time of a server under load, read from /proc, for the
 * load tools of bench/ (header only: each bench .c file is its own program).
 *
 * proc_cpu_s(pid) is the user+system time in seconds of pid (all its
 * threads, those that ended too) and of the children it has reaped
 * (cutime + cstime), plus, recursively, the same of its child processes
 * that are alive (the prefork and fork models' workers), so a tool can
 * divide the server's CPU over its measured window by the work done in
 * it: a cost that holds when the load tool, not the server, sets the
 * pace. A child that exits in the window is counted alive at its start and
 * through its parent's cutime at its end, once reaped. Clock ticks: each
 * process's figure is rounded down to a tick (10 ms). */
#ifndef IPCBOX_BENCH_PROC_CPU_H
#define IPCBOX_BENCH_PROC_CPU_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Fields 14 to 17 of /proc/PID/stat in clock ticks: user and system time
 * of pid, and of its reaped children. 0, or -1 when pid is gone. */
static inline int proc_stat_ticks(long pid, unsigned long *ut, unsigned long *st,
                           long *cut, long *cst)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');   /* the command may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %ld %ld",
                     ut, st, cut, cst) != 4)
        return -1;
    return 0;
}

/* user+system time of one process and of its reaped children, seconds */
static inline double proc_cpu_one(long pid)
{
    unsigned long ut, st;
    long cut, cst;
    if (proc_stat_ticks(pid, &ut, &st, &cut, &cst) < 0)
        return 0;
    return (double)((long)(ut + st) + cut + cst) / (double)sysconf(_SC_CLK_TCK);
}

/* pid's time and its live descendants' (depth-bounded), seconds */
static inline double proc_cpu_tree(long pid, int depth)
{
    double t = proc_cpu_one(pid);
    if (depth > 4)
        return t;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task/%ld/children", pid, pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return t;
    long kid;
    while (fscanf(f, "%ld", &kid) == 1)
        t += proc_cpu_tree(kid, depth + 1);
    fclose(f);
    return t;
}

/* CPU seconds used so far by the server pid and its worker processes. */
static inline double proc_cpu_s(long pid) { return pid > 0 ? proc_cpu_tree(pid, 0) : 0; }

#endif
