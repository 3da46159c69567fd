/*
 * delivery.h - what every delivery client (email, SMS, webhook) hands back
 * to the engine, and the few helpers the clients share.
 *
 * A client never decides whether to try again; it only classifies one
 * attempt: SENT (the peer took it), RETRY (a transient failure: connection
 * refused or reset, timeout, SMTP 4xx, HTTP 5xx/408/429) or PERMANENT (the
 * same attempt can never succeed: invalid address or number, SMTP 5xx,
 * HTTP 4xx, header injection). The engine maps these onto the log tables'
 * status ('sent', 'deferred', 'failed') and onto its retry policy.
 */
#ifndef WF_DELIVERY_H
#define WF_DELIVERY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
	DELIVERY_SENT = 0,
	DELIVERY_RETRY,
	DELIVERY_PERMANENT,
} delivery_outcome_t;

#define DELIVERY_ERROR_MAX 256
#define DELIVERY_EXCERPT_MAX 512

typedef struct {
	delivery_outcome_t outcome;
	int code;		/* SMTP reply code or HTTP status that decided it; 0: none received */
	int retry_after_s;	/* the peer's Retry-After in seconds; 0: not given */
	double duration_ms;	/* the whole attempt, connection included */
	/* One line of valid UTF-8 without secrets (never a password, token or
	 * credentials); empty when SENT, except for a note such as a truncated reply. */
	char error[DELIVERY_ERROR_MAX];
	/* The start of the peer's reply (SMTP text, HTTP body) as one line of
	 * valid UTF-8, for the logs. */
	char excerpt[DELIVERY_EXCERPT_MAX];
} delivery_result_t;

/* A header a caller adds (extra email headers, webhook headers). Borrowed. */
typedef struct {
	const char *name;
	const char *value;
} delivery_header_t;

/*
 * Process-wide set-up of the libraries under the clients (libcurl's
 * curl_global_init and libESMTP's SASL client). The process's main() calls
 * it once at start, before it forks children or starts threads; the
 * children inherit it. Returns 0, or -1 when libcurl cannot start.
 */
int delivery_global_init(void);
/* Undoes delivery_global_init() at exit; optional. */
void delivery_global_cleanup(void);

/* "sent", "retry" or "permanent". Static string. */
const char *delivery_outcome_name(delivery_outcome_t outcome);
/* The status column of email_logs/sms_logs/webhook_logs: "sent", "deferred" or "failed". */
const char *delivery_log_status(delivery_outcome_t outcome);

/* Empties r: SENT, no code, no texts. */
void delivery_result_reset(delivery_result_t *r);
/* Sets the outcome and a printf-formatted error, made one line of valid UTF-8. */
void delivery_set_error(delivery_result_t *r, delivery_outcome_t outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Copies the start of data (len bytes, need not be NUL-terminated) as the excerpt. */
void delivery_set_excerpt(delivery_result_t *r, const char *data, size_t len);

/*
 * Copies src (srclen bytes) into dst (dstlen > 0) as one line of valid
 * UTF-8: control characters become spaces, invalid bytes '?', and the copy
 * stops before a character that would not fit. Returns the bytes written.
 */
size_t delivery_one_line(char *dst, size_t dstlen, const char *src, size_t srclen);

/* True when s contains CR or LF: a value that could start a new header line. */
bool delivery_has_crlf(const char *s);

/* Milliseconds on the monotonic clock. */
double delivery_now_ms(void);

/*
 * libESMTP writes to its socket with plain write(2), so a peer that hangs up
 * would raise SIGPIPE and kill a process that has not ignored it. The
 * clients block SIGPIPE in the calling thread around the transfer and
 * discard one raised meanwhile, so callers need not ignore it themselves.
 */
typedef struct {
	sigset_t old_mask;
	bool was_pending;
} delivery_sigpipe_t;

void delivery_sigpipe_block(delivery_sigpipe_t *guard);
void delivery_sigpipe_restore(const delivery_sigpipe_t *guard);

#endif
