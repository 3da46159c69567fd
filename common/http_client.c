/*
 * http_client.c - one libcurl request, its capped body, and its outcome.
 */
#include "http_client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
	http_client_response_t *resp;
	size_t keep;
	size_t max;
} body_sink_t;

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	body_sink_t *sink = arg;
	http_client_response_t *resp = sink->resp;
	size_t n = size * nmemb;

	if (resp->body_len < sink->keep) {
		size_t take = sink->keep - resp->body_len < n ? sink->keep - resp->body_len : n;
		char *grown = realloc(resp->body, resp->body_len + take + 1);

		if (grown == NULL)
			return 0;
		resp->body = grown;
		memcpy(resp->body + resp->body_len, data, take);
		resp->body_len += take;
		resp->body[resp->body_len] = '\0';
	}
	resp->body_seen += n;
	if (resp->body_seen > resp->body_len)
		resp->truncated = true;
	if (resp->body_seen > sink->max) {
		/* Returning less than n makes curl abort with CURLE_WRITE_ERROR. */
		resp->too_large = true;
		return 0;
	}
	return n;
}

bool http_client_token_valid(const char *name)
{
	if (name == NULL || *name == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (!(isalnum(*p) || strchr("!#$%&'*+-.^_`|~", *p) != NULL) || *p > 127)
			return false;
	return true;
}

int http_client_url_check(const char *url, char *err, size_t errlen)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int rc = -1;

	if (url == NULL || *url == '\0') {
		snprintf(err, errlen, "no URL given");
		return -1;
	}
	u = curl_url();
	if (u == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(err, errlen, "invalid URL");
		goto done;
	}
	curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (scheme == NULL || (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)) {
		snprintf(err, errlen, "URL scheme must be http or https");
		goto done;
	}
	if (host == NULL || *host == '\0') {
		snprintf(err, errlen, "URL has no host");
		goto done;
	}
	rc = 0;
done:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* Classifies a transfer that ended without a usable HTTP reply. */
static void classify_curl_error(delivery_result_t *r, CURLcode code, const char *detail,
				int timeout_ms)
{
	const char *text = *detail ? detail : curl_easy_strerror(code);

	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		delivery_set_error(r, DELIVERY_RETRY, "no complete reply within %d ms: %s", timeout_ms,
				   text);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_LOGIN_DENIED:
		/* Only a change of configuration or of the peer helps here. */
		delivery_set_error(r, DELIVERY_PERMANENT, "%s", text);
		break;
	default:
		/* Refused, reset, unresolved, empty reply: the peer may be back soon. */
		delivery_set_error(r, DELIVERY_RETRY, "%s", text);
		break;
	}
}

static void classify_status(delivery_result_t *r, long status)
{
	if (status >= 200 && status < 300) {
		r->outcome = DELIVERY_SENT;
	} else if (status >= 300 && status < 400) {
		delivery_set_error(r, DELIVERY_PERMANENT,
				   "HTTP %ld: a redirect that was not followed", status);
	} else if (status >= 500 || status == 408 || status == 429) {
		delivery_set_error(r, DELIVERY_RETRY, "HTTP %ld", status);
	} else {
		delivery_set_error(r, DELIVERY_PERMANENT, "HTTP %ld", status);
	}
}

/* The request's headers as curl wants them, plus "Expect:" to suppress 100-continue. */
static struct curl_slist *header_list(const http_client_request_t *req)
{
	struct curl_slist *list = NULL, *grown;

	for (size_t i = 0; i < req->nheaders; i++) {
		const delivery_header_t *h = &req->headers[i];
		size_t len = strlen(h->name) + strlen(h->value) + 3;
		char *line = malloc(len);

		if (line == NULL)
			goto error;
		/* "Name;" is curl's spelling of a header with an empty value. */
		if (*h->value)
			snprintf(line, len, "%s: %s", h->name, h->value);
		else
			snprintf(line, len, "%s;", h->name);
		grown = curl_slist_append(list, line);
		free(line);
		if (grown == NULL)
			goto error;
		list = grown;
	}
	grown = curl_slist_append(list, "Expect:");
	if (grown == NULL)
		goto error;
	return grown;
error:
	curl_slist_free_all(list);
	return NULL;
}

static void set_method(CURL *curl, const http_client_request_t *req)
{
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(req->method, "POST") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body != NULL || strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
}

int http_client_perform(const http_client_request_t *req, http_client_response_t *resp,
			delivery_result_t *r)
{
	double start = delivery_now_ms();
	http_client_response_t scratch;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	body_sink_t sink;
	CURL *curl = NULL;
	CURLcode code;
	int connect_ms;
	curl_off_t retry_after = 0;
	delivery_sigpipe_t guard;

	delivery_result_reset(r);
	if (resp == NULL)
		resp = &scratch;
	memset(resp, 0, sizeof(*resp));
	if (http_client_url_check(req->url, errbuf, sizeof(errbuf)) < 0) {
		delivery_set_error(r, DELIVERY_PERMANENT, "%s", errbuf);
		goto done;
	}
	curl = curl_easy_init();
	headers = header_list(req);
	if (curl == NULL || headers == NULL) {
		delivery_set_error(r, DELIVERY_RETRY, "could not set up the HTTP request");
		goto done;
	}
	connect_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : HTTP_CLIENT_CONNECT_DEFAULT_MS;
	if (connect_ms > req->timeout_ms)
		connect_ms = req->timeout_ms;
	sink.resp = resp;
	sink.keep = req->keep_bytes ? req->keep_bytes : HTTP_CLIENT_KEEP_DEFAULT;
	sink.max = req->max_bytes ? req->max_bytes : HTTP_CLIENT_MAX_DEFAULT;

	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* No signal handlers or alarm(): workers are forked children with their own signals. */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, req->max_redirects > 0 ? 1L : 0L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, (long)req->max_redirects);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "wf-engine/1");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	set_method(curl, req);

	delivery_sigpipe_block(&guard);
	code = curl_easy_perform(curl);
	delivery_sigpipe_restore(&guard);

	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
		r->retry_after_s = retry_after > 86400 ? 86400 : (int)retry_after;
	r->code = (int)resp->status;
	delivery_set_excerpt(r, resp->body, resp->body_len);
	if (code == CURLE_OK || (resp->too_large && resp->status > 0)) {
		classify_status(r, resp->status);
		if (resp->too_large && r->outcome == DELIVERY_SENT)
			delivery_set_error(r, DELIVERY_SENT,
					   "response body over %zu bytes; reading stopped there", sink.max);
	} else {
		classify_curl_error(r, code, errbuf, req->timeout_ms);
	}
done:
	curl_slist_free_all(headers);
	if (curl)
		curl_easy_cleanup(curl);
	if (resp == &scratch)
		http_client_response_free(resp);
	r->duration_ms = delivery_now_ms() - start;
	return r->outcome == DELIVERY_SENT ? 0 : -1;
}

void http_client_response_free(http_client_response_t *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}
