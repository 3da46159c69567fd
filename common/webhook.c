/*
 * webhook.c - validates a webhook call, signs it, and hands it to the
 * shared HTTP client.
 */
#include "webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_client.h"

/* Headers that curl or this client set, or that would change the framing. */
static const char *const refused_headers[] = {
	"Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect", "Upgrade", "TE",
	"Trailer", "Keep-Alive", "Idempotency-Key", NULL,
};

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", NULL };

void webhook_settings_from_config(webhook_settings_t *s, const wf_config_t *cfg)
{
	memset(s, 0, sizeof(*s));
	s->secret = cfg->webhook_secret;
	s->timeout_ms = cfg->webhook_timeout_ms;
}

int webhook_sign(const char *secret, const char *timestamp, const char *body, size_t len,
		 char out[72])
{
	size_t tslen = strlen(timestamp);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char *message = malloc(tslen + 1 + len + 1);

	if (message == NULL)
		return -1;
	memcpy(message, timestamp, tslen);
	message[tslen] = '.';
	if (len)
		memcpy(message + tslen + 1, body, len);
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)message, tslen + 1 + len,
		 mac, &maclen) == NULL || maclen != 32) {
		free(message);
		return -1;
	}
	free(message);
	strcpy(out, "sha256=");
	for (unsigned int i = 0; i < maclen; i++)
		sprintf(out + 7 + 2 * i, "%02x", mac[i]);
	return 0;
}

static bool refused_header(const char *name)
{
	for (int i = 0; refused_headers[i]; i++)
		if (strcasecmp(name, refused_headers[i]) == 0)
			return true;
	return strncasecmp(name, "Proxy-", 6) == 0 || strncasecmp(name, "X-Webhook-", 10) == 0;
}

int webhook_header_check(const char *name, const char *value, char *err, size_t errlen)
{
	if (!http_client_token_valid(name) || value == NULL) {
		snprintf(err, errlen, "invalid header name");
		return -1;
	}
	if (delivery_has_crlf(value)) {
		snprintf(err, errlen, "header injection refused: %s contains CR or LF", name);
		return -1;
	}
	if (refused_header(name)) {
		snprintf(err, errlen, "header %s is set by the client, not the caller", name);
		return -1;
	}
	return 0;
}

/* Checks the caller's part of the request; -1 with one line in err. */
static int check_request(const webhook_request_t *req, const char **method, char *err,
			 size_t errlen)
{
	const char *m = req->method ? req->method : "POST";

	*method = NULL;
	for (int i = 0; methods[i]; i++)
		if (strcasecmp(m, methods[i]) == 0)
			*method = methods[i];
	if (*method == NULL) {
		snprintf(err, errlen, "unsupported method (expected GET, POST, PUT, PATCH or DELETE)");
		return -1;
	}
	if (http_client_url_check(req->url, err, errlen) < 0)
		return -1;
	if (delivery_has_crlf(req->idempotency_key)) {
		snprintf(err, errlen, "header injection refused: idempotency key contains CR or LF");
		return -1;
	}
	for (size_t i = 0; i < req->nheaders; i++)
		if (webhook_header_check(req->headers[i].name, req->headers[i].value, err, errlen) < 0)
			return -1;
	return 0;
}

int webhook_call(const webhook_settings_t *s, const webhook_request_t *req,
		 webhook_response_t *resp)
{
	char err[DELIVERY_ERROR_MAX], timestamp[24], signature[72];
	http_client_request_t hreq = { 0 };
	http_client_response_t hresp;
	delivery_header_t *headers;
	bool has_type = false;
	const char *method;
	size_t n = 0;
	int rc;

	memset(resp, 0, sizeof(*resp));
	delivery_result_reset(&resp->result);
	if (check_request(req, &method, err, sizeof(err)) < 0) {
		delivery_set_error(&resp->result, DELIVERY_PERMANENT, "%s", err);
		return -1;
	}
	/* The caller's headers, then up to four of ours. */
	headers = calloc(req->nheaders + 4, sizeof(*headers));
	if (headers == NULL) {
		delivery_set_error(&resp->result, DELIVERY_RETRY, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		headers[n++] = req->headers[i];
		if (strcasecmp(req->headers[i].name, "Content-Type") == 0)
			has_type = true;
	}
	hreq.method = method;
	hreq.url = req->url;
	if (req->body && strcmp(method, "GET") != 0) {
		hreq.body = req->body;
		hreq.body_len = strlen(req->body);
		if (!has_type)
			headers[n++] = (delivery_header_t){ "Content-Type", "application/json" };
	}
	if (req->idempotency_key)
		headers[n++] = (delivery_header_t){ "Idempotency-Key", req->idempotency_key };
	if (s->secret && *s->secret) {
		snprintf(timestamp, sizeof(timestamp), "%lld", (long long)time(NULL));
		if (webhook_sign(s->secret, timestamp, hreq.body ? hreq.body : "", hreq.body_len,
				 signature) < 0) {
			free(headers);
			delivery_set_error(&resp->result, DELIVERY_RETRY, "could not compute the signature");
			return -1;
		}
		headers[n++] = (delivery_header_t){ "X-Webhook-Timestamp", timestamp };
		headers[n++] = (delivery_header_t){ "X-Webhook-Signature", signature };
	}
	hreq.headers = headers;
	hreq.nheaders = n;
	hreq.timeout_ms = s->timeout_ms;
	hreq.connect_timeout_ms = s->connect_timeout_ms;
	hreq.max_redirects = req->max_redirects;
	hreq.keep_bytes = s->keep_bytes;
	hreq.max_bytes = s->max_bytes;
	rc = http_client_perform(&hreq, &hresp, &resp->result);
	free(headers);
	resp->body = hresp.body;
	resp->body_len = hresp.body_len;
	resp->truncated = hresp.truncated || hresp.too_large;
	return rc;
}

void webhook_response_free(webhook_response_t *resp)
{
	if (resp == NULL)
		return;
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}
