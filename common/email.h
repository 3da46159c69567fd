/*
 * email.h - the email delivery client: builds a MIME message and submits it
 * to the SMTP server of EMAIL_MODE=smtp with libESMTP.
 *
 * The message builder (email_build) is separate from the transport
 * (email_send) so it can be tested and previewed alone. A sent message is
 * multipart/alternative with a text/plain and a text/html part, both UTF-8
 * in quoted-printable; its headers are From, To, Subject (RFC 2047 encoded
 * words when not plain ASCII), Date, Message-ID, MIME-Version and the
 * caller's extra headers such as List-Unsubscribe (structured: written as
 * given, folded at white space, never as encoded words, so they must be
 * printable ASCII with no word longer than a line). A CR or LF in any header
 * value is refused (header injection), as is an invalid address: both are
 * PERMANENT outcomes. One call is one SMTP session with one recipient.
 */
#ifndef WF_EMAIL_H
#define WF_EMAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "delivery.h"

typedef enum {
	EMAIL_TLS_STARTTLS = 0, /* STARTTLS when the server offers it */
	EMAIL_TLS_REQUIRED,	/* refuse to send without STARTTLS */
	EMAIL_TLS_OFF,		/* never STARTTLS */
} email_tls_t;

/* How to reach the SMTP server. All strings are borrowed. */
typedef struct {
	const char *host;	/* SMTP_HOST: a name, or an IPv4 address */
	int port;		/* SMTP_PORT */
	const char *user;	/* SMTP_USER; NULL or "": no AUTH */
	const char *pass;	/* SMTP_PASS */
	email_tls_t tls;	/* SMTP_TLS */
	int timeout_ms;		/* SMTP_TIMEOUT_MS: per reply, libESMTP rounds it up to 1 s */
	const char *from;	/* FROM_EMAIL: "addr@example.com" or "Name <addr@example.com>" */
	/* PEM file of the certificates to trust for STARTTLS instead of the
	 * system store; NULL: the system store. Tests point it at their peer's
	 * self-signed certificate. */
	const char *ca_file;
} email_settings_t;

/* One message to one recipient. All strings are borrowed UTF-8. */
typedef struct {
	const char *to;		/* the recipient's address */
	const char *to_name;	/* display name for To:, NULL: the bare address */
	const char *subject;
	const char *text;	/* text/plain part; NULL is empty */
	const char *html;	/* text/html part; NULL or "": a text/plain message only */
	/* "local@domain" with or without angle brackets. The engine derives it
	 * from execution and node so a resend is recognisable; NULL: a random
	 * one in the domain of the sender. */
	const char *message_id;
	const delivery_header_t *headers; /* extra headers, e.g. List-Unsubscribe */
	size_t nheaders;
	time_t date;		/* Date: header; 0: now */
} email_message_t;

/* Fills s from the loaded settings; the strings stay owned by cfg. */
void email_settings_from_config(email_settings_t *s, const wf_config_t *cfg);

/*
 * A pragmatic RFC 5321/5322 check of a bare address: one '@'; a local part
 * of 1 to 64 characters of letters, digits and !#$%&'*+/=?^_`{|}~- in dot
 * separated runs; a domain of at least two dot separated labels of letters,
 * digits and inner hyphens (1 to 63 each), 253 characters at most, whose
 * last label is not all digits; 254 characters in all. Quoted local parts,
 * address literals and non-ASCII addresses are refused.
 */
bool email_address_valid(const char *addr);

/* Is spec a sender as FROM_EMAIL takes it: "addr", "Name <addr>" or "\"Name\" <addr>", on one line? */
bool email_mailbox_valid(const char *spec);

/*
 * The value of a List-Unsubscribe header for one URL: "<url>", with every
 * byte a header or a URI may not hold as it is (control characters, space,
 * non-ASCII, '<', '>' and '"') percent-encoded, so the header is plain ASCII
 * and needs no encoded words (which RFC 2047 forbids there). Returns a string
 * the caller frees with free(), or NULL when out of memory.
 */
char *email_list_unsubscribe(const char *url);

/*
 * Builds the message text with CRLF line ends, as handed to the SMTP server.
 * from is FROM_EMAIL. On success returns 0 and *out (NUL-terminated, *len
 * bytes without the NUL) is the caller's to free(). On refused input (an
 * invalid address, CR or LF in a header value, a forbidden extra header,
 * an extra header that is not printable ASCII or has a word longer than
 * 998 octets, a subject that is not UTF-8) returns -EINVAL with one line in err and
 * *out NULL.
 */
int email_build(const email_message_t *msg, const char *from, char **out, size_t *len,
		char *err, size_t errlen);

/*
 * Builds msg and submits it to the server of s, blocking for up to a few
 * SMTP timeouts. Fills result (which it resets first) with the outcome, the
 * deciding SMTP reply code and text, and the time taken. Returns 0 when the
 * server accepted the message, -1 otherwise (result says why, and whether a
 * retry may help). SIGPIPE need not be ignored by the caller. The
 * connection itself has no timeout of its own in libESMTP: an unreachable
 * host that drops packets takes the kernel's connect timeout.
 */
int email_send(const email_settings_t *s, const email_message_t *msg, delivery_result_t *result);

#endif
