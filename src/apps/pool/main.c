/* ipcbox pool: run a command for each input argument, several at once;
 * the parts of GNU parallel that scripts rely on (see pool.h). */
//applet: pool run a command for every argument, in parallel (GNU parallel compatible)
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pool/out.h"
#include "pool/pool.h"

static int set_jobs(void *cfg, const char *text, char *err, size_t errlen)
{
    unsigned n;
    if (pool_parse_jobs(text, 1, &n)) {
        snprintf(err, errlen, "wants N, +N, -N or N%%");
        return -1;
    }
    ((struct pool_cfg *)cfg)->jobs_text = text;
    return 0;
}

static int set_timeout(void *cfg, const char *text, char *err, size_t errlen)
{
    if (pool_parse_seconds(text, &((struct pool_cfg *)cfg)->timeout_ms)) {
        snprintf(err, errlen, "wants seconds (0.5, 10; at most a day)");
        return -1;
    }
    return 0;
}

static int set_halt(void *cfg, const char *text, char *err, size_t errlen)
{
    if (halt_parse(text, &((struct pool_cfg *)cfg)->halt)) {
        snprintf(err, errlen, "wants now|soon,fail|success|done=N|N%% (or never)");
        return -1;
    }
    return 0;
}

#define C struct pool_cfg
static const struct opt pool_opts[] = {
    {.name = "jobs", .type = OPT_T_CALL, OPT_FIELD_(C, jobs_text), .arg = "N",
     .set = set_jobs, .short_name = 'j',
     .help = "run N jobs at once: N (0: as many as allowed), +N or -N CPUs, N% of the "
             "CPUs (default: one per CPU)"},
    {.name = "keep-order", .type = OPT_T_BOOL, OPT_FIELD_(C, keep_order), .short_name = 'k',
     .help = "print the jobs' output in input order"},
    OPT_B(C, tag, "tag", "prefix each output line with the job's arguments and a tab"),
    OPT_B(C, line_buffer, "line-buffer",
          "print whole lines as running jobs write them (default: a job's output when it "
          "ends)"),
    OPT_B(C, group, "group", "print a job's output when it ends (the default)"),
    {.name = "arg-file", .type = OPT_T_LIST, OPT_FIELD_(C, argfiles), .arg = "FILE",
     .short_name = 'a', .help = "read arguments from FILE (a source, like :::: FILE)"},
    {.name = "null", .type = OPT_T_BOOL, OPT_FIELD_(C, null_sep), .short_name = '0',
     .help = "arguments in files and stdin end with NUL, not newline"},
    OPT_C(C, timeout_ms, "timeout", "SECONDS", NULL, set_timeout,
          "kill a job's process group after SECONDS (TERM, then KILL 1 s later)"),
    OPT_U(C, retries, "retries", "N", NULL, 0, 1000, "run a failing job up to N times"),
    OPT_C(C, halt, "halt", "WHEN,WHY=N", NULL, set_halt,
          "stop early: now|soon,fail|success|done=N|N% (now kills running jobs)"),
    OPT_S(C, joblog, "joblog", "FILE", "log each job to FILE, in GNU parallel's format"),
    OPT_B(C, resume, "resume", "skip the jobs --joblog FILE lists"),
    OPT_B(C, resume_failed, "resume-failed",
          "skip the jobs --joblog FILE lists as succeeded; run the others again"),
    OPT_B(C, bar, "bar", "show progress (jobs done, failed, ETA) on stderr"),
    OPT_B(C, eta, "eta", "show progress with the estimated time left (as --bar)"),
    OPT_B(C, dry_run, "dry-run", "print the commands, run nothing"),
    {.name = "verbose", .type = OPT_T_BOOL, OPT_FIELD_(C, verbose), .short_name = 'v',
     .help = "print each command before its output"},
    OPT_Z(C, max_buffer, "max-buffer", "1m", 4096, 1ull << 30,
          "output of one job held in memory; beyond it goes to a temporary file"),
    OPT_Z(C, max_memory, "max-memory", "64m", 65536, 1ull << 40,
          "output of all jobs together held in memory (the --keep-order backlog "
          "included); beyond it goes to temporary files"),
    OPT_S(C, tmpdir, "tmpdir", "DIR", "where output beyond --max-buffer goes (default: "
          "$TMPDIR or /tmp)"),
    {.name = "will-cite", .type = OPT_T_BOOL, OPT_FIELD_(C, will_cite),
     .help = "accepted for GNU parallel's scripts; does nothing", .flags = OPT_F_HIDDEN},
    OPT_TABLE_END,
};
#undef C

static const char pool_about[] =
    "Run COMMAND once for each argument, several jobs at once, as GNU parallel does. "
    "Arguments come from '::: ARG...', ':::: FILE...', -a FILE, or standard input, one "
    "per line; several sources combine as a cross product. In COMMAND, {} is the "
    "argument, {.} without extension, {/} its basename, {//} its directory, {/.} the "
    "basename without extension, {#} the job number, {%} the job slot, {N} the N-th "
    "source's value; without any of them the arguments are appended. Values are "
    "quoted for the shell; a command that needs no shell is started directly.";

static const char pool_footer[] =
    "Each job runs in a process group of its own with stdin from /dev/null;\n"
    "its environment has PARALLEL_SEQ and PARALLEL_JOBSLOT. The first SIGINT\n"
    "starts no more jobs and waits for the running ones; a second kills them.\n"
    "SIGTERM and SIGHUP are passed on to every job.\n"
    "A job ends when its process does (what it left in the background is\n"
    "not waited for). Commands that need a shell run in $PARALLEL_SHELL,\n"
    "else bash when bash functions were exported (export -f), else /bin/sh.\n"
    "A job whose output could not be kept (no temporary file) fails, logged\n"
    "with exit value 255. With few descriptors or processes (ulimit -n,\n"
    "-u) fewer jobs run at once instead of failing to start.\n"
    "Unlike GNU parallel, a ::: argument holding a newline is one job, and\n"
    "an empty source makes no jobs.\n"
    "Exit status: the number of failed jobs (at most 101), or what --halt\n"
    "decided; 2 usage (and a --tmpdir where no file can be made); 255 other\n"
    "errors (unreadable input, job log, stdout); 141 when stdout was closed;\n"
    "128+N after signal N stopped the run.\n";

/* Does the option at argv[i] take the next argument as its value? */
static bool takes_value(const char *a)
{
    for (const struct opt *o = pool_opts; o->name; o++) {
        if (o->type == OPT_T_BOOL)
            continue;
        if (a[1] != '-') {
            if (o->short_name && a[1] == o->short_name && !a[2])
                return true;
        } else if (!strcmp(a + 2, o->name)) {
            return true;
        }
    }
    return false;
}

static bool is_sep(const char *a)
{
    return !strcmp(a, ":::") || !strcmp(a, "::::");
}

static unsigned cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* The command words and sources after the options, from argv[first]. */
static int parse_rest(struct pool_cfg *c, struct pool_input *in, int argc, char **argv,
                      int first, char **tmpl)
{
    int i = first;
    size_t len = 1;
    for (int k = first; k < argc && !is_sep(argv[k]); k++)
        len += strlen(argv[k]) + 1;
    *tmpl = calloc(1, len);
    if (!*tmpl)
        return opt_usage("pool", "out of memory");
    for (; i < argc && !is_sep(argv[i]); i++) {
        if (i > first)
            strcat(*tmpl, " ");
        strcat(*tmpl, argv[i]);
    }
    for (size_t k = 0; k < c->argfiles.n; k++)
        if (pool_input_add_file(in, c->argfiles.v[k]))
            return opt_usage("pool", "out of memory");
    while (i < argc) {
        bool files = !strcmp(argv[i], "::::");
        int s = ++i;
        while (i < argc && !is_sep(argv[i]))
            i++;
        if (files) {
            if (s == i)
                return opt_usage("pool", ":::: wants at least one FILE");
            for (int k = s; k < i; k++)
                if (pool_input_add_file(in, argv[k]))
                    return opt_usage("pool", "out of memory");
        } else if (pool_input_add_list(in, argv + s, (size_t)(i - s))) {
            return opt_usage("pool", "out of memory");
        }
    }
    if (!in->nsrc && pool_input_add_file(in, "-"))
        return opt_usage("pool", "out of memory");
    return -1;
}

int pool_main(int argc, char **argv)
{
    struct pool_cfg c;
    memset(&c, 0, sizeof c);
    opt_defaults(pool_opts, &c);
    struct opt_cmd cmd;
    opt_cmd_init(&cmd, "pool", "[options] [COMMAND [ARG...]] [::: ARG... | :::: FILE...]...",
                 pool_about);
    cmd.footer = pool_footer;
    opt_cmd_add(&cmd, "options", NULL, NULL, pool_opts, &c);
    /* options end at the command (its own flags are its business) */
    int split = 1;
    while (split < argc) {
        const char *a = argv[split];
        if (!strcmp(a, "--")) {
            split++;
            break;
        }
        if (a[0] != '-' || !a[1] || is_sep(a))
            break;
        split += takes_value(a) && split + 1 < argc ? 2 : 1;
    }
    int cmd_from = split;
    if (split > 1 && !strcmp(argv[split - 1], "--"))
        split--;
    int r = opt_parse(&cmd, split, argv);
    struct pool_input in = {.sep = '\n'};
    char *tmpl = NULL;
    if (r < 0 && (c.resume || c.resume_failed) && !c.joblog)
        r = opt_usage("pool", "--resume and --resume-failed need --joblog FILE");
    if (r < 0 && c.keep_order && c.line_buffer)
        c.line_buffer = false;   /* in order means held until its turn */
    if (r < 0) {
        unsigned cpus = cpu_count();
        c.jobs = cpus;
        if (c.jobs_text)
            pool_parse_jobs(c.jobs_text, cpus, &c.jobs);
        if (c.retries == 0)
            c.retries = 1;
        if (!c.tmpdir)
            c.tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        in.sep = c.null_sep ? '\0' : '\n';
        r = parse_rest(&c, &in, argc, argv, cmd_from, &tmpl);
    }
    int e;
    if (r < 0 && !c.dry_run && (e = pool_out_check_dir(c.tmpdir)) < 0)
        r = opt_usage("pool", "cannot make temporary files in %s: %s", c.tmpdir,
                      strerror(-e));
    if (r < 0) {
        c.template = tmpl;
        r = pool_run(&c, &in);
    }
    free(tmpl);
    pool_input_free(&in);
    opt_cmd_free(&cmd);
    return r;
}
