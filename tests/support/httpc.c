/*
 * httpc.c - libcurl for the API tests.
 */
#include "httpc.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "peers.h"
#include "proc.h"

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	httpc_reply_t *r = arg;
	char *grown = realloc(r->body, r->len + size * n + 1);

	if (grown == NULL)
		return 0;
	r->body = grown;
	memcpy(r->body + r->len, data, size * n);
	r->len += size * n;
	r->body[r->len] = '\0';
	return size * n;
}

static size_t header_line(char *data, size_t size, size_t n, void *arg)
{
	httpc_reply_t *r = arg;
	size_t len = size * n;

	if (len > 13 && strncasecmp(data, "Content-Type:", 13) == 0) {
		size_t v = len - 13 < sizeof(r->content_type) ? len - 13 : sizeof(r->content_type) - 1;

		memcpy(r->content_type, data + 13, v);
		r->content_type[v] = '\0';
		r->content_type[strcspn(r->content_type, "\r\n")] = '\0';
	}
	return len;
}

int httpc_call(const char *method, const char *url, const char *body, size_t len,
	       const char *const *headers, httpc_reply_t *reply)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *list = NULL;
	bool typed = false;
	CURLcode rc;

	memset(reply, 0, sizeof(*reply));
	for (; headers && *headers; headers++) {
		typed |= strncasecmp(*headers, "Content-Type:", 13) == 0;
		list = curl_slist_append(list, *headers);
	}
	if (body && !typed)
		list = curl_slist_append(list, "Content-Type: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_line);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
	if (reply->body == NULL)
		reply->body = strdup("");
	reply->json = cJSON_Parse(reply->body);
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? 0 : -1;
}

void httpc_free(httpc_reply_t *reply)
{
	free(reply->body);
	cJSON_Delete(reply->json);
	memset(reply, 0, sizeof(*reply));
}

pid_t httpc_start_coordinator(const char *const *extra_env, char *base_url, size_t size)
{
	static char port_env[32];
	const char *env[16] = { "LOG_FORMAT=json", "BATCH_INTERVAL_MS=60000", port_env };
	int port = peer_closed_port();
	int n = 3;
	pid_t pid;
	double deadline;

	snprintf(port_env, sizeof(port_env), "PORT=%d", port);
	for (; extra_env && *extra_env && n < 15; extra_env++)
		env[n++] = *extra_env;
	env[n] = NULL;
	pid = proc_start("WF_COORDINATOR", NULL, env, "/tmp/wf-test-api.log");
	snprintf(base_url, size, "http://127.0.0.1:%d", port);
	/* Up when /health/live answers. */
	deadline = proc_now_ms() + 15000;
	for (;;) {
		char url[128];
		httpc_reply_t r;

		snprintf(url, sizeof(url), "%s/health/live", base_url);
		if (httpc_call("GET", url, NULL, 0, NULL, &r) == 0 && r.status == 200) {
			httpc_free(&r);
			return pid;
		}
		httpc_free(&r);
		if (proc_now_ms() > deadline)
			ck_abort_msg("the coordinator did not start on port %d", port);
		proc_sleep_ms(50);
	}
}
