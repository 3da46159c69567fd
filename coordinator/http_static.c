/*
 * http_static.c - files of the web directory (the built visual editor) for
 * GET and HEAD of paths no route claims.
 *
 * The file is found and read on the libuv threadpool, never on the loop.
 * A path is refused (404) when a decoded segment is "." or ".." or starts
 * with a dot, and a file is served only when its real path, symlinks
 * resolved, is still inside the root: so neither "..", its percent-encoded
 * forms, nor a symlink can reach outside.
 *
 * A browser that accepts gzip gets FILE.gz instead of FILE when the build
 * left one beside it (web/scripts/compress.mjs) that is not older than FILE:
 * the editor's script is a third of its size that way.
 */
#include "http_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

typedef struct {
	const char *root; /* the server's; it outlives every request */
	size_t max_bytes;
	int status;
	const char *content_type;
	bool gzipped; /* content is FILE.gz, sent with Content-Encoding: gzip */
	char *content;
	size_t len;
	char etag[64];
	char last_modified[64];
} static_job_t;

static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "json", "application/json" },
	{ "map", "application/json" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "webp", "image/webp" },
	{ "ico", "image/x-icon" },
	{ "woff2", "font/woff2" },
	{ "woff", "font/woff" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "wasm", "application/wasm" },
};

const char *http_static_content_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash : name, '.');

	if (dot != NULL)
		for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++)
			if (strcasecmp(dot + 1, content_types[i].ext) == 0)
				return content_types[i].type;
	return "application/octet-stream";
}

/* Refuses ".", ".." and hidden names in a decoded path like "/a/b.js". */
static bool path_is_safe(const char *path)
{
	const char *seg = path;

	if (*seg != '/')
		return false;
	while (seg != NULL) {
		seg++;
		if (seg[0] == '.')
			return false;
		seg = strchr(seg, '/');
	}
	return true;
}

static bool inside_root(const char *real, const char *root)
{
	size_t n = strlen(root);

	if (n == 1) /* the root is "/" */
		return true;
	return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

/* Opens candidate when its real path is inside root; -1 otherwise. */
static int open_inside(const char *root, const char *candidate, struct stat *st)
{
	char *real = realpath(candidate, NULL);
	int fd = -1;

	if (real == NULL)
		return -1;
	if (inside_root(real, root))
		fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(real);
	if (fd >= 0 && fstat(fd, st) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int read_whole(int fd, size_t size, char **out, size_t *len)
{
	char *buf = malloc(size + 1);
	size_t got = 0;

	if (buf == NULL)
		return -ENOMEM;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		if (n == 0)
			break; /* the file shrank meanwhile: serve what is there */
		got += (size_t)n;
	}
	*out = buf;
	*len = got;
	return 0;
}

/* True when the client's cached copy (If-None-Match, else If-Modified-Since) is current. */
static bool not_modified(const http_request_t *req, const static_job_t *job, time_t mtime)
{
	const char *inm = http_request_header(req, "If-None-Match");
	const char *ims = http_request_header(req, "If-Modified-Since");
	struct tm tm = { 0 };

	if (inm != NULL)
		return strcmp(inm, "*") == 0 || strstr(inm, job->etag) != NULL;
	if (ims != NULL && strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm) != NULL)
		return mtime <= timegm(&tm);
	return false;
}

/*
 * True when Accept-Encoding lists gzip (or *) with a q-value above zero:
 * "gzip, deflate, br" yes, "gzip;q=0" and "identity" no.
 */
static bool accepts_gzip(const http_request_t *req)
{
	const char *list = http_request_header(req, "Accept-Encoding");

	while (list != NULL && *list) {
		const char *end = strchr(list, ',');
		size_t n = end ? (size_t)(end - list) : strlen(list);
		char item[128], *name, *params;
		double q = 1.0;

		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		memcpy(item, list, n);
		item[n] = '\0';
		name = item + strspn(item, " \t");
		params = strchr(name, ';');
		if (params != NULL && (params = strstr(params, "q=")) != NULL)
			q = strtod(params + 2, NULL);
		name[strcspn(name, " \t;")] = '\0';
		if ((strcasecmp(name, "gzip") == 0 || strcmp(name, "*") == 0) && q > 0)
			return true;
		list = end ? end + 1 : NULL;
	}
	return false;
}

/*
 * Swaps the open file for its FILE.gz sibling when the client takes gzip and
 * the sibling is current; *fd and *st then describe the sibling.
 */
static void prefer_gzip(const http_request_t *req, static_job_t *job, const char *full, int *fd,
			struct stat *st)
{
	char gz[PATH_MAX * 2 + 4];
	struct stat gz_st;
	int gz_fd;

	if (!accepts_gzip(req) || (size_t)snprintf(gz, sizeof(gz), "%s.gz", full) >= sizeof(gz))
		return;
	gz_fd = open_inside(job->root, gz, &gz_st);
	if (gz_fd < 0)
		return;
	if (!S_ISREG(gz_st.st_mode) || gz_st.st_mtime < st->st_mtime) {
		close(gz_fd);
		return;
	}
	close(*fd);
	*fd = gz_fd;
	*st = gz_st;
	job->gzipped = true;
}

/* Threadpool: finds, checks and reads the file. */
static void static_work(http_request_t *req, void *data)
{
	static_job_t *job = data;
	const char *path = http_request_path(req);
	size_t plen = strlen(path);
	char decoded[PATH_MAX], full[PATH_MAX * 2];
	struct stat st;
	struct tm tm;
	int fd;

	job->status = 404;
	if (plen >= sizeof(decoded) || http_percent_decode(path, plen, false, decoded) < 0 ||
	    !path_is_safe(decoded))
		return;
	snprintf(full, sizeof(full), "%s%s%s", job->root, decoded,
		 decoded[strlen(decoded) - 1] == '/' ? "index.html" : "");
	fd = open_inside(job->root, full, &st);
	if (fd >= 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		snprintf(full, sizeof(full), "%s%s/index.html", job->root, decoded);
		fd = open_inside(job->root, full, &st);
	}
	if (fd < 0)
		return;
	if (!S_ISREG(st.st_mode))
		goto out;
	job->content_type = http_static_content_type(full);
	prefer_gzip(req, job, full, &fd, &st);
	if ((uintmax_t)st.st_size > job->max_bytes) {
		log_warn("static file \"%s\" is larger than %zu bytes", full, job->max_bytes);
		job->status = 500;
		goto out;
	}
	/* The two encodings of a file are two representations: two tags. */
	snprintf(job->etag, sizeof(job->etag), "\"%jx-%jx%s\"", (uintmax_t)st.st_size,
		 (uintmax_t)st.st_mtim.tv_sec * 1000000000u + (uintmax_t)st.st_mtim.tv_nsec,
		 job->gzipped ? "-gz" : "");
	gmtime_r(&st.st_mtime, &tm);
	strftime(job->last_modified, sizeof(job->last_modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (not_modified(req, job, st.st_mtime)) {
		job->status = 304;
		goto out;
	}
	if (read_whole(fd, (size_t)st.st_size, &job->content, &job->len) < 0) {
		log_warn("could not read static file \"%s\"", full);
		job->status = 500;
		goto out;
	}
	job->status = 200;
out:
	close(fd);
}

/* Loop thread: answers from what static_work found. */
static void static_done(http_request_t *req, void *data)
{
	static_job_t *job = data;

	if (job->status == 200 || job->status == 304) {
		req->route_label = "static";
		http_response_header(req, "ETag", job->etag);
		http_response_header(req, "Last-Modified", job->last_modified);
		/* Revalidate every time: the editor's files may be rebuilt under the same names. */
		http_response_header(req, "Cache-Control", "no-cache");
		http_response_header(req, "X-Content-Type-Options", "nosniff");
		/* Caches must keep the encodings apart. */
		http_response_header(req, "Vary", "Accept-Encoding");
		if (job->gzipped)
			http_response_header(req, "Content-Encoding", "gzip");
	}
	if (job->status == 200) {
		http_respond_owned(req, 200, job->content_type, job->content, job->len);
		job->content = NULL;
	} else if (job->status == 304) {
		http_respond(req, 304, NULL, NULL, 0);
	} else if (job->status == 404) {
		http_respond_error(req, 404, "not found");
	} else {
		http_respond_error(req, 500, "internal error");
	}
	free(job->content);
	free(job);
}

void http_static_serve(http_request_t *req)
{
	static_job_t *job = calloc(1, sizeof(*job));

	if (job == NULL) {
		http_respond_error(req, 500, "internal error");
		return;
	}
	job->root = req->server->static_root;
	job->max_bytes = req->server->opts.static_max_bytes;
	if (http_request_defer(req, static_work, static_done, job) < 0) {
		free(job);
		http_respond_error(req, 500, "internal error");
	}
}
