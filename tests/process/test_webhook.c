/*
 * test_webhook.c - webhook_call against a real HTTP server
 * (tests/support/http_receiver.py) on loopback: what the receiver gets
 * (method, headers, body, a signature checked here with OpenSSL's HMAC),
 * how statuses and transport failures are classified, the size cap, the
 * redirect policy, and what is refused before any request.
 */
#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery.h"
#include "peers.h"
#include "runner.h"
#include "webhook.h"

static peer_t *http_peer(void)
{
	ck_assert_int_eq(delivery_global_init(), 0);
	return peer_must_start("http_receiver.py", (const char *const[]){ "--slow", "3", NULL });
}

static char *url(const peer_t *peer, const char *path)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", peer ? peer->port : peer_closed_port(), path);
	return buf;
}

static webhook_settings_t settings(const char *secret)
{
	webhook_settings_t s = { .secret = secret, .timeout_ms = 1000 };

	return s;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	ck_assert_msg(cJSON_IsString(item), "%s is not a string", key);
	return item->valuestring;
}

/* The signature computed here, independently of webhook_sign. */
static void expected_signature(const char *secret, const char *timestamp, const char *body,
			       char *out)
{
	char message[4096];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	snprintf(message, sizeof(message), "%s.%s", timestamp, body);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)message, strlen(message),
	     mac, &len);
	ck_assert_uint_eq(len, 32);
	strcpy(out, "sha256=");
	for (unsigned int i = 0; i < len; i++)
		sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

START_TEST(post_carries_body_headers_key_and_signature)
{
	const delivery_header_t headers[] = { { "X-Trace", "abc 123" }, { "Accept", "application/json" } };
	const char *body = "{\"user\":{\"id\":7,\"name\":\"Jürgen\"},\"event\":\"welcome\"}";
	peer_t *peer = http_peer();
	webhook_settings_t s = settings("s3cret key");
	webhook_request_t req = { .url = url(peer, "/ok?source=wf"), .headers = headers, .nheaders = 2,
				  .body = body, .idempotency_key = "exec-1f2e:notify" };
	webhook_response_t resp;
	char expect[80];
	const char *ts;
	long long when;
	cJSON *got;

	ck_assert_int_eq(webhook_call(&s, &req, &resp), 0);
	ck_assert_int_eq(resp.result.outcome, DELIVERY_SENT);
	ck_assert_int_eq(resp.result.code, 200);
	ck_assert_str_eq(resp.result.error, "");
	ck_assert_str_eq(resp.result.excerpt, "{\"ok\": true}");
	ck_assert_str_eq(resp.body, "{\"ok\": true}");
	ck_assert(resp.result.duration_ms > 0 && resp.result.duration_ms < 1000);
	ck_assert(!resp.truncated);
	webhook_response_free(&resp);
	webhook_response_free(NULL);

	got = peer_record(peer, "req", 1, 5000);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(str(got, "method"), "POST");
	ck_assert_str_eq(str(got, "path"), "/ok");
	ck_assert_str_eq(str(got, "query"), "source=wf");
	ck_assert_str_eq(str(got, "body"), body);
	ck_assert_str_eq(peer_header(got, "Content-Type"), "application/json");
	ck_assert_str_eq(peer_header(got, "Idempotency-Key"), "exec-1f2e:notify");
	ck_assert_str_eq(peer_header(got, "X-Trace"), "abc 123");
	ck_assert_str_eq(peer_header(got, "Accept"), "application/json");
	ck_assert_ptr_null(peer_header(got, "Expect"));
	ts = peer_header(got, "X-Webhook-Timestamp");
	ck_assert_ptr_nonnull(ts);
	when = atoll(ts);
	ck_assert_msg(llabs(when - (long long)time(NULL)) <= 5, "timestamp %s", ts);
	expected_signature("s3cret key", ts, body, expect);
	ck_assert_str_eq(peer_header(got, "X-Webhook-Signature"), expect);
	cJSON_Delete(got);
	peer_stop(peer);
}
END_TEST

START_TEST(each_method_arrives_as_sent)
{
	static const char *const methods[] = { "GET", "put", "PATCH", "DELETE", NULL };
	peer_t *peer = http_peer();
	webhook_settings_t s = settings("k");
	webhook_response_t resp;

	for (int i = 0; methods[i]; i++) {
		webhook_request_t req = { .method = methods[i], .url = url(peer, "/ok"), .body = "{\"n\":1}" };
		char expect[80];
		cJSON *got;

		ck_assert_int_eq(webhook_call(&s, &req, &resp), 0);
		webhook_response_free(&resp);
		got = peer_record(peer, "req", i + 1, 5000);
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(str(got, "method"), i == 1 ? "PUT" : methods[i]);
		/* GET never carries a body; the signature then covers the empty body. */
		ck_assert_str_eq(str(got, "body"), i == 0 ? "" : "{\"n\":1}");
		expected_signature("k", peer_header(got, "X-Webhook-Timestamp"), i == 0 ? "" : "{\"n\":1}",
				   expect);
		ck_assert_str_eq(peer_header(got, "X-Webhook-Signature"), expect);
		cJSON_Delete(got);
	}

	/* DELETE without a body, and no secret: no signature headers at all. */
	{
		webhook_settings_t unsigned_s = settings(NULL);
		webhook_request_t req = { .method = "DELETE", .url = url(peer, "/ok") };
		cJSON *got;

		ck_assert_int_eq(webhook_call(&unsigned_s, &req, &resp), 0);
		webhook_response_free(&resp);
		got = peer_record(peer, "req", 5, 5000);
		ck_assert_str_eq(str(got, "body"), "");
		ck_assert_ptr_null(peer_header(got, "X-Webhook-Signature"));
		ck_assert_ptr_null(peer_header(got, "X-Webhook-Timestamp"));
		ck_assert_ptr_null(peer_header(got, "Idempotency-Key"));
		cJSON_Delete(got);
	}
	peer_stop(peer);
}
END_TEST

START_TEST(statuses_are_classified)
{
	static const struct {
		const char *path;
		delivery_outcome_t outcome;
		int code;
		int retry_after;
	} cases[] = {
		{ "/status/201", DELIVERY_SENT, 201, 0 },
		{ "/status/204", DELIVERY_SENT, 204, 0 },
		{ "/status/500", DELIVERY_RETRY, 500, 0 },
		{ "/status/503", DELIVERY_RETRY, 503, 7 },
		{ "/status/429", DELIVERY_RETRY, 429, 7 },
		{ "/status/408", DELIVERY_RETRY, 408, 0 },
		{ "/status/400", DELIVERY_PERMANENT, 400, 0 },
		{ "/status/401", DELIVERY_PERMANENT, 401, 0 },
		{ "/status/422", DELIVERY_PERMANENT, 422, 0 },
		{ "/nowhere", DELIVERY_PERMANENT, 404, 0 },
	};
	peer_t *peer = http_peer();
	webhook_settings_t s = settings(NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		webhook_request_t req = { .url = url(peer, cases[i].path), .body = "{}" };
		webhook_response_t resp;
		int rc = webhook_call(&s, &req, &resp);

		ck_assert_int_eq(rc, cases[i].outcome == DELIVERY_SENT ? 0 : -1);
		ck_assert_msg(resp.result.outcome == cases[i].outcome, "%s: %s", cases[i].path,
			      delivery_outcome_name(resp.result.outcome));
		ck_assert_int_eq(resp.result.code, cases[i].code);
		ck_assert_int_eq(resp.result.retry_after_s, cases[i].retry_after);
		if (cases[i].outcome != DELIVERY_SENT) {
			char expect[32];

			snprintf(expect, sizeof(expect), "HTTP %d", cases[i].code);
			ck_assert_str_eq(resp.result.error, expect);
		}
		webhook_response_free(&resp);
	}
	peer_stop(peer);
}
END_TEST

START_TEST(timeout_and_refused_connection_are_retry)
{
	peer_t *peer = http_peer();
	webhook_settings_t s = settings(NULL);
	webhook_request_t req = { .url = url(peer, "/slow"), .body = "{}" };
	webhook_response_t resp;

	s.timeout_ms = 300;
	ck_assert_int_eq(webhook_call(&s, &req, &resp), -1);
	ck_assert_int_eq(resp.result.outcome, DELIVERY_RETRY);
	ck_assert_int_eq(resp.result.code, 0);
	ck_assert_msg(strstr(resp.result.error, "no complete reply within 300 ms") != NULL, "%s",
		      resp.result.error);
	ck_assert_double_lt(resp.result.duration_ms, 1500);
	webhook_response_free(&resp);

	req.url = url(NULL, "/ok");
	ck_assert_int_eq(webhook_call(&s, &req, &resp), -1);
	ck_assert_int_eq(resp.result.outcome, DELIVERY_RETRY);
	ck_assert_msg(strstr(resp.result.error, "Couldn't connect") != NULL ||
			      strstr(resp.result.error, "Connection refused") != NULL,
		      "%s", resp.result.error);
	webhook_response_free(&resp);
	peer_stop(peer);
}
END_TEST

START_TEST(big_response_is_capped)
{
	peer_t *peer = http_peer();
	webhook_settings_t s = settings(NULL);
	webhook_request_t req = { .method = "GET", .url = url(peer, "/big") };
	webhook_response_t resp;

	/* The peer sends 8 MiB; 64 KiB are kept and reading stops at 1 MiB. */
	s.timeout_ms = 5000;
	ck_assert_int_eq(webhook_call(&s, &req, &resp), 0);
	ck_assert_int_eq(resp.result.outcome, DELIVERY_SENT);
	ck_assert_int_eq(resp.result.code, 200);
	ck_assert_uint_eq(resp.body_len, 64 * 1024);
	ck_assert_uint_eq(strlen(resp.body), 64 * 1024);
	ck_assert(resp.truncated);
	ck_assert_str_eq(resp.result.error, "response body over 1048576 bytes; reading stopped there");
	ck_assert_uint_eq(strlen(resp.result.excerpt), DELIVERY_EXCERPT_MAX - 1);
	webhook_response_free(&resp);

	/* Smaller caps from the settings. */
	s.keep_bytes = 100;
	s.max_bytes = 4096;
	ck_assert_int_eq(webhook_call(&s, &req, &resp), 0);
	ck_assert_uint_eq(resp.body_len, 100);
	ck_assert_str_eq(resp.result.error, "response body over 4096 bytes; reading stopped there");
	webhook_response_free(&resp);
	peer_stop(peer);
}
END_TEST

START_TEST(redirects_are_off_unless_asked_for)
{
	peer_t *peer = http_peer();
	webhook_settings_t s = settings(NULL);
	webhook_request_t req = { .method = "GET", .url = url(peer, "/redirect") };
	webhook_response_t resp;
	cJSON *got;

	ck_assert_int_eq(webhook_call(&s, &req, &resp), -1);
	ck_assert_int_eq(resp.result.outcome, DELIVERY_PERMANENT);
	ck_assert_int_eq(resp.result.code, 302);
	ck_assert_str_eq(resp.result.error, "HTTP 302: a redirect that was not followed");
	webhook_response_free(&resp);
	ck_assert_int_eq(peer_count(peer, "req"), 1);

	req.max_redirects = 3;
	ck_assert_int_eq(webhook_call(&s, &req, &resp), 0);
	ck_assert_int_eq(resp.result.code, 200);
	webhook_response_free(&resp);
	got = peer_record(peer, "req", 3, 5000);
	ck_assert_str_eq(str(got, "path"), "/ok");
	cJSON_Delete(got);

	req.url = url(peer, "/redirect-loop");
	ck_assert_int_eq(webhook_call(&s, &req, &resp), -1);
	ck_assert_int_eq(resp.result.outcome, DELIVERY_PERMANENT);
	ck_assert_msg(strstr(resp.result.error, "Maximum (3) redirects followed") != NULL, "%s",
		      resp.result.error);
	webhook_response_free(&resp);
	peer_stop(peer);
}
END_TEST

START_TEST(bad_requests_are_refused_before_sending)
{
	static const struct {
		const char *method, *url, *name, *value, *key, *expect;
	} cases[] = {
		{ "TRACE", NULL, NULL, NULL, NULL, "unsupported method" },
		{ NULL, "ftp://127.0.0.1/x", NULL, NULL, NULL, "URL scheme must be http or https" },
		{ NULL, "file:///etc/passwd", NULL, NULL, NULL, "URL scheme must be http or https" },
		{ NULL, "not a url", NULL, NULL, NULL, "invalid URL" },
		{ NULL, NULL, "X-Evil", "a\r\nX-Injected: 1", NULL, "header injection refused: X-Evil" },
		{ NULL, NULL, "X-Evil", "a\nb", NULL, "header injection refused" },
		{ NULL, NULL, NULL, NULL, "key\r\nX-Injected: 1", "idempotency key contains CR or LF" },
		{ NULL, NULL, "Host", "evil.example", NULL, "header Host is set by the client" },
		{ NULL, NULL, "content-length", "0", NULL, "is set by the client" },
		{ NULL, NULL, "Transfer-Encoding", "chunked", NULL, "is set by the client" },
		{ NULL, NULL, "X-Webhook-Signature", "sha256=00", NULL, "is set by the client" },
		{ NULL, NULL, "Idempotency-Key", "x", NULL, "is set by the client" },
		{ NULL, NULL, "Bad Name", "x", NULL, "invalid header name" },
		{ NULL, NULL, "X:Colon", "x", NULL, "invalid header name" },
	};
	peer_t *peer = http_peer();
	webhook_settings_t s = settings("k");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		delivery_header_t h = { cases[i].name, cases[i].value };
		webhook_request_t req = { .method = cases[i].method,
					  .url = cases[i].url ? cases[i].url : url(peer, "/ok"),
					  .headers = &h, .nheaders = cases[i].name ? 1 : 0,
					  .body = "{}", .idempotency_key = cases[i].key };
		webhook_response_t resp;

		ck_assert_int_eq(webhook_call(&s, &req, &resp), -1);
		ck_assert_int_eq(resp.result.outcome, DELIVERY_PERMANENT);
		ck_assert_msg(strstr(resp.result.error, cases[i].expect) != NULL, "case %zu: %s", i,
			      resp.result.error);
		ck_assert_ptr_null(resp.body);
	}
	ck_assert_int_eq(peer_count(peer, "req"), 0);
	peer_stop(peer);
}
END_TEST

START_TEST(signature_scheme_matches_the_documentation)
{
	char sig[72], expect[80];

	/* The worked example of docs/messaging.md. */
	ck_assert_int_eq(webhook_sign("whsec_test", "1764254182", "{\"event\":\"welcome\"}", 19, sig), 0);
	expected_signature("whsec_test", "1764254182", "{\"event\":\"welcome\"}", expect);
	ck_assert_str_eq(sig, expect);
	ck_assert_str_eq(sig, "sha256=53ac6b53deb16d9e47c33052adf9a992969d1fb7b4a2ed624dfc6714c65ac56d");
}
END_TEST

START_TEST(settings_follow_the_configuration)
{
	wf_config_t cfg;
	webhook_settings_t s;
	char err[256];

	setenv("WEBHOOK_SECRET", "whsec_test", 1);
	setenv("WEBHOOK_TIMEOUT_MS", "2500", 1);
	ck_assert_msg(config_load(&cfg, NULL, err, sizeof(err)) == 0, "%s", err);
	webhook_settings_from_config(&s, &cfg);
	ck_assert_str_eq(s.secret, "whsec_test");
	ck_assert_int_eq(s.timeout_ms, 2500);
	ck_assert_int_eq(s.connect_timeout_ms, 0);
	ck_assert_uint_eq(s.keep_bytes, 0);
	ck_assert_uint_eq(s.max_bytes, 0);
	config_free(&cfg);
}
END_TEST

RUNNER_MAIN("webhook", 30, post_carries_body_headers_key_and_signature, each_method_arrives_as_sent,
	    statuses_are_classified, timeout_and_refused_connection_are_retry, big_response_is_capped,
	    redirects_are_off_unless_asked_for, bad_requests_are_refused_before_sending,
	    signature_scheme_matches_the_documentation, settings_follow_the_configuration)
