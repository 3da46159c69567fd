/*
 * email.c - MIME message builder and libESMTP transport.
 *
 * The builder writes the message into a memory stream: headers folded at
 * 78 columns (encoded words at 76, as RFC 2047 asks), parts in
 * quoted-printable so the message is 7-bit clean and no server needs
 * 8BITMIME. The transport runs one libESMTP session per message and turns
 * the per-recipient and per-message reply codes into a delivery outcome.
 */
#include "email.h"
#include "utf8.h"

#include <auth-client.h>
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* libesmtp.h declares its OpenSSL and SASL hooks only after those headers. */
#include <libesmtp.h>

#define HEADER_LINE 78	   /* RFC 5322's recommended line length */
#define ENCODED_LINE 76	   /* RFC 2047: a line holding encoded words */
#define QP_LINE 76	   /* RFC 2045: an encoded line, soft break included */
#define WORD_OVERHEAD 12   /* "=?UTF-8?B?" and "?=" */
#define LONGEST_WORD 900   /* an ASCII word longer than this is encoded so lines stay under 998 */
#define STRUCTURED_WORD_MAX 998 /* RFC 5322's line limit: a word that cannot be folded */
#define MAILBOX_MAX 256
#define NAME_MAX_PLAIN 64  /* longer display names are encoded, which folds them */

/* Headers the builder writes itself; a caller's extra header may not replace them. */
static const char *const own_headers[] = {
	"From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "MIME-Version",
	"Sender", "Return-Path", NULL,
};

void email_settings_from_config(email_settings_t *s, const wf_config_t *cfg)
{
	memset(s, 0, sizeof(*s));
	s->host = cfg->smtp_host;
	s->port = cfg->smtp_port;
	s->user = cfg->smtp_user;
	s->pass = cfg->smtp_pass;
	if (strcmp(cfg->smtp_tls, "required") == 0)
		s->tls = EMAIL_TLS_REQUIRED;
	else if (strcmp(cfg->smtp_tls, "off") == 0)
		s->tls = EMAIL_TLS_OFF;
	else
		s->tls = EMAIL_TLS_STARTTLS;
	s->timeout_ms = cfg->smtp_timeout_ms;
	s->from = cfg->from_email;
}

/* ---- addresses ---- */

static bool is_atext(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* A dot-atom-text: atext runs separated by single dots, none at either end. */
static bool dot_atom_valid(const char *s, size_t len)
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (s[i + 1] == '.')
				return false;
		} else if (!is_atext((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static bool domain_valid(const char *d, size_t len)
{
	size_t labels = 0, start = 0;
	bool all_digits = true;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && d[i] != '.') {
			if (!(isalnum((unsigned char)d[i]) || d[i] == '-'))
				return false;
			continue;
		}
		/* A label ends at i. */
		if (i == start || i - start > 63 || d[start] == '-' || d[i - 1] == '-')
			return false;
		all_digits = true;
		for (size_t j = start; j < i; j++)
			if (!isdigit((unsigned char)d[j]))
				all_digits = false;
		labels++;
		start = i + 1;
	}
	/* all_digits describes the last label: a top-level domain is never numeric. */
	return labels >= 2 && !all_digits;
}

bool email_address_valid(const char *addr)
{
	const char *at;
	size_t len;

	if (addr == NULL)
		return false;
	len = strlen(addr);
	at = strchr(addr, '@');
	if (len > 254 || at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	if (at - addr > 64 || !dot_atom_valid(addr, (size_t)(at - addr)))
		return false;
	return domain_valid(at + 1, len - (size_t)(at - addr) - 1);
}

/*
 * Splits FROM_EMAIL ("addr" or "Name <addr>" or "\"Name\" <addr>") into a
 * display name and an address. Returns 0, or -1 when it does not parse or
 * the address is invalid.
 */
static int parse_mailbox(const char *spec, char *name, char *addr)
{
	const char *start = spec, *end, *lt;
	size_t n;

	name[0] = addr[0] = '\0';
	if (spec == NULL)
		return -1;
	while (isspace((unsigned char)*start))
		start++;
	end = start + strlen(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	if (end > start && end[-1] == '>') {
		lt = end - 1;
		while (lt > start && *lt != '<')
			lt--;
		if (*lt != '<' || (size_t)(end - 1 - lt - 1) >= MAILBOX_MAX)
			return -1;
		memcpy(addr, lt + 1, (size_t)(end - 1 - lt - 1));
		addr[end - 1 - lt - 1] = '\0';
		end = lt;
		while (end > start && isspace((unsigned char)end[-1]))
			end--;
		if (end - start >= 2 && *start == '"' && end[-1] == '"') {
			/* A quoted display name: drop the quotes and undo \-escapes. */
			n = 0;
			for (const char *p = start + 1; p < end - 1 && n + 1 < MAILBOX_MAX; p++) {
				if (*p == '\\' && p + 1 < end - 1)
					p++;
				name[n++] = *p;
			}
			name[n] = '\0';
		} else {
			if ((size_t)(end - start) >= MAILBOX_MAX)
				return -1;
			memcpy(name, start, (size_t)(end - start));
			name[end - start] = '\0';
		}
	} else {
		if ((size_t)(end - start) >= MAILBOX_MAX)
			return -1;
		memcpy(addr, start, (size_t)(end - start));
		addr[end - start] = '\0';
	}
	return email_address_valid(addr) ? 0 : -1;
}

bool email_mailbox_valid(const char *spec)
{
	char name[MAILBOX_MAX], addr[MAILBOX_MAX];

	return spec != NULL && !delivery_has_crlf(spec) && parse_mailbox(spec, name, addr) == 0;
}

/* ---- header values ---- */

static bool utf8_valid(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len(s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/*
 * Whether an unstructured value must go out as encoded words: anything
 * beyond printable ASCII, text that a reader would take for an encoded word,
 * white space a parser would strip at either end, or a word too long to fold.
 */
static bool needs_encoding(const char *v)
{
	size_t word = 0, len = strlen(v);

	if (len > 0 && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[len - 1])))
		return true;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p >= 0x7f || (*p < 0x20 && *p != '\t'))
			return true;
		word = (*p == ' ' || *p == '\t') ? 0 : word + 1;
		if (word > LONGEST_WORD)
			return true;
	}
	return strstr(v, "=?") != NULL;
}

/*
 * Writes v as "=?UTF-8?B?...?=" words, each holding whole UTF-8 characters,
 * starting at column col (just after "Name:"). Returns the column after it.
 */
static size_t write_encoded_words(FILE *f, size_t col, const char *v)
{
	size_t len = strlen(v), pos = 0;

	do {
		size_t max_bytes, take = 0;
		unsigned char b64[80];
		int n;

		if (col + 1 + WORD_OVERHEAD + 8 > ENCODED_LINE) {
			/* No room for a useful word on this line: fold first. */
			fputs("\r\n", f);
			col = 0;
		}
		/* What fits after the separating space, in whole base64 quanta. */
		max_bytes = (ENCODED_LINE - col - 1 - WORD_OVERHEAD) / 4 * 3;
		while (pos + take < len) {
			size_t c = utf8_char_len(v + pos + take, len - pos - take);

			if (c == 0)
				c = 1; /* callers check UTF-8 first; never loop forever */
			if (take + c > max_bytes)
				break;
			take += c;
		}
		n = EVP_EncodeBlock(b64, (const unsigned char *)v + pos, (int)take);
		fprintf(f, " =?UTF-8?B?%.*s?=", n, (const char *)b64);
		col += 1 + WORD_OVERHEAD + (size_t)n;
		pos += take;
		if (pos < len) {
			fputs("\r\n", f);
			col = 0;
		}
	} while (pos < len);
	return col;
}

/* Writes plain ASCII v after "Name:", folding before white space past column 78. */
static size_t write_folded(FILE *f, size_t col, const char *v)
{
	const char *p = v;

	fputc(' ', f);
	col++;
	while (*p) {
		const char *q = p;

		while (*q == ' ' || *q == '\t')
			q++;
		while (*q && *q != ' ' && *q != '\t')
			q++;
		if (p != v && col + (size_t)(q - p) > HEADER_LINE) {
			fputs("\r\n", f);
			col = 0;
		}
		fwrite(p, 1, (size_t)(q - p), f);
		col += (size_t)(q - p);
		p = q;
	}
	return col;
}

static void write_unstructured(FILE *f, const char *name, const char *value)
{
	size_t col = strlen(name) + 1;

	fprintf(f, "%s:", name);
	if (needs_encoding(value))
		write_encoded_words(f, col, value);
	else
		write_folded(f, col, value);
	fputs("\r\n", f);
}

/*
 * Writes an extra header's value as it is, folding only at its white space:
 * the callers' headers (List-Unsubscribe and the like) are structured, and
 * RFC 2047 forbids encoded words in them. check_message has made sure the
 * value is printable ASCII and that every word fits on a line.
 */
static void write_structured(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s:", name);
	write_folded(f, strlen(name) + 1, value);
	fputs("\r\n", f);
}

char *email_list_unsubscribe(const char *url)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(url);
	/* At most three bytes for each of the URL's, the brackets and the NUL. */
	char *out = malloc(3 * len + 3), *o = out;

	if (out == NULL)
		return NULL;
	*o++ = '<';
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		/* Bytes a URI may not hold as they are (RFC 3986), and the angle
		 * brackets and quote that would end or confuse the bracketed form. */
		if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' || *p == '"') {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
		} else {
			*o++ = (char)*p;
		}
	}
	*o++ = '>';
	*o = '\0';
	return out;
}

/*
 * A display name that can go out as it is: atoms separated by single spaces,
 * and nothing a reader would decode as an encoded word ("=?" is atext).
 */
static bool plain_phrase(const char *s)
{
	if (strlen(s) > NAME_MAX_PLAIN || *s == ' ' || strstr(s, "=?") != NULL)
		return false;
	for (const char *p = s; *p; p++)
		if (!(is_atext((unsigned char)*p) || (*p == ' ' && p[1] != ' ' && p[1] != '\0')))
			return false;
	return true;
}

static void write_mailbox(FILE *f, const char *header, const char *name, const char *addr)
{
	size_t col = strlen(header) + 1;

	fprintf(f, "%s:", header);
	if (name == NULL || *name == '\0') {
		fprintf(f, " %s\r\n", addr);
		return;
	}
	if (plain_phrase(name)) {
		fprintf(f, " %s", name);
		col += 1 + strlen(name);
	} else if (needs_encoding(name) || strlen(name) > NAME_MAX_PLAIN) {
		col = write_encoded_words(f, col, name);
	} else {
		/* A quoted-string keeps specials such as , ; < > @ " inside the name. */
		fputs(" \"", f);
		for (const char *p = name; *p; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', f);
			fputc(*p, f);
		}
		fputc('"', f);
		col += 3 + strlen(name);
	}
	if (col + 3 + strlen(addr) > HEADER_LINE)
		fputs("\r\n", f);
	fprintf(f, " <%s>\r\n", addr);
}

/* ---- body ---- */

/*
 * Quoted-printable (RFC 2045 6.7) with the text's line breaks (LF or CRLF)
 * as hard CRLF breaks. White space before a break, '=', non-ASCII bytes and
 * controls are encoded; so is the F of a line starting "From " that some
 * mail stores would otherwise mangle.
 */
static void write_quoted_printable(FILE *f, const char *text)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t col = 0;

	for (; *p; p++) {
		bool line_end_next, literal;
		char token[4];
		size_t n;

		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n') {
			fputs("\r\n", f);
			col = 0;
			continue;
		}
		line_end_next = p[1] == '\0' || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n');
		literal = (*p >= 33 && *p <= 126 && *p != '=') ||
			  ((*p == ' ' || *p == '\t') && !line_end_next);
		n = literal ? 1 : 3;
		if (col + n > QP_LINE - 1) {
			fputs("=\r\n", f);
			col = 0;
		}
		/* Checked after the soft break, which may itself start the line with
		 * "From "; an encoded F keeps mbox writers from adding '>'. */
		if (col == 0 && strncmp((const char *)p, "From ", 5) == 0)
			literal = false, n = 3;
		if (literal)
			token[0] = (char)*p;
		else
			snprintf(token, sizeof(token), "=%02X", *p);
		fwrite(token, 1, n, f);
		col += n;
	}
}

static void write_part_headers(FILE *f, const char *type)
{
	fprintf(f, "Content-Type: %s; charset=UTF-8\r\n"
		   "Content-Transfer-Encoding: quoted-printable\r\n",
		type);
}

/* ---- the message ---- */

static void random_hex(char *out, size_t bytes)
{
	unsigned char raw[32];

	if (bytes > sizeof(raw))
		bytes = sizeof(raw);
	if (getrandom(raw, bytes, 0) != (ssize_t)bytes) {
		/* getrandom only fails before the pool is ready; uniqueness is all we need. */
		for (size_t i = 0; i < bytes; i++)
			raw[i] = (unsigned char)random();
	}
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
}

static void format_date(char *buf, size_t len, time_t when)
{
	/* Spelled out rather than strftime's %a/%b, which follow the locale. */
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;

	gmtime_r(&when, &tm);
	snprintf(buf, len, "%.3s, %02d %.3s %04d %02d:%02d:%02d +0000", days + 3 * tm.tm_wday,
		 tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

/* Copies the caller's Message-ID without angle brackets; -1 when it is not id-left@id-right. */
static int message_id_copy(const char *given, char *out, size_t outlen)
{
	size_t len = strlen(given);
	const char *at;

	if (len >= 2 && given[0] == '<' && given[len - 1] == '>')
		given++, len -= 2;
	if (len == 0 || len >= outlen || len > 250)
		return -1;
	memcpy(out, given, len);
	out[len] = '\0';
	at = strchr(out, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return -1;
	if (!dot_atom_valid(out, (size_t)(at - out)) || !dot_atom_valid(at + 1, strlen(at + 1)))
		return -1;
	return 0;
}

static bool own_header(const char *name)
{
	for (int i = 0; own_headers[i]; i++)
		if (strcasecmp(name, own_headers[i]) == 0)
			return true;
	return strncasecmp(name, "Content-", 8) == 0;
}

static bool field_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 64)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 33 || *p > 126 || *p == ':')
			return false;
	return true;
}

/* Refuses a header value that could break out of its header, or is not UTF-8. */
static int check_value(const char *what, const char *value, char *err, size_t errlen)
{
	if (delivery_has_crlf(value)) {
		snprintf(err, errlen, "header injection refused: %s contains CR or LF", what);
		return -1;
	}
	if (!utf8_valid(value)) {
		snprintf(err, errlen, "%s is not valid UTF-8", what);
		return -1;
	}
	return 0;
}

/*
 * Whether an extra header's value can go out as it is (write_structured):
 * printable ASCII or tabs, no word so long that its line would pass the
 * 998-octet limit of RFC 5322 even after folding.
 */
static bool structured_value_valid(const char *name, const char *value)
{
	size_t word = strlen(name) + 2; /* the first word shares its line with "Name: " */

	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		bool space = *p == ' ' || *p == '\t';

		if ((*p < 0x20 && *p != '\t') || *p >= 0x7f)
			return false;
		/* A fold goes before a run of white space, which starts the next line. */
		word = space && p != (const unsigned char *)value && p[-1] != ' ' && p[-1] != '\t' ? 1 : word + 1;
		if (word > STRUCTURED_WORD_MAX)
			return false;
	}
	return true;
}

/* Every check email_build makes before writing anything. */
static int check_message(const email_message_t *msg, const char *from, char *from_name,
			 char *from_addr, char *id, size_t idlen, char *err, size_t errlen)
{
	if (check_value("FROM_EMAIL", from ? from : "", err, errlen) < 0)
		return -1;
	if (parse_mailbox(from, from_name, from_addr) < 0) {
		snprintf(err, errlen, "invalid sender address in FROM_EMAIL");
		return -1;
	}
	if (check_value("the recipient address", msg->to ? msg->to : "", err, errlen) < 0)
		return -1;
	if (!email_address_valid(msg->to)) {
		snprintf(err, errlen, "invalid recipient address");
		return -1;
	}
	if (msg->to_name && check_value("the recipient name", msg->to_name, err, errlen) < 0)
		return -1;
	if (msg->subject && check_value("Subject", msg->subject, err, errlen) < 0)
		return -1;
	if (msg->message_id) {
		if (check_value("Message-ID", msg->message_id, err, errlen) < 0)
			return -1;
		if (message_id_copy(msg->message_id, id, idlen) < 0) {
			snprintf(err, errlen, "invalid Message-ID (expected local@domain)");
			return -1;
		}
	} else {
		char hex[33];

		random_hex(hex, 16);
		snprintf(id, idlen, "%s@%s", hex, strchr(from_addr, '@') + 1);
	}
	for (size_t i = 0; i < msg->nheaders; i++) {
		const delivery_header_t *h = &msg->headers[i];

		if (h->name == NULL || h->value == NULL || !field_name_valid(h->name)) {
			snprintf(err, errlen, "invalid extra header name");
			return -1;
		}
		if (own_header(h->name)) {
			snprintf(err, errlen, "extra header %s may not replace the message's own", h->name);
			return -1;
		}
		if (check_value(h->name, h->value, err, errlen) < 0)
			return -1;
		if (!structured_value_valid(h->name, h->value)) {
			snprintf(err, errlen,
				 "extra header %s must be printable ASCII in words of at most %d octets",
				 h->name, STRUCTURED_WORD_MAX);
			return -1;
		}
	}
	return 0;
}

int email_build(const email_message_t *msg, const char *from, char **out, size_t *len,
		char *err, size_t errlen)
{
	char from_name[MAILBOX_MAX], from_addr[MAILBOX_MAX], id[256], date[64], boundary[40];
	bool alternative = msg->html != NULL && *msg->html != '\0';
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	*out = NULL;
	*len = 0;
	if (check_message(msg, from, from_name, from_addr, id, sizeof(id), err, errlen) < 0)
		return -EINVAL;
	f = open_memstream(&buf, &size);
	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	write_mailbox(f, "From", from_name, from_addr);
	write_mailbox(f, "To", msg->to_name, msg->to);
	write_unstructured(f, "Subject", msg->subject ? msg->subject : "");
	format_date(date, sizeof(date), msg->date ? msg->date : time(NULL));
	fprintf(f, "Date: %s\r\n", date);
	fprintf(f, "Message-ID: <%s>\r\n", id);
	fputs("MIME-Version: 1.0\r\n", f);
	for (size_t i = 0; i < msg->nheaders; i++)
		write_structured(f, msg->headers[i].name, msg->headers[i].value);
	if (!alternative) {
		write_part_headers(f, "text/plain");
		fputs("\r\n", f);
		write_quoted_printable(f, msg->text ? msg->text : "");
		/* The message ends with a line end, but gains no empty line. */
		if (msg->text == NULL || *msg->text == '\0' || msg->text[strlen(msg->text) - 1] != '\n')
			fputs("\r\n", f);
	} else {
		/* "=_" never occurs in quoted-printable text, so the boundary cannot either. */
		strcpy(boundary, "=_wf_");
		random_hex(boundary + 5, 12);
		fprintf(f, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", boundary);
		fputs("This is a multi-part message in MIME format.\r\n", f);
		fprintf(f, "\r\n--%s\r\n", boundary);
		write_part_headers(f, "text/plain");
		fputs("\r\n", f);
		write_quoted_printable(f, msg->text ? msg->text : "");
		fprintf(f, "\r\n--%s\r\n", boundary);
		write_part_headers(f, "text/html");
		fputs("\r\n", f);
		write_quoted_printable(f, msg->html);
		fprintf(f, "\r\n--%s--\r\n", boundary);
	}
	if (fclose(f) != 0 || buf == NULL) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*out = buf;
	*len = size;
	return 0;
}

/* ---- SMTP transport ---- */

/* What libESMTP's event callback saw during one session. */
typedef struct {
	int port; /* the server's, to find the session's socket */
	bool tls_refused;
	char tls_error[160];
} session_events_t;

/*
 * Turns Nagle's algorithm off on the TCP sockets of this process connected
 * to port `port`: libESMTP writes a message in 2 KB pieces, and with Nagle
 * on, the last piece of any message over 2 KB waits for the server's
 * delayed ACK (40 ms on Linux) — one email per 40 ms per process instead of
 * hundreds a second. libESMTP does not hand out its socket, so it is found
 * among the open descriptors when the session connects. Other sockets to
 * that port (none, in a worker) lose nothing by it: libpq and libcurl set
 * TCP_NODELAY on theirs anyway.
 */
static void set_nodelay_to_port(int port)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		struct sockaddr_storage peer;
		socklen_t peer_len = sizeof(peer);
		struct stat st;
		int fd = atoi(entry->d_name), one = 1, peer_port;

		if (entry->d_name[0] == '.' || fd == dirfd(dir) || fstat(fd, &st) < 0 ||
		    !S_ISSOCK(st.st_mode) || getpeername(fd, (struct sockaddr *)&peer, &peer_len) < 0)
			continue;
		if (peer.ss_family == AF_INET)
			peer_port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
		else if (peer.ss_family == AF_INET6)
			peer_port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
		else
			continue;
		if (peer_port == port)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	closedir(dir);
}

static void on_event(smtp_session_t session, int event, void *arg, ...)
{
	session_events_t *ev = arg;
	va_list ap;
	int *ok;

	va_start(ap, arg);
	switch (event) {
	case SMTP_EV_CONNECT:
		set_nodelay_to_port(ev->port);
		break;
	case SMTP_EV_EXTNA_STARTTLS:
		ev->tls_refused = true;
		snprintf(ev->tls_error, sizeof(ev->tls_error),
			 "SMTP_TLS=required but the server does not offer STARTTLS");
		break;
	case SMTP_EV_INVALID_PEER_CERTIFICATE: {
		long verify = va_arg(ap, long);

		ok = va_arg(ap, int *);
		*ok = 0;
		ev->tls_refused = true;
		snprintf(ev->tls_error, sizeof(ev->tls_error), "SMTP server certificate rejected: %s",
			 X509_verify_cert_error_string(verify));
		break;
	}
	case SMTP_EV_NO_PEER_CERTIFICATE:
		ok = va_arg(ap, int *);
		*ok = 0;
		ev->tls_refused = true;
		snprintf(ev->tls_error, sizeof(ev->tls_error), "SMTP server sent no certificate");
		break;
	case SMTP_EV_WRONG_PEER_CERTIFICATE:
		/* OpenSSL already matched the name (tls_context sets it on the
		 * verify parameters, IP addresses included, which libESMTP's own
		 * check does not handle); reaching here means that check passed. */
		ok = va_arg(ap, int *);
		*ok = 1;
		break;
	case SMTP_EV_WEAK_CIPHER:
		(void)va_arg(ap, int);
		ok = va_arg(ap, int *);
		*ok = 0;
		ev->tls_refused = true;
		snprintf(ev->tls_error, sizeof(ev->tls_error), "SMTP server chose a weak cipher");
		break;
	case SMTP_EV_UNUSABLE_CLIENT_CERTIFICATE:
	case SMTP_EV_UNUSABLE_CA_LIST:
		ev->tls_refused = true;
		snprintf(ev->tls_error, sizeof(ev->tls_error),
			 "unusable TLS files under ~/.authenticate");
		break;
	default:
		break;
	}
	va_end(ap);
}

static int auth_interact(auth_client_request_t request, char **result, int fields, void *arg)
{
	const email_settings_t *s = arg;

	for (int i = 0; i < fields; i++) {
		if (request[i].flags & AUTH_USER)
			result[i] = (char *)s->user;
		else if (request[i].flags & AUTH_PASS)
			result[i] = (char *)(s->pass ? s->pass : "");
		else
			result[i] = (char *)""; /* a realm: none */
	}
	return 1;
}

/*
 * One TLS context per process, rebuilt when the host or CA file changes:
 * loading the system trust store costs more than a local SMTP session.
 * Returns a reference the caller frees, or NULL with err set.
 */
static SSL_CTX *tls_context(const email_settings_t *s, char *err, size_t errlen)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static SSL_CTX *cached;
	static char cached_key[1024];
	char key[1024];
	X509_VERIFY_PARAM *param;
	SSL_CTX *ctx;
	int ok;

	snprintf(key, sizeof(key), "%s\n%s", s->host, s->ca_file ? s->ca_file : "");
	pthread_mutex_lock(&lock);
	if (cached && strcmp(key, cached_key) == 0) {
		SSL_CTX_up_ref(cached);
		pthread_mutex_unlock(&lock);
		return cached;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		pthread_mutex_unlock(&lock);
		snprintf(err, errlen, "could not create a TLS context");
		return NULL;
	}
	/* TLS 1.2 at most: libESMTP 1.1 mistakes the TLS 1.3 session tickets a
	 * server sends after the handshake for the reply to EHLO, then waits
	 * for a reply to a command it never flushed until the timeout. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	ok = s->ca_file ? SSL_CTX_load_verify_locations(ctx, s->ca_file, NULL)
			: SSL_CTX_set_default_verify_paths(ctx);
	param = SSL_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (ok == 1 && X509_VERIFY_PARAM_set1_ip_asc(param, s->host) != 1)
		ok = X509_VERIFY_PARAM_set1_host(param, s->host, 0);
	if (ok != 1) {
		pthread_mutex_unlock(&lock);
		SSL_CTX_free(ctx);
		snprintf(err, errlen, "could not load the certificates to trust for STARTTLS");
		return NULL;
	}
	/* The handshake itself verifies nothing: libESMTP inspects the result
	 * afterwards and asks on_event, which turns a failure into an error. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_free(cached);
	cached = ctx;
	snprintf(cached_key, sizeof(cached_key), "%s", key);
	SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&lock);
	return ctx;
}

/* Sets the outcome from a refusing SMTP reply: 4xx RETRY, anything else PERMANENT. */
static void set_reply(delivery_result_t *r, const smtp_status_t *st, const char *what)
{
	const char *text = st->text ? st->text : "";

	r->code = st->code;
	delivery_set_excerpt(r, text, strlen(text));
	delivery_set_error(r, st->code / 100 == 4 ? DELIVERY_RETRY : DELIVERY_PERMANENT, "%s: %d %s",
			   what, st->code, r->excerpt);
}

static bool refused(const smtp_status_t *st)
{
	return st != NULL && st->code != 0 && st->code / 100 != 2;
}

static void classify(delivery_result_t *r, int started, const session_events_t *ev,
		     smtp_message_t message, smtp_recipient_t rcpt, const email_settings_t *s,
		     double elapsed_ms)
{
	const smtp_status_t *st;
	char buf[128];
	const char *why;
	int e;

	if (!started) {
		e = smtp_errno();
		why = e ? smtp_strerror(e, buf, sizeof(buf)) : "the server refused the session";
		delivery_set_error(r, DELIVERY_RETRY, "could not talk to SMTP server %s:%d: %s",
				   s->host, s->port, why ? why : "unknown error");
		return;
	}
	if (ev->tls_refused) {
		delivery_set_error(r, DELIVERY_PERMANENT, "%s", ev->tls_error);
		return;
	}
	st = smtp_reverse_path_status(message);
	if (refused(st)) {
		set_reply(r, st, "sender refused");
		return;
	}
	st = smtp_recipient_status(rcpt);
	if (refused(st)) {
		set_reply(r, st, "recipient refused");
		return;
	}
	st = smtp_message_transfer_status(message);
	if (st != NULL && st->code / 100 == 2) {
		r->outcome = DELIVERY_SENT;
		r->code = st->code;
		delivery_set_excerpt(r, st->text, st->text ? strlen(st->text) : 0);
		return;
	}
	if (refused(st)) {
		set_reply(r, st, "message refused");
		return;
	}
	/* No final reply: libESMTP reports a timeout and a hang-up alike. */
	if (elapsed_ms >= 0.95 * (s->timeout_ms > 1000 ? s->timeout_ms : 1000)) {
		delivery_set_error(r, DELIVERY_RETRY, "SMTP server %s:%d did not answer within %d ms",
				   s->host, s->port, s->timeout_ms > 1000 ? s->timeout_ms : 1000);
		return;
	}
	e = smtp_errno();
	why = e ? smtp_strerror(e, buf, sizeof(buf)) : NULL;
	delivery_set_error(r, DELIVERY_RETRY, "SMTP session ended before the message was accepted: %s",
			   why ? why : "connection closed");
}

int email_send(const email_settings_t *s, const email_message_t *msg, delivery_result_t *r)
{
	double start = delivery_now_ms();
	char err[DELIVERY_ERROR_MAX], server[320];
	char from_name[MAILBOX_MAX], from_addr[MAILBOX_MAX];
	smtp_session_t session = NULL;
	smtp_message_t message;
	smtp_recipient_t rcpt;
	auth_context_t auth = NULL;
	SSL_CTX *ctx = NULL;
	session_events_t ev = { .port = s->port };
	delivery_sigpipe_t guard;
	char *text = NULL;
	size_t len;
	int started;

	delivery_result_reset(r);
	if (email_build(msg, s->from, &text, &len, err, sizeof(err)) < 0) {
		delivery_set_error(r, DELIVERY_PERMANENT, "%s", err);
		goto done;
	}
	parse_mailbox(s->from, from_name, from_addr); /* email_build checked it */
	if (s->host == NULL || *s->host == '\0') {
		delivery_set_error(r, DELIVERY_PERMANENT, "SMTP_HOST is not set");
		goto done;
	}
	session = smtp_create_session();
	if (session == NULL) {
		delivery_set_error(r, DELIVERY_RETRY, "could not create an SMTP session");
		goto done;
	}
	snprintf(server, sizeof(server), "%s:%d", s->host, s->port);
	message = smtp_add_message(session);
	rcpt = message ? smtp_add_recipient(message, msg->to) : NULL;
	if (rcpt == NULL || !smtp_set_server(session, server) ||
	    !smtp_set_reverse_path(message, from_addr) || !smtp_set_message_str(message, text) ||
	    !smtp_set_eventcb(session, on_event, &ev)) {
		delivery_set_error(r, DELIVERY_RETRY, "could not set up the SMTP session");
		goto done;
	}
	for (int which = Timeout_GREETING; which <= Timeout_DATA2; which++)
		smtp_set_timeout(session, which | Timeout_OVERRIDE_RFC2822_MINIMUM, s->timeout_ms);
	if (s->tls == EMAIL_TLS_OFF) {
		smtp_starttls_enable(session, Starttls_DISABLED);
	} else {
		ctx = tls_context(s, err, sizeof(err));
		if (ctx == NULL) {
			delivery_set_error(r, DELIVERY_PERMANENT, "%s", err);
			goto done;
		}
		smtp_starttls_set_ctx(session, ctx);
		smtp_starttls_enable(session, s->tls == EMAIL_TLS_REQUIRED ? Starttls_REQUIRED
									   : Starttls_ENABLED);
	}
	if (s->user && *s->user) {
		auth = auth_create_context();
		if (auth == NULL) {
			delivery_set_error(r, DELIVERY_RETRY, "could not create an SMTP AUTH context");
			goto done;
		}
		/* PLAIN and LOGIN are what submission servers offer, usually after STARTTLS. */
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, auth_interact, (void *)s);
		smtp_auth_set_context(session, auth);
	}
	delivery_sigpipe_block(&guard);
	started = smtp_start_session(session);
	delivery_sigpipe_restore(&guard);
	classify(r, started, &ev, message, rcpt, s, delivery_now_ms() - start);
done:
	if (session)
		smtp_destroy_session(session);
	if (auth)
		auth_destroy_context(auth);
	SSL_CTX_free(ctx);
	free(text);
	r->duration_ms = delivery_now_ms() - start;
	return r->outcome == DELIVERY_SENT ? 0 : -1;
}
