/*
 * test_sms.c - sms_send against a real HTTP server standing in for the
 * provider (tests/support/http_receiver.py): the request it gets, the
 * classification of its answers, and E.164 validation.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "peers.h"
#include "runner.h"
#include "sms.h"

static peer_t *provider(void)
{
	ck_assert_int_eq(delivery_global_init(), 0);
	return peer_must_start("http_receiver.py", (const char *const[]){ "--slow", "3", NULL });
}

static sms_settings_t settings(const peer_t *peer, const char *path)
{
	static char url[128];
	sms_settings_t s = { .api_url = url, .api_token = "tok_live_123", .timeout_ms = 1000 };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", peer ? peer->port : peer_closed_port(), path);
	return s;
}

START_TEST(posts_json_with_bearer_token)
{
	peer_t *peer = provider();
	sms_settings_t s = settings(peer, "/ok");
	sms_message_t msg = { .to = "+4915112345678", .body = "Hallo Jürgen, \"willkommen\"!\nBis bald.",
			      .reference = "exec-1f2e:sms" };
	delivery_result_t r;
	cJSON *got, *body;

	ck_assert_int_eq(sms_send(&s, &msg, &r), 0);
	ck_assert_int_eq(r.outcome, DELIVERY_SENT);
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.excerpt, "{\"ok\": true}");
	ck_assert(r.duration_ms > 0);

	got = peer_record(peer, "req", 1, 5000);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(cJSON_GetObjectItem(got, "method")->valuestring, "POST");
	ck_assert_str_eq(cJSON_GetObjectItem(got, "path")->valuestring, "/ok");
	ck_assert_str_eq(peer_header(got, "Authorization"), "Bearer tok_live_123");
	ck_assert_str_eq(peer_header(got, "Content-Type"), "application/json");
	body = cJSON_Parse(cJSON_GetObjectItem(got, "body")->valuestring);
	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(cJSON_GetArraySize(body), 3);
	ck_assert_str_eq(cJSON_GetObjectItem(body, "to")->valuestring, msg.to);
	ck_assert_str_eq(cJSON_GetObjectItem(body, "body")->valuestring, msg.body);
	ck_assert_str_eq(cJSON_GetObjectItem(body, "reference")->valuestring, msg.reference);
	cJSON_Delete(body);
	cJSON_Delete(got);

	/* Without a token or a reference, neither is sent. */
	s.api_token = NULL;
	msg.reference = NULL;
	ck_assert_int_eq(sms_send(&s, &msg, &r), 0);
	got = peer_record(peer, "req", 2, 5000);
	ck_assert_ptr_null(peer_header(got, "Authorization"));
	body = cJSON_Parse(cJSON_GetObjectItem(got, "body")->valuestring);
	ck_assert_ptr_null(cJSON_GetObjectItem(body, "reference"));
	cJSON_Delete(body);
	cJSON_Delete(got);
	peer_stop(peer);
}
END_TEST

START_TEST(provider_answers_are_classified)
{
	static const struct {
		const char *path;
		delivery_outcome_t outcome;
		int code;
	} cases[] = {
		{ "/status/202", DELIVERY_SENT, 202 },
		{ "/status/503", DELIVERY_RETRY, 503 },
		{ "/status/502", DELIVERY_RETRY, 502 },
		{ "/status/429", DELIVERY_RETRY, 429 },
		{ "/status/401", DELIVERY_PERMANENT, 401 },
		{ "/status/400", DELIVERY_PERMANENT, 400 },
		{ "/redirect", DELIVERY_PERMANENT, 302 },
	};
	peer_t *peer = provider();
	sms_message_t msg = { .to = "+12025550123", .body = "hi" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sms_settings_t s = settings(peer, cases[i].path);
		delivery_result_t r;

		sms_send(&s, &msg, &r);
		ck_assert_msg(r.outcome == cases[i].outcome, "%s: %s %s", cases[i].path,
			      delivery_outcome_name(r.outcome), r.error);
		ck_assert_int_eq(r.code, cases[i].code);
		if (cases[i].code != 302)
			ck_assert_ptr_nonnull(strstr(r.excerpt, "\"status\""));
	}
	peer_stop(peer);
}
END_TEST

START_TEST(timeout_and_provider_down_are_retry)
{
	peer_t *peer = provider();
	sms_settings_t s = settings(peer, "/slow");
	sms_message_t msg = { .to = "+12025550123", .body = "hi" };
	delivery_result_t r;

	s.timeout_ms = 300;
	ck_assert_int_eq(sms_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_RETRY);
	ck_assert_ptr_nonnull(strstr(r.error, "no complete reply within 300 ms"));
	ck_assert_double_lt(r.duration_ms, 1500);

	s = settings(NULL, "/ok");
	ck_assert_int_eq(sms_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_RETRY);
	ck_assert_int_eq(r.code, 0);
	peer_stop(peer);
}
END_TEST

START_TEST(e164_validation)
{
	static const char *const good[] = {
		"+4915112345678", "+12025550123", "+14155552671", "+12345678", "+123456789012345",
	};
	static const char *const bad[] = {
		"", "+", "4915112345678", "+04915112345678", "+1234567", "+1234567890123456",
		"+49 151 12345678", "+49-151-12345678", "+49151123456a", "++4915112345678",
		"+4915112345678\n", " +4915112345678", "00491511234567",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(sms_number_valid(good[i]), "should be valid: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!sms_number_valid(bad[i]), "should be invalid: %s", bad[i]);
	ck_assert(!sms_number_valid(NULL));
}
END_TEST

START_TEST(refused_before_any_request)
{
	peer_t *peer = provider();
	sms_settings_t s = settings(peer, "/ok");
	sms_message_t msg = { .to = "+49 151 12345678", .body = "hi" };
	delivery_result_t r;

	ck_assert_int_eq(sms_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_PERMANENT);
	ck_assert_str_eq(r.error, "invalid phone number: E.164 expected, e.g. +4915112345678");

	msg.to = "+4915112345678";
	msg.body = "";
	ck_assert_int_eq(sms_send(&s, &msg, &r), -1);
	ck_assert_str_eq(r.error, "empty SMS body");

	msg.body = "hi";
	s.api_token = "tok\r\nX-Injected: 1";
	ck_assert_int_eq(sms_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_PERMANENT);
	ck_assert_str_eq(r.error, "SMS_API_TOKEN contains CR or LF");

	s.api_token = "tok";
	s.api_url = "ftp://127.0.0.1/sms";
	ck_assert_int_eq(sms_send(&s, &msg, &r), -1);
	ck_assert_str_eq(r.error, "URL scheme must be http or https");
	s.api_url = NULL;
	ck_assert_int_eq(sms_send(&s, &msg, &r), -1);
	ck_assert_str_eq(r.error, "SMS_API_URL is not set");
	ck_assert_int_eq(peer_count(peer, "req"), 0);
	peer_stop(peer);
}
END_TEST

START_TEST(settings_follow_the_configuration)
{
	wf_config_t cfg;
	sms_settings_t s;
	char err[256];

	setenv("SMS_API_URL", "https://sms.example.com/v1/messages", 1);
	setenv("SMS_API_TOKEN", "tok", 1);
	unsetenv("SMS_TIMEOUT_MS");
	ck_assert_msg(config_load(&cfg, NULL, err, sizeof(err)) == 0, "%s", err);
	sms_settings_from_config(&s, &cfg);
	ck_assert_str_eq(s.api_url, "https://sms.example.com/v1/messages");
	ck_assert_str_eq(s.api_token, "tok");
	ck_assert_int_eq(s.timeout_ms, 10000);
	ck_assert_int_eq(s.connect_timeout_ms, 0);
	config_free(&cfg);
}
END_TEST

RUNNER_MAIN("sms", 30, posts_json_with_bearer_token, provider_answers_are_classified,
	    timeout_and_provider_down_are_retry, e164_validation, refused_before_any_request,
	    settings_follow_the_configuration)
