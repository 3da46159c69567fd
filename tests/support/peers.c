/*
 * peers.c - start, wait for, read and stop the Python test peers.
 */
#include "peers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef WF_SOURCE_ROOT_DEFAULT
#define WF_SOURCE_ROOT_DEFAULT "."
#endif

#define START_TIMEOUT_MS 10000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void exec_peer(const char *python, const char *path, const char *dir,
		      const char *const *args, int out_fd, pid_t parent)
{
	const char *argv[32];
	int n = 0;

	/* The peer must not outlive a test that failed before stopping it:
	 * its inherited stderr would keep meson waiting. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	dup2(out_fd, STDOUT_FILENO);
	close(out_fd);
	argv[n++] = python;
	argv[n++] = path;
	argv[n++] = "--dir";
	argv[n++] = dir;
	argv[n++] = "--remove-dir";
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	execv(python, (char *const *)argv);
	fprintf(stderr, "could not run %s: %s\n", python, strerror(errno));
	_exit(127);
}

/* Reads "READY <port>\n" from fd within the deadline; the port, or -1. */
static int read_ready(int fd, double deadline)
{
	char line[64];
	size_t used = 0;
	int port;

	while (used + 1 < sizeof(line)) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(deadline - now_ms());
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		n = read(fd, line + used, sizeof(line) - 1 - used);
		if (n <= 0)
			return -1;
		used += (size_t)n;
		line[used] = '\0';
		if (strchr(line, '\n'))
			return sscanf(line, "READY %d", &port) == 1 ? port : -1;
	}
	return -1;
}

peer_t *peer_start(const char *script, const char *const *args, char *err, size_t errlen)
{
	const char *root = getenv("WF_SOURCE_ROOT");
	const char *python = getenv("WF_PYTHON");
	char path[512];
	int fds[2];
	peer_t *peer;
	pid_t parent = getpid();

	if (root == NULL || *root == '\0')
		root = WF_SOURCE_ROOT_DEFAULT;
	if (python == NULL || *python == '\0')
		python = "/usr/bin/python3";
	snprintf(path, sizeof(path), "%s/tests/support/%s", root, script);
	peer = calloc(1, sizeof(*peer));
	if (peer == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	strcpy(peer->dir, "/tmp/wf-peer-XXXXXX");
	if (mkdtemp(peer->dir) == NULL || pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "could not prepare %s: %s", script, strerror(errno));
		free(peer);
		return NULL;
	}
	snprintf(peer->ca_file, sizeof(peer->ca_file), "%s/cert.pem", peer->dir);
	fflush(stdout);
	fflush(stderr);
	peer->pid = fork();
	if (peer->pid == 0)
		exec_peer(python, path, peer->dir, args, dup(fds[1]), parent);
	close(fds[1]);
	peer->port = peer->pid > 0 ? read_ready(fds[0], now_ms() + START_TIMEOUT_MS) : -1;
	close(fds[0]);
	if (peer->port <= 0) {
		snprintf(err, errlen, "%s did not start listening (see its stderr above)", script);
		peer_stop(peer);
		return NULL;
	}
	return peer;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void peer_stop(peer_t *peer)
{
	if (peer == NULL)
		return;
	if (peer->pid > 0) {
		double deadline = now_ms() + 2000;
		int status;

		kill(peer->pid, SIGTERM);
		while (waitpid(peer->pid, &status, WNOHANG) == 0) {
			if (now_ms() > deadline) {
				kill(peer->pid, SIGKILL);
				waitpid(peer->pid, &status, 0);
				break;
			}
			sleep_ms(5);
		}
	}
	nftw(peer->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(peer);
}

static void record_path(const peer_t *peer, const char *prefix, int n, char *out, size_t len)
{
	snprintf(out, len, "%s/%s-%06d.json", peer->dir, prefix, n);
}

int peer_count(const peer_t *peer, const char *prefix)
{
	char path[160];
	int n = 0;

	for (;;) {
		record_path(peer, prefix, n + 1, path, sizeof(path));
		if (access(path, F_OK) != 0)
			return n;
		n++;
	}
}

cJSON *peer_record(const peer_t *peer, const char *prefix, int n, int timeout_ms)
{
	double deadline = now_ms() + timeout_ms;
	char path[160];
	FILE *f;

	record_path(peer, prefix, n, path, sizeof(path));
	while ((f = fopen(path, "r")) == NULL) {
		if (now_ms() > deadline)
			return NULL;
		sleep_ms(10);
	}
	{
		char *text = NULL;
		size_t size = 0;
		cJSON *doc;
		FILE *mem = open_memstream(&text, &size);
		char buf[8192];
		size_t got;

		while ((got = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, got, mem);
		fclose(f);
		fclose(mem);
		doc = cJSON_ParseWithLength(text, size);
		free(text);
		return doc;
	}
}

int peer_closed_port(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

const char *peer_header(const cJSON *record, const char *name)
{
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(record, "headers");
	const cJSON *pair;

	cJSON_ArrayForEach(pair, headers)
	{
		const cJSON *k = cJSON_GetArrayItem(pair, 0), *v = cJSON_GetArrayItem(pair, 1);

		if (cJSON_IsString(k) && cJSON_IsString(v) && strcasecmp(k->valuestring, name) == 0)
			return v->valuestring;
	}
	return NULL;
}
