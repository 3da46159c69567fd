/*
 * sms.c - E.164 validation and the provider call over the shared HTTP client.
 */
#include "sms.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "json.h"

void sms_settings_from_config(sms_settings_t *s, const wf_config_t *cfg)
{
	memset(s, 0, sizeof(*s));
	s->api_url = cfg->sms_api_url;
	s->api_token = cfg->sms_api_token;
	s->timeout_ms = cfg->sms_timeout_ms;
}

bool sms_number_valid(const char *number)
{
	size_t digits = 0;

	if (number == NULL || number[0] != '+' || number[1] == '0')
		return false;
	for (const char *p = number + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		digits++;
	}
	return digits >= 8 && digits <= 15;
}

int sms_send(const sms_settings_t *s, const sms_message_t *msg, delivery_result_t *r)
{
	http_client_request_t req = { 0 };
	delivery_header_t headers[3];
	char *auth = NULL, *body;
	size_t n = 0, authlen;
	cJSON *doc;
	int rc;

	delivery_result_reset(r);
	if (!sms_number_valid(msg->to)) {
		delivery_set_error(r, DELIVERY_PERMANENT,
				   "invalid phone number: E.164 expected, e.g. +4915112345678");
		return -1;
	}
	if (msg->body == NULL || *msg->body == '\0') {
		delivery_set_error(r, DELIVERY_PERMANENT, "empty SMS body");
		return -1;
	}
	if (s->api_url == NULL || *s->api_url == '\0') {
		delivery_set_error(r, DELIVERY_PERMANENT, "SMS_API_URL is not set");
		return -1;
	}
	if (delivery_has_crlf(s->api_token)) {
		delivery_set_error(r, DELIVERY_PERMANENT, "SMS_API_TOKEN contains CR or LF");
		return -1;
	}
	doc = json_object();
	json_add_string(doc, "to", msg->to);
	json_add_string(doc, "body", msg->body);
	if (msg->reference)
		json_add_string(doc, "reference", msg->reference);
	body = json_print(doc);
	cJSON_Delete(doc);

	headers[n++] = (delivery_header_t){ "Content-Type", "application/json" };
	headers[n++] = (delivery_header_t){ "Accept", "application/json" };
	if (s->api_token && *s->api_token) {
		authlen = strlen(s->api_token) + sizeof("Bearer ");
		auth = malloc(authlen);
		if (auth == NULL) {
			free(body);
			delivery_set_error(r, DELIVERY_RETRY, "out of memory");
			return -1;
		}
		snprintf(auth, authlen, "Bearer %s", s->api_token);
		headers[n++] = (delivery_header_t){ "Authorization", auth };
	}
	req.method = "POST";
	req.url = s->api_url;
	req.headers = headers;
	req.nheaders = n;
	req.body = body;
	req.body_len = strlen(body);
	req.timeout_ms = s->timeout_ms;
	req.connect_timeout_ms = s->connect_timeout_ms;
	rc = http_client_perform(&req, NULL, r);
	free(auth);
	free(body);
	return rc;
}
