/*
 * proc.c - process helpers for the process tests.
 */
#include "proc.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *binary(const char *bin_env)
{
	const char *path = getenv(bin_env);

	if (path == NULL || *path == '\0')
		ck_abort_msg("%s is not set (run the tests through meson test)", bin_env);
	return path;
}

static void exec_child(const char *path, const char *const *args, const char *const *env)
{
	const char *argv[64];
	int n = 0;

	argv[n++] = path;
	for (; args && *args && n < 63; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	for (; env && *env; env++)
		putenv((char *)*env);
	execv(path, (char *const *)argv);
	_exit(127);
}

pid_t proc_start(const char *bin_env, const char *const *args, const char *const *env,
		 const char *log_path)
{
	const char *path = binary(bin_env);
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		ck_abort_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		if (log_path) {
			int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd >= 0) {
				dup2(fd, STDERR_FILENO);
				close(fd);
			}
		}
		exec_child(path, args, env);
	}
	return pid;
}

bool proc_signal(pid_t pid, int sig)
{
	return kill(pid, sig) == 0;
}

int proc_wait(pid_t pid, int timeout_ms)
{
	double deadline = proc_now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0)
			return -1;
		if (proc_now_ms() > deadline)
			return -1;
		proc_sleep_ms(10);
	}
}

void proc_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	status = proc_wait(pid, 30000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "process %d did not exit 0 on SIGTERM (status %d)", (int)pid, status);
}

void proc_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int proc_run(const char *bin_env, const char *const *args, const char *const *env,
	     const char *stdin_text, char *out, size_t outlen)
{
	const char *path = binary(bin_env);
	int in_pipe[2], out_pipe[2];
	size_t used = 0;
	int status;
	pid_t pid;

	if (pipe(in_pipe) < 0 || pipe(out_pipe) < 0)
		ck_abort_msg("pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		dup2(in_pipe[0], STDIN_FILENO);
		dup2(out_pipe[1], STDOUT_FILENO);
		close(in_pipe[1]);
		close(out_pipe[0]);
		exec_child(path, args, env);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	if (stdin_text) {
		size_t len = strlen(stdin_text);
		ssize_t w = write(in_pipe[1], stdin_text, len);
		(void)w;
	}
	close(in_pipe[1]);
	for (;;) {
		char buf[4096];
		ssize_t n = read(out_pipe[0], buf, sizeof(buf));

		if (n <= 0)
			break;
		if (out && used + 1 < outlen) {
			size_t take = (size_t)n < outlen - 1 - used ? (size_t)n : outlen - 1 - used;
			memcpy(out + used, buf, take);
			used += take;
		}
	}
	if (out && outlen)
		out[used] = '\0';
	close(out_pipe[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

double proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void proc_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int proc_children(pid_t pid, pid_t *out, int max)
{
	char path[64];
	FILE *f;
	int n = 0;

	/* Linux lists a task's children in /proc/PID/task/PID/children. */
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (n < max && fscanf(f, "%d", &out[n]) == 1)
		n++;
	fclose(f);
	return n;
}
