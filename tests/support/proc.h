/*
 * proc.h - start the real binaries from a test, signal them, wait on them.
 *
 * The binaries are found through WF_COORDINATOR and WF_WORKER, which
 * tests/meson.build sets to the built files.
 */
#ifndef WF_PROC_H
#define WF_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Starts the program named by the environment variable bin_env (e.g.
 * "WF_WORKER") with args (NULL-terminated, without argv[0]) and extra
 * "NAME=value" environment entries (NULL-terminated, may be NULL).
 * stderr goes to log_path when given. Aborts the test on failure.
 */
pid_t proc_start(const char *bin_env, const char *const *args, const char *const *env,
		 const char *log_path);
/* Sends sig; true if the process existed. */
bool proc_signal(pid_t pid, int sig);
/* Waits up to timeout_ms for pid to exit; its exit status (as waitpid), or -1 on timeout. */
int proc_wait(pid_t pid, int timeout_ms);
/* SIGTERM, then fails the test unless pid exits 0 within 30 s: a graceful stop. */
void proc_stop(pid_t pid);
/* SIGKILLs and reaps; for teardown. */
void proc_kill(pid_t pid);
/* Runs a program to completion, capturing stdout into out (NUL-terminated). Returns the exit code. */
int proc_run(const char *bin_env, const char *const *args, const char *const *env,
	     const char *stdin_text, char *out, size_t outlen);

/* Milliseconds on the monotonic clock. */
double proc_now_ms(void);
void proc_sleep_ms(int ms);

/* Pids of the direct children of pid (from /proc), up to max; returns the count. */
int proc_children(pid_t pid, pid_t *out, int max);

#endif
