/*
 * httpc.h - a small HTTP client for tests (libcurl), and a coordinator
 * started on a free port for them.
 */
#ifndef WF_HTTPC_H
#define WF_HTTPC_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
	long status;
	char *body;		/* NUL-terminated, owned */
	size_t len;
	cJSON *json;		/* the body parsed, or NULL */
	char content_type[128];
} httpc_reply_t;

/*
 * Sends method url with body (len bytes; NULL for none) and extra headers
 * (NULL-terminated "Name: value" strings, may be NULL). A JSON body gets
 * Content-Type: application/json unless headers give one. Returns 0, or -1
 * when no answer came (status 0). Free the reply with httpc_free.
 */
int httpc_call(const char *method, const char *url, const char *body, size_t len,
	       const char *const *headers, httpc_reply_t *reply);
void httpc_free(httpc_reply_t *reply);

/* A coordinator of the test's database on a free port; base_url gets "http://127.0.0.1:PORT". */
pid_t httpc_start_coordinator(const char *const *extra_env, char *base_url, size_t size);

#endif
