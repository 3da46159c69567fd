/*
 * test_email_build.c - the MIME builder alone: structure, headers, RFC 2047
 * subjects and their folding, quoted-printable bodies, address validation
 * and the refusal of header injection. The decoding here is the test's own
 * (OpenSSL's base64 decoder and a small quoted-printable decoder), so a
 * builder bug cannot cancel itself out.
 */
#include <check.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "delivery.h"
#include "email.h"
#include "runner.h"
#include "utf8.h"

#define FROM "Lifecycle Team <noreply@example.com>"

static char *build(const email_message_t *msg, const char *from)
{
	char err[256] = "";
	char *out = NULL;
	size_t len = 0;
	int rc = email_build(msg, from, &out, &len, err, sizeof(err));

	ck_assert_msg(rc == 0, "email_build failed: %s", err);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

/* The header section, up to (not including) the blank line. Caller frees. */
static char *header_section(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	ck_assert_ptr_nonnull(end);
	return strndup(msg, (size_t)(end - msg) + 2);
}

/* The unfolded value of the first header called name, without the space after the colon. */
static char *header(const char *msg, const char *name)
{
	char *headers = header_section(msg), *value = NULL;
	size_t nlen = strlen(name);

	for (char *line = headers; *line;) {
		char *eol = strstr(line, "\r\n");

		if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			char *p = line + nlen + 1, *w;

			value = malloc(strlen(p) + 1);
			w = value;
			/* Unfolding removes each CRLF that is followed by white space. */
			for (; *p; p++) {
				if (p[0] == '\r' && p[1] == '\n') {
					if (p[2] != ' ' && p[2] != '\t')
						break;
					p++;
					continue;
				}
				*w++ = *p;
			}
			*w = '\0';
			if (value[0] == ' ')
				memmove(value, value + 1, strlen(value));
			break;
		}
		line = eol + 2;
	}
	free(headers);
	return value;
}

static void expect_header(const char *msg, const char *name, const char *expected)
{
	char *value = header(msg, name);

	ck_assert_msg(value != NULL, "no %s header", name);
	ck_assert_str_eq(value, expected);
	free(value);
}

/* Decodes a run of =?UTF-8?B?...?= words separated by white space; other text is copied. */
static char *decode_words(const char *value)
{
	char *out = calloc(1, strlen(value) + 1), *w = out;
	const char *p = value;

	while (*p) {
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			const char *end = strstr(p + 10, "?=");
			unsigned char buf[256];
			int n, len, pad = 0;

			ck_assert_ptr_nonnull(end);
			len = (int)(end - (p + 10));
			n = EVP_DecodeBlock(buf, (const unsigned char *)p + 10, len);
			ck_assert_int_ge(n, 0);
			pad = (len > 0 && p[10 + len - 1] == '=') + (len > 1 && p[10 + len - 2] == '=');
			/* Each word must hold whole characters on its own. */
			for (int i = 0; i < n - pad;) {
				size_t c = utf8_char_len((char *)buf + i, (size_t)(n - pad - i));

				ck_assert_msg(c > 0, "encoded word splits a UTF-8 character");
				i += (int)c;
			}
			memcpy(w, buf, (size_t)(n - pad));
			w += n - pad;
			p = end + 2;
			/* White space between two encoded words is not part of the text. */
			while ((*p == ' ' || *p == '\t') && strncmp(p + 1, "=?UTF-8?B?", 10) == 0)
				p++;
			continue;
		}
		*w++ = *p++;
	}
	*w = '\0';
	return out;
}

static int hexval(char c)
{
	return c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - '0';
}

/* Quoted-printable to text with LF line ends. */
static char *qp_decode(const char *p, size_t len)
{
	char *out = calloc(1, len + 1), *w = out;
	const char *end = p + len;

	while (p < end) {
		if (p[0] == '=' && p + 2 < end + 1 && p[1] == '\r' && p[2] == '\n') {
			p += 3;
		} else if (p[0] == '=') {
			ck_assert_msg(strchr("0123456789ABCDEF", p[1]) && strchr("0123456789ABCDEF", p[2]),
				      "bad escape in quoted-printable");
			*w++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 3;
		} else if (p[0] == '\r' && p[1] == '\n') {
			*w++ = '\n';
			p += 2;
		} else {
			*w++ = *p++;
		}
	}
	*w = '\0';
	return out;
}

/* The decoded body of the part whose headers contain type, in a multipart message. */
static char *part_body(const char *msg, const char *type)
{
	char *ct = header(msg, "Content-Type"), *boundary, delim[128], *result;
	const char *start, *body, *end;

	boundary = strstr(ct, "boundary=\"");
	ck_assert_ptr_nonnull(boundary);
	boundary += 10;
	*strchr(boundary, '"') = '\0';
	snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	free(ct);
	start = strstr(msg, type);
	ck_assert_ptr_nonnull(start);
	body = strstr(start, "\r\n\r\n") + 4;
	end = strstr(body, delim);
	ck_assert_ptr_nonnull(end);
	result = qp_decode(body, (size_t)(end - body));
	return result;
}

static void assert_lines_within(const char *msg, size_t header_max, size_t body_max)
{
	const char *blank = strstr(msg, "\r\n\r\n");
	const char *line = msg;

	while (*line) {
		const char *eol = strstr(line, "\r\n");
		size_t max = line < blank ? header_max : body_max;

		ck_assert_ptr_nonnull(eol);
		ck_assert_msg((size_t)(eol - line) <= max, "line of %zu > %zu: %.*s", (size_t)(eol - line),
			      max, (int)(eol - line), line);
		line = eol + 2;
	}
	/* No bare CR or LF anywhere: every line ended above with CRLF. */
	for (const char *p = msg; *p; p++) {
		if (*p == '\n')
			ck_assert_msg(p > msg && p[-1] == '\r', "bare LF");
		if (*p == '\r')
			ck_assert_msg(p[1] == '\n', "bare CR");
	}
}

static const char *const sample_text =
	"Hello Jürgen,\n"
	"\n"
	"Welcome aboard. Price: 10 € = 10 EUR.\n"
	"From now on you get our newsletter.\n"
	"From the team\n"
	".\n"
	"trailing spaces   \n"
	"a line that is long enough to need a soft line break in quoted-printable because it goes on and on and on\n"
	"tab\tinside and at the end\t\n"
	"last line without newline";

static const char *const sample_html =
	"<!doctype html><html><body><p style=\"color: #333\">Hello J&uuml;rgen, 👋</p>"
	"<p>Visit <a href=\"https://example.com/welcome?utm_source=email&amp;a=b\">us</a></p></body></html>\n";

START_TEST(multipart_alternative_with_both_parts)
{
	email_message_t msg = { .to = "ada@example.com", .subject = "Welcome",
				.text = sample_text, .html = sample_html };
	char *out = build(&msg, FROM), *ct, *text, *html;

	expect_header(out, "MIME-Version", "1.0");
	ct = header(out, "Content-Type");
	ck_assert_msg(strncmp(ct, "multipart/alternative; boundary=\"=_", 35) == 0, "got %s", ct);
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Type: text/plain; charset=UTF-8\r\n"
					  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Type: text/html; charset=UTF-8\r\n"
					  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
	/* The plain part comes first: readers show the last part they understand. */
	ck_assert(strstr(out, "text/plain;") < strstr(out, "text/html;"));
	ck_assert_msg(strlen(out) > 4 && strcmp(out + strlen(out) - 4, "--\r\n") == 0,
		      "no closing boundary");
	assert_lines_within(out, 78, 76);
	/* 7-bit clean, so no server needs 8BITMIME. */
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		ck_assert_msg(*p < 0x80, "8-bit byte in the message");

	text = part_body(out, "text/plain;");
	ck_assert_str_eq(text, sample_text);
	html = part_body(out, "text/html;");
	ck_assert_str_eq(html, sample_html);
	/* A line starting "From " is protected from mbox mangling. */
	ck_assert_ptr_nonnull(strstr(out, "\r\n=46rom now on"));
	free(ct);
	free(text);
	free(html);
	free(out);
}
END_TEST

/* A soft line break that leaves "From " at the start of a line gets the same guard. */
START_TEST(from_after_a_soft_line_break_is_encoded)
{
	char text[128], *out, *body;
	email_message_t msg = { .to = "ada@example.com", .subject = "Plain", .text = text };

	memset(text, 'x', 74);
	strcpy(text + 74, " From me");
	out = build(&msg, FROM);
	body = strstr(out, "\r\n\r\n") + 4;
	ck_assert_ptr_null(strstr(out, "\r\nFrom "));
	ck_assert_ptr_nonnull(strstr(body, "x =\r\n=46rom me"));
	free(out);
}
END_TEST

START_TEST(text_only_without_html)
{
	email_message_t msg = { .to = "ada@example.com", .subject = "Plain", .text = "just text\n" };
	char *out = build(&msg, FROM);
	char *ct = header(out, "Content-Type"), *body;

	ck_assert_str_eq(ct, "text/plain; charset=UTF-8");
	expect_header(out, "Content-Transfer-Encoding", "quoted-printable");
	ck_assert_ptr_null(strstr(out, "multipart"));
	body = strstr(out, "\r\n\r\n") + 4;
	ck_assert_str_eq(body, "just text\r\n");
	free(ct);
	free(out);
}
END_TEST

START_TEST(headers_from_to_date_message_id)
{
	const delivery_header_t extra[] = {
		{ "List-Unsubscribe", "<mailto:unsubscribe@example.com?subject=u-42>, <https://example.com/u/42>" },
		{ "List-Unsubscribe-Post", "List-Unsubscribe=One-Click" },
	};
	email_message_t msg = { .to = "ada@example.com", .to_name = "Ada Lovelace",
				.subject = "Welcome", .text = "hi", .html = "<p>hi</p>",
				.message_id = "exec-1f2e.welcome@example.com", .headers = extra,
				.nheaders = 2, .date = 1764254182 };
	char *out = build(&msg, FROM);

	expect_header(out, "From", "Lifecycle Team <noreply@example.com>");
	expect_header(out, "To", "Ada Lovelace <ada@example.com>");
	expect_header(out, "Subject", "Welcome");
	expect_header(out, "Date", "Thu, 27 Nov 2025 14:36:22 +0000");
	expect_header(out, "Message-ID", "<exec-1f2e.welcome@example.com>");
	expect_header(out, "List-Unsubscribe", extra[0].value);
	expect_header(out, "List-Unsubscribe-Post", extra[1].value);
	/* Headers come before the MIME body headers' blank line, exactly once. */
	ck_assert_ptr_eq(strstr(out, "From:"), out);
	free(out);

	/* The engine may pass the id with its angle brackets; the bare From is kept bare. */
	msg.message_id = "<exec-1f2e.welcome@example.com>";
	msg.to_name = NULL;
	out = build(&msg, "noreply@example.com");
	expect_header(out, "Message-ID", "<exec-1f2e.welcome@example.com>");
	expect_header(out, "From", "noreply@example.com");
	expect_header(out, "To", "ada@example.com");
	free(out);
}
END_TEST

START_TEST(message_id_generated_in_sender_domain)
{
	email_message_t msg = { .to = "ada@example.com", .subject = "x", .text = "x" };
	char *a = build(&msg, "Team <news@lists.example.org>");
	char *b = build(&msg, "Team <news@lists.example.org>");
	char *ida = header(a, "Message-ID"), *idb = header(b, "Message-ID");

	ck_assert_int_eq(ida[0], '<');
	ck_assert_ptr_nonnull(strstr(ida, "@lists.example.org>"));
	ck_assert_uint_ge(strlen(ida), 20);
	ck_assert_str_ne(ida, idb);
	free(ida);
	free(idb);
	free(a);
	free(b);
}
END_TEST

START_TEST(long_ascii_subject_is_folded_not_encoded)
{
	const char *subject = "Your weekly summary: seven new articles about podcasts, subscriptions, "
			      "billing, the united plan, and a few more things we thought you would like";
	email_message_t msg = { .to = "ada@example.com", .subject = subject, .text = "x" };
	char *out = build(&msg, FROM);
	char *value = header(out, "Subject");

	ck_assert_str_eq(value, subject);
	ck_assert_ptr_null(strstr(out, "=?UTF-8?"));
	ck_assert_ptr_nonnull(strstr(out, "\r\n ")); /* it was folded */
	assert_lines_within(out, 78, 76);
	free(value);
	free(out);
}
END_TEST

START_TEST(subjects_beyond_plain_ascii_are_encoded_words)
{
	/* Non-ASCII, text a reader would decode, white space a parser would
	 * strip, and control characters: all must arrive exactly as given. */
	static const char *const subjects[] = {
		"Willkommen, Jürgen! 🎉", "literally =?UTF-8?B?SGk=?= and  two spaces",
		" leading space", "trailing space ", "bell\a and tab\tinside",
	};

	for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
		email_message_t msg = { .to = "ada@example.com", .subject = subjects[i], .text = "x" };
		char *out = build(&msg, FROM);
		char *raw = header(out, "Subject"), *decoded = decode_words(raw);

		ck_assert_msg(strncmp(raw, "=?UTF-8?B?", 10) == 0, "got %s", raw);
		ck_assert_str_eq(decoded, subjects[i]);
		free(raw);
		free(decoded);
		free(out);
	}
}
END_TEST

START_TEST(long_non_ascii_subject_folds_on_character_boundaries)
{
	char subject[1024] = "";
	email_message_t msg = { .to = "ada@example.com", .text = "x" };
	char *out, *raw, *decoded, *headers;
	int words = 0;

	for (int i = 0; i < 12; i++)
		strcat(subject, "Grüße aus Köln – 日本語のテキスト 🎉 ");
	strcat(subject, "end");
	msg.subject = subject;
	out = build(&msg, FROM);
	raw = header(out, "Subject");
	decoded = decode_words(raw);
	ck_assert_str_eq(decoded, subject);

	/* RFC 2047: words of at most 75 characters, lines of at most 76. */
	headers = header_section(out);
	for (char *p = strstr(headers, "=?UTF-8?B?"); p; p = strstr(p + 1, "=?UTF-8?B?")) {
		char *end = strstr(p, "?=");

		ck_assert_int_le(end + 2 - p, 75);
		words++;
	}
	ck_assert_int_gt(words, 10);
	assert_lines_within(out, 76, 76);
	free(headers);
	free(raw);
	free(decoded);
	free(out);
}
END_TEST

START_TEST(display_names_are_quoted_or_encoded)
{
	email_message_t msg = { .to = "ada@example.com", .to_name = "Müller, Jürgen",
				.subject = "x", .text = "x" };
	char *out = build(&msg, "\"Support, \\\"the\\\" team\" <help@example.com>");
	char *to = header(out, "To"), *from = header(out, "From"), *decoded;

	decoded = decode_words(to);
	ck_assert_str_eq(decoded, "Müller, Jürgen <ada@example.com>");
	ck_assert_str_eq(from, "\"Support, \\\"the\\\" team\" <help@example.com>");
	free(decoded);
	free(to);
	free(from);
	free(out);
}
END_TEST

/*
 * A name that looks like an encoded word is encoded itself, so readers show
 * it as written rather than decoding it ("Admin" here).
 */
START_TEST(display_names_like_encoded_words_are_encoded)
{
	email_message_t msg = { .to = "ada@example.com", .to_name = "=?UTF-8?B?QWRtaW4=?=",
				.subject = "x", .text = "x" };
	char *out = build(&msg, "=?UTF-8?B?QWRtaW4=?= <help@example.com>");
	char *to = header(out, "To"), *from = header(out, "From"), *decoded;

	ck_assert_ptr_null(strstr(out, "=?UTF-8?B?QWRtaW4=?= <"));
	decoded = decode_words(to);
	ck_assert_str_eq(decoded, "=?UTF-8?B?QWRtaW4=?= <ada@example.com>");
	free(decoded);
	decoded = decode_words(from);
	ck_assert_str_eq(decoded, "=?UTF-8?B?QWRtaW4=?= <help@example.com>");
	free(decoded);
	free(to);
	free(from);
	free(out);
}
END_TEST

START_TEST(address_validation)
{
	static const char *const good[] = {
		"ada@example.com", "first.last@example.co.uk", "user+tag@sub.example.org",
		"o'brien@example.ie", "x@a-b.example", "UPPER@EXAMPLE.COM", "1234@example.com",
	};
	static const char *const bad[] = {
		"", "plain", "@example.com", "ada@", "ada@@example.com", "a@b@example.com",
		"ada@example", ".ada@example.com", "ada.@example.com", "a..b@example.com",
		"ada@-example.com", "ada@example-.com", "ada@exa_mple.com", "ada@example..com",
		"ada@127.0.0.1", "ada lovelace@example.com", "\"ada\"@example.com",
		"ada@[127.0.0.1]", "jürgen@example.com", "ada@example.com\r\n", "<ada@example.com>",
		"Ada <ada@example.com>",
	};
	char local65[80], long_label[80], long_addr[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(email_address_valid(good[i]), "should be valid: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!email_address_valid(bad[i]), "should be invalid: %s", bad[i]);
	ck_assert(!email_address_valid(NULL));

	memset(local65, 'a', 65);
	strcpy(local65 + 65, "@example.com");
	ck_assert(!email_address_valid(local65));
	ck_assert(email_address_valid(local65 + 1)); /* a local part of 64: the limit */

	strcpy(long_label, "a@");
	memset(long_label + 2, 'b', 64);
	strcpy(long_label + 66, ".com");
	ck_assert(!email_address_valid(long_label));

	strcpy(long_addr, "a@");
	for (int i = 0; i < 26; i++)
		strcat(long_addr, "abcdefghi.");
	strcat(long_addr, "com");
	ck_assert(!email_address_valid(long_addr)); /* 265 characters */
}
END_TEST

static void assert_refused(const email_message_t *msg, const char *from, const char *expect)
{
	char err[256] = "";
	char *out = (char *)1;
	size_t len = 1;

	ck_assert_int_eq(email_build(msg, from, &out, &len, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(len, 0);
	ck_assert_msg(strstr(err, expect) != NULL, "expected \"%s\", got \"%s\"", expect, err);
	ck_assert_ptr_null(strpbrk(err, "\r\n"));
}

START_TEST(header_injection_is_refused)
{
	const delivery_header_t evil_extra[] = { { "X-Campaign", "spring\r\nBcc: victim@example.com" } };
	email_message_t base = { .to = "ada@example.com", .subject = "Hello", .text = "x" };
	email_message_t m;

	m = base;
	m.subject = "Hello\r\nBcc: victim@example.com";
	assert_refused(&m, FROM, "header injection refused: Subject contains CR or LF");
	m.subject = "Hello\nBcc: victim@example.com";
	assert_refused(&m, FROM, "Subject contains CR or LF");
	m.subject = "Hello\rBcc: victim@example.com";
	assert_refused(&m, FROM, "Subject contains CR or LF");

	m = base;
	m.to = "ada@example.com\r\nBcc: victim@example.com";
	assert_refused(&m, FROM, "header injection refused: the recipient address");
	m = base;
	m.to_name = "Ada\r\nBcc: victim@example.com";
	assert_refused(&m, FROM, "header injection refused: the recipient name");
	m = base;
	m.message_id = "a@example.com>\r\nBcc: victim@example.com";
	assert_refused(&m, FROM, "header injection refused: Message-ID");
	m = base;
	m.headers = evil_extra;
	m.nheaders = 1;
	assert_refused(&m, FROM, "header injection refused: X-Campaign");
	assert_refused(&base, "noreply@example.com\nBcc: victim@example.com",
		       "header injection refused: FROM_EMAIL");
}
END_TEST

START_TEST(invalid_input_is_refused)
{
	const delivery_header_t own[] = { { "Content-Type", "text/plain" } };
	const delivery_header_t bcc[] = { { "bcc", "victim@example.com" } };
	const delivery_header_t spaced[] = { { "Bad Name", "x" } };
	email_message_t base = { .to = "ada@example.com", .subject = "Hello", .text = "x" };
	email_message_t m;

	m = base;
	m.to = "not-an-address";
	assert_refused(&m, FROM, "invalid recipient address");
	assert_refused(&base, "Team <not-an-address>", "invalid sender address");
	assert_refused(&base, NULL, "invalid sender address");
	m = base;
	m.headers = own;
	m.nheaders = 1;
	assert_refused(&m, FROM, "may not replace");
	m.headers = bcc;
	assert_refused(&m, FROM, "may not replace");
	m.headers = spaced;
	assert_refused(&m, FROM, "invalid extra header name");
	m = base;
	m.message_id = "no-at-sign";
	assert_refused(&m, FROM, "invalid Message-ID");
	m.message_id = "two@at@example.com";
	assert_refused(&m, FROM, "invalid Message-ID");
	m = base;
	m.subject = "bad \xff byte";
	assert_refused(&m, FROM, "Subject is not valid UTF-8");
}
END_TEST

/*
 * List-Unsubscribe is a structured header: encoded words are not allowed in
 * it (RFC 2047 section 5), so its value is made ASCII by percent-encoding
 * the URL, and a long URL (a signed token) is neither cut nor encoded.
 */
START_TEST(list_unsubscribe_is_ascii_and_never_encoded_words)
{
	delivery_header_t extra[1] = { { "List-Unsubscribe", NULL } };
	email_message_t msg = { .to = "ada@example.com", .subject = "x", .text = "x",
				.headers = extra, .nheaders = 1 };
	char url[1200], *value, *out, *headers;

	value = email_list_unsubscribe("https://ex\xc3\xa9.com/u?t=a b<c>\"&x=?y");
	ck_assert_str_eq(value, "<https://ex%C3%A9.com/u?t=a%20b%3Cc%3E%22&x=?y>");
	extra[0].value = value;
	out = build(&msg, FROM);
	headers = header_section(out);
	ck_assert_ptr_nonnull(strstr(headers, "\r\nList-Unsubscribe: <https://ex%C3%A9.com/u?t=a%20b%3Cc%3E%22&x=?y>\r\n"));
	free(headers);
	free(out);
	free(value);

	/* A 900-character URL comes through whole, on one line, closing '>' included. */
	memset(url, 'a', sizeof(url));
	memcpy(url, "https://example.com/u?token=", 28);
	url[900] = '\0';
	value = email_list_unsubscribe(url);
	ck_assert_uint_eq(strlen(value), 902);
	ck_assert_int_eq(value[901], '>');
	extra[0].value = value;
	out = build(&msg, FROM);
	expect_header(out, "List-Unsubscribe", value);
	headers = header_section(out);
	ck_assert_ptr_null(strstr(headers, "=?UTF-8?"));
	free(headers);
	free(out);
	free(value);

	/* One no header line can hold is refused, not cut; so is non-ASCII text. */
	url[900] = 'a';
	url[sizeof(url) - 1] = '\0';
	value = email_list_unsubscribe(url);
	extra[0].value = value;
	assert_refused(&msg, FROM, "extra header List-Unsubscribe must be printable ASCII in words of at most 998 octets");
	free(value);
	extra[0].value = "<https://ex\xc3\xa9.com/u>";
	assert_refused(&msg, FROM, "extra header List-Unsubscribe must be printable ASCII");
}
END_TEST

START_TEST(settings_follow_the_configuration)
{
	static const struct {
		const char *value;
		email_tls_t tls;
	} modes[] = { { "starttls", EMAIL_TLS_STARTTLS }, { "required", EMAIL_TLS_REQUIRED },
		      { "off", EMAIL_TLS_OFF } };
	wf_config_t cfg;
	email_settings_t s;
	char err[256];

	setenv("SMTP_HOST", "smtp.example.com", 1);
	setenv("SMTP_PORT", "2525", 1);
	setenv("SMTP_USER", "mailer", 1);
	setenv("SMTP_PASS", "pw", 1);
	setenv("SMTP_TIMEOUT_MS", "1500", 1);
	setenv("FROM_EMAIL", "News <news@example.com>", 1);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		setenv("SMTP_TLS", modes[i].value, 1);
		ck_assert_msg(config_load(&cfg, NULL, err, sizeof(err)) == 0, "%s", err);
		email_settings_from_config(&s, &cfg);
		ck_assert_str_eq(s.host, "smtp.example.com");
		ck_assert_int_eq(s.port, 2525);
		ck_assert_str_eq(s.user, "mailer");
		ck_assert_str_eq(s.pass, "pw");
		ck_assert_int_eq(s.timeout_ms, 1500);
		ck_assert_str_eq(s.from, "News <news@example.com>");
		ck_assert_int_eq(s.tls, modes[i].tls);
		ck_assert_ptr_null(s.ca_file);
		config_free(&cfg);
	}
}
END_TEST

RUNNER_MAIN("email_build", 30, multipart_alternative_with_both_parts,
	    from_after_a_soft_line_break_is_encoded, text_only_without_html,
	    headers_from_to_date_message_id, message_id_generated_in_sender_domain,
	    long_ascii_subject_is_folded_not_encoded, subjects_beyond_plain_ascii_are_encoded_words,
	    long_non_ascii_subject_folds_on_character_boundaries,
	    display_names_are_quoted_or_encoded, display_names_like_encoded_words_are_encoded,
	    address_validation, header_injection_is_refused,
	    invalid_input_is_refused, list_unsubscribe_is_ascii_and_never_encoded_words,
	    settings_follow_the_configuration)
