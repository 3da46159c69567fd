/*
 * delivery.c - the outcome record shared by the email, SMS and webhook
 * clients, and the helpers they all need: one-line UTF-8 texts for the log
 * tables, the SIGPIPE guard, the library set-up done once per process.
 */
#include "delivery.h"
#include "utf8.h"

#include <auth-client.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int delivery_global_init(void)
{
	/* Not thread-safe in older libcurl builds, hence "once, at start". */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	auth_client_init();
	return 0;
}

void delivery_global_cleanup(void)
{
	auth_client_exit();
	curl_global_cleanup();
}

const char *delivery_outcome_name(delivery_outcome_t outcome)
{
	switch (outcome) {
	case DELIVERY_SENT:
		return "sent";
	case DELIVERY_RETRY:
		return "retry";
	case DELIVERY_PERMANENT:
		return "permanent";
	}
	return "permanent";
}

const char *delivery_log_status(delivery_outcome_t outcome)
{
	switch (outcome) {
	case DELIVERY_SENT:
		return "sent";
	case DELIVERY_RETRY:
		return "deferred";
	case DELIVERY_PERMANENT:
		return "failed";
	}
	return "failed";
}

void delivery_result_reset(delivery_result_t *r)
{
	memset(r, 0, sizeof(*r));
	r->outcome = DELIVERY_SENT;
}

size_t delivery_one_line(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	size_t in = 0, out = 0;

	while (in < srclen) {
		unsigned char c = (unsigned char)src[in];
		size_t n = utf8_char_len(src + in, srclen - in);

		if (n == 0) {
			/* One replacement byte per invalid byte keeps the text's length honest. */
			if (out + 1 >= dstlen)
				break;
			dst[out++] = '?';
			in++;
			continue;
		}
		if (out + n >= dstlen)
			break;
		if (n == 1 && (c < 0x20 || c == 0x7f))
			dst[out++] = ' ';
		else
			memcpy(dst + out, src + in, n), out += n;
		in += n;
	}
	while (out > 0 && dst[out - 1] == ' ')
		out--;
	dst[out] = '\0';
	return out;
}

void delivery_set_error(delivery_result_t *r, delivery_outcome_t outcome, const char *fmt, ...)
{
	char text[DELIVERY_ERROR_MAX * 2];
	va_list ap;
	int n;

	r->outcome = outcome;
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	delivery_one_line(r->error, sizeof(r->error), text, (size_t)n);
}

void delivery_set_excerpt(delivery_result_t *r, const char *data, size_t len)
{
	if (data == NULL)
		len = 0;
	delivery_one_line(r->excerpt, sizeof(r->excerpt), data ? data : "", len);
}

bool delivery_has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

double delivery_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

void delivery_sigpipe_block(delivery_sigpipe_t *guard)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	/* A SIGPIPE that was already pending belongs to the caller: leave it. */
	sigpending(&pending);
	guard->was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &guard->old_mask);
}

void delivery_sigpipe_restore(const delivery_sigpipe_t *guard)
{
	sigset_t pipe_set, pending;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (!guard->was_pending) {
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE) == 1) {
			struct timespec zero = { 0, 0 };

			/* Consume the signal our transfer raised before unblocking it. */
			while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
				;
		}
	}
	pthread_sigmask(SIG_SETMASK, &guard->old_mask, NULL);
}
