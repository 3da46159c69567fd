/*
 * test_email_smtp.c - email_send against a real SMTP server (aiosmtpd, see
 * tests/support/smtp_server.py) on loopback: what arrives, as Python's email
 * package parses it, and how every kind of failure is classified.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "email.h"
#include "peers.h"
#include "runner.h"

#define FROM "Lifecycle Team <noreply@example.com>"

static email_settings_t settings_for(const peer_t *peer)
{
	email_settings_t s = {
		.host = "127.0.0.1",
		.port = peer ? peer->port : peer_closed_port(),
		.tls = EMAIL_TLS_OFF,
		.timeout_ms = 500,
		.from = FROM,
	};
	return s;
}

static const char *str(const cJSON *obj, const char *key)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	ck_assert_msg(cJSON_IsString(item), "%s is not a string", key);
	return item->valuestring;
}

static bool flag(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static void setup(void)
{
	ck_assert_int_eq(delivery_global_init(), 0);
}

START_TEST(delivers_headers_and_both_parts)
{
	const delivery_header_t extra[] = {
		{ "List-Unsubscribe", "<mailto:unsubscribe@example.com?subject=u-42>, <https://example.com/u/42>" },
	};
	const char *subject = "Willkommen bei United, Jürgen – dein Abo ist aktiv 🎉 und noch ein "
			      "bisschen mehr Text, damit der Betreff gefaltet werden muss";
	const char *text = "Hallo Jürgen,\n\ndanke!\n.\n..\nFrom the team\n";
	const char *html = "<p>Hallo J&uuml;rgen, danke! 👋</p>\n";
	email_message_t msg = { .to = "juergen@example.com", .to_name = "Jürgen Müller",
				.subject = subject, .text = text, .html = html,
				.message_id = "exec-42.welcome@example.com", .headers = extra,
				.nheaders = 1 };
	peer_t *peer = peer_must_start("smtp_server.py", NULL);
	email_settings_t s = settings_for(peer);
	delivery_result_t r;
	cJSON *got, *headers, *parts;

	setup();
	ck_assert_int_eq(email_send(&s, &msg, &r), 0);
	ck_assert_int_eq(r.outcome, DELIVERY_SENT);
	ck_assert_int_eq(r.code, 250);
	ck_assert_str_eq(r.error, "");
	ck_assert_msg(strstr(r.excerpt, "queued as 000001") != NULL, "excerpt: %s", r.excerpt);
	ck_assert(r.duration_ms > 0);

	got = peer_record(peer, "msg", 1, 5000);
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_null(cJSON_GetObjectItem(got, "parse_error"));
	ck_assert_str_eq(str(got, "mail_from"), "noreply@example.com");
	ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(got, "rcpt_tos"), 0)->valuestring,
			 "juergen@example.com");
	headers = cJSON_GetObjectItem(got, "headers");
	ck_assert_str_eq(str(headers, "subject"), subject);
	ck_assert_str_eq(str(headers, "from"), "Lifecycle Team <noreply@example.com>");
	ck_assert_str_eq(str(headers, "to"), "Jürgen Müller <juergen@example.com>");
	ck_assert_str_eq(str(headers, "message-id"), "<exec-42.welcome@example.com>");
	ck_assert_str_eq(str(headers, "mime-version"), "1.0");
	ck_assert_str_eq(str(headers, "list-unsubscribe"), extra[0].value);
	ck_assert_ptr_nonnull(strstr(str(headers, "date"), "+0000"));
	ck_assert_str_eq(str(got, "content_type"), "multipart/alternative");
	parts = cJSON_GetObjectItem(got, "parts");
	ck_assert_int_eq(cJSON_GetArraySize(parts), 3);
	ck_assert_str_eq(cJSON_GetArrayItem(parts, 1)->valuestring, "text/plain");
	ck_assert_str_eq(cJSON_GetArrayItem(parts, 2)->valuestring, "text/html");
	/* Dot-stuffing and quoted-printable both survive the round trip. */
	ck_assert_str_eq(str(got, "text"), text);
	ck_assert_str_eq(str(got, "html"), html);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(got, "defects")), 0);
	ck_assert_int_le(cJSON_GetObjectItem(got, "longest_line")->valueint, 78);
	ck_assert(!flag(got, "bare_lf"));
	/* libESMTP added no header of its own: we sent them all. */
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(got, "header_names")), 8);
	cJSON_Delete(got);
	peer_stop(peer);
}
END_TEST

START_TEST(hostile_values_stay_inside_their_headers)
{
	const char *subject = "Re: \"quoted\" <b>bold</b>; Bcc: victim@example.com, =?utf-8?q?x?= \\ %s %n";
	const delivery_header_t extra[] = { { "X-Campaign", "a: b; Bcc: victim@example.com" } };
	email_message_t msg = { .to = "ada@example.com", .to_name = "Evil, \"Name\" <x@example.net>",
				.subject = subject, .text = "Bcc: victim@example.com\r\n.\r\nQUIT\r\n",
				.headers = extra, .nheaders = 1 };
	peer_t *peer = peer_must_start("smtp_server.py", NULL);
	email_settings_t s = settings_for(peer);
	delivery_result_t r;
	cJSON *got, *names, *name;

	setup();
	ck_assert_int_eq(email_send(&s, &msg, &r), 0);
	got = peer_record(peer, "msg", 1, 5000);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(str(cJSON_GetObjectItem(got, "headers"), "subject"), subject);
	ck_assert_str_eq(str(cJSON_GetObjectItem(got, "headers"), "to"),
			 "\"Evil, \\\"Name\\\" <x@example.net>\" <ada@example.com>");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(got, "rcpt_tos")), 1);
	names = cJSON_GetObjectItem(got, "header_names");
	cJSON_ArrayForEach(name, names)
		ck_assert_str_ne(name->valuestring, "Bcc");
	/* A lone "." line in the body did not end the DATA early. */
	ck_assert_str_eq(str(got, "text"), "Bcc: victim@example.com\n.\nQUIT\n");
	cJSON_Delete(got);

	/* With CR or LF the message is refused before anything is sent. */
	msg.subject = "Hello\r\nBcc: victim@example.com";
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_PERMANENT);
	ck_assert_ptr_nonnull(strstr(r.error, "header injection refused"));
	ck_assert_int_eq(peer_count(peer, "msg"), 1);
	peer_stop(peer);
}
END_TEST

static void expect_failure(const char *to, delivery_outcome_t outcome, int code, const char *text)
{
	email_message_t msg = { .to = to, .subject = "x", .text = "x", .html = "<p>x</p>" };
	peer_t *peer = peer_must_start("smtp_server.py", (const char *const[]){ "--slow", "3", NULL });
	email_settings_t s = settings_for(peer);
	delivery_result_t r;

	setup();
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_msg(r.outcome == outcome, "%s: outcome %s (%s)", to,
		      delivery_outcome_name(r.outcome), r.error);
	ck_assert_int_eq(r.code, code);
	ck_assert_msg(strstr(r.error, text) != NULL, "%s: error \"%s\"", to, r.error);
	ck_assert_ptr_null(strpbrk(r.error, "\r\n"));
	ck_assert_int_eq(peer_count(peer, "msg"), 0);
	peer_stop(peer);
}

START_TEST(refused_recipient_is_permanent)
{
	expect_failure("refuse-ada@example.com", DELIVERY_PERMANENT, 550,
		       "recipient refused: 550 5.1.1 <refuse-ada@example.com>: mailbox unavailable");
}
END_TEST

START_TEST(busy_mailbox_is_retry)
{
	expect_failure("busy-ada@example.com", DELIVERY_RETRY, 451, "recipient refused: 451 4.3.0");
}
END_TEST

START_TEST(message_refused_after_data_is_permanent)
{
	expect_failure("spam-ada@example.com", DELIVERY_PERMANENT, 554, "message refused: 554 5.7.1");
}
END_TEST

START_TEST(timeout_is_retry)
{
	double start = delivery_now_ms();

	/* The client waits 500 ms, raised to libESMTP's floor of 1 s; the server takes 3 s. */
	expect_failure("slow-ada@example.com", DELIVERY_RETRY, 0, "did not answer within 1000 ms");
	ck_assert_double_lt(delivery_now_ms() - start, 2900);
}
END_TEST

START_TEST(server_down_is_retry)
{
	email_message_t msg = { .to = "ada@example.com", .subject = "x", .text = "x" };
	email_settings_t s = settings_for(NULL);
	delivery_result_t r;

	setup();
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_RETRY);
	ck_assert_int_eq(r.code, 0);
	ck_assert_msg(strstr(r.error, "Connection refused") != NULL, "error: %s", r.error);
}
END_TEST

START_TEST(invalid_recipient_is_permanent_without_a_session)
{
	email_message_t msg = { .to = "not an address", .subject = "x", .text = "x" };
	peer_t *peer = peer_must_start("smtp_server.py", NULL);
	email_settings_t s = settings_for(peer);
	delivery_result_t r;

	setup();
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_PERMANENT);
	ck_assert_str_eq(r.error, "invalid recipient address");
	ck_assert_int_eq(peer_count(peer, "msg"), 0);
	peer_stop(peer);
}
END_TEST

START_TEST(starttls_required_but_not_offered_is_refused)
{
	email_message_t msg = { .to = "ada@example.com", .subject = "x", .text = "secret text" };
	peer_t *peer = peer_must_start("smtp_server.py", NULL);
	email_settings_t s = settings_for(peer);
	delivery_result_t r;

	setup();
	s.tls = EMAIL_TLS_REQUIRED;
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_PERMANENT);
	ck_assert_str_eq(r.error, "SMTP_TLS=required but the server does not offer STARTTLS");
	ck_assert_int_eq(peer_count(peer, "msg"), 0);

	/* starttls (when offered) goes ahead in plain text. */
	s.tls = EMAIL_TLS_STARTTLS;
	ck_assert_int_eq(email_send(&s, &msg, &r), 0);
	peer_stop(peer);
}
END_TEST

START_TEST(starttls_with_a_trusted_certificate)
{
	email_message_t msg = { .to = "ada@example.com", .subject = "over TLS", .text = "x" };
	peer_t *peer = peer_must_start("smtp_server.py", (const char *const[]){ "--tls", NULL });
	email_settings_t s = settings_for(peer);
	delivery_result_t r;
	cJSON *got;

	setup();
	s.ca_file = peer->ca_file;
	s.tls = EMAIL_TLS_REQUIRED;
	ck_assert_msg(email_send(&s, &msg, &r) == 0, "%s", r.error);
	s.host = "localhost"; /* the certificate names both */
	s.tls = EMAIL_TLS_STARTTLS;
	ck_assert_msg(email_send(&s, &msg, &r) == 0, "%s", r.error);
	/* A few more sessions: libESMTP used to stall on TLS 1.3 session tickets now and then. */
	for (int i = 0; i < 6; i++)
		ck_assert_msg(email_send(&s, &msg, &r) == 0, "%s", r.error);
	for (int i = 1; i <= 8; i++) {
		got = peer_record(peer, "msg", i, 5000);
		ck_assert_ptr_nonnull(got);
		ck_assert_msg(flag(got, "tls"), "message %d arrived without TLS", i);
		cJSON_Delete(got);
	}

	/* off never upgrades, even when the server offers it. */
	s.tls = EMAIL_TLS_OFF;
	ck_assert_int_eq(email_send(&s, &msg, &r), 0);
	got = peer_record(peer, "msg", 9, 5000);
	ck_assert_ptr_nonnull(got);
	ck_assert(!flag(got, "tls"));
	cJSON_Delete(got);
	peer_stop(peer);
}
END_TEST

START_TEST(untrusted_or_misnamed_certificate_is_refused)
{
	email_message_t msg = { .to = "ada@example.com", .subject = "x", .text = "x" };
	peer_t *peer = peer_must_start("smtp_server.py", (const char *const[]){ "--tls", "--listen", "127.0.0.2", NULL });
	email_settings_t s = settings_for(peer);
	delivery_result_t r;

	setup();
	/* The system store does not know the peer's self-signed certificate. */
	s.tls = EMAIL_TLS_STARTTLS;
	s.host = "127.0.0.2";
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_PERMANENT);
	ck_assert_msg(strstr(r.error, "SMTP server certificate rejected: self") != NULL, "%s", r.error);

	/* Trusted, but issued for localhost and 127.0.0.1, not 127.0.0.2. */
	s.ca_file = peer->ca_file;
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_PERMANENT);
	ck_assert_str_eq(r.error, "SMTP server certificate rejected: IP address mismatch");
	ck_assert_int_eq(peer_count(peer, "msg"), 0);
	peer_stop(peer);
}
END_TEST

START_TEST(auth_with_user_and_password)
{
	email_message_t msg = { .to = "ada@example.com", .subject = "x", .text = "x" };
	peer_t *peer = peer_must_start("smtp_server.py", (const char *const[]){ "--auth", "mailer:s3cret pass", NULL });
	email_settings_t s = settings_for(peer);
	delivery_result_t r;
	cJSON *got;

	setup();
	s.user = "mailer";
	s.pass = "s3cret pass";
	ck_assert_msg(email_send(&s, &msg, &r) == 0, "%s", r.error);
	got = peer_record(peer, "msg", 1, 5000);
	ck_assert_str_eq(str(got, "auth_login"), "mailer");
	cJSON_Delete(got);

	/* A wrong password: the server refuses the unauthenticated MAIL FROM. */
	s.pass = "wrong";
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.outcome, DELIVERY_PERMANENT);
	ck_assert_int_eq(r.code, 530);
	ck_assert_ptr_nonnull(strstr(r.error, "sender refused: 530"));
	ck_assert_ptr_null(strstr(r.error, "wrong"));

	/* No credentials at all. */
	s.user = s.pass = NULL;
	ck_assert_int_eq(email_send(&s, &msg, &r), -1);
	ck_assert_int_eq(r.code, 530);
	ck_assert_int_eq(peer_count(peer, "msg"), 1);
	peer_stop(peer);
}
END_TEST

RUNNER_MAIN("email_smtp", 30, delivers_headers_and_both_parts, hostile_values_stay_inside_their_headers,
	    refused_recipient_is_permanent, busy_mailbox_is_retry,
	    message_refused_after_data_is_permanent, timeout_is_retry, server_down_is_retry,
	    invalid_recipient_is_permanent_without_a_session,
	    starttls_required_but_not_offered_is_refused, starttls_with_a_trusted_certificate,
	    untrusted_or_misnamed_certificate_is_refused, auth_with_user_and_password)
