/*
 * smtp_bench.c - wf-bench-smtp [COUNT] [--tls]: emails per second that one
 * process delivers with email_send, one after another, to the aiosmtpd
 * test server on loopback (started here, discarding what it receives).
 * Each email is a full SMTP session, as the engine sends them. Prints one
 * JSON line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "delivery.h"
#include "email.h"
#include "peers.h"

static int compare_ms(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile p (0 < p <= 1) of the sorted values v[0..n-1]. */
static double percentile(const double *v, int n, double p)
{
	int rank = (int)ceil(p * n);

	return v[rank < 1 ? 0 : rank - 1];
}

int main(int argc, char **argv)
{
	const char *server_args[] = { "--discard", NULL, NULL };
	const char *text = "Hello Ada,\n\nwelcome aboard: your United subscription is active.\n"
			   "Reply to this email if you have any question.\n";
	const char *html = "<!doctype html><html><body><h1>Welcome aboard</h1>"
			   "<p>Hello Ada, your <b>United</b> subscription is active.</p></body></html>";
	const delivery_header_t headers[] = {
		{ "List-Unsubscribe", "<https://example.com/unsubscribe/42>" },
	};
	int count = 500, failed = 0;
	bool tls = false;
	char err[256], id[64];
	email_settings_t s = { 0 };
	delivery_result_t r;
	double start, seconds, cpu_ms, *ms;
	struct rusage usage;
	peer_t *peer;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tls") == 0)
			tls = true;
		else
			count = atoi(argv[i]);
	}
	if (count <= 0) {
		fprintf(stderr, "usage: wf-bench-smtp [COUNT] [--tls]\n");
		return 2;
	}
	if (tls)
		server_args[1] = "--tls";
	if (delivery_global_init() < 0) {
		fprintf(stderr, "wf-bench-smtp: libcurl could not start\n");
		return 1;
	}
	peer = peer_start("smtp_server.py", server_args, err, sizeof(err));
	if (peer == NULL) {
		fprintf(stderr, "wf-bench-smtp: %s\n", err);
		return 1;
	}
	s.host = "127.0.0.1";
	s.port = peer->port;
	s.tls = tls ? EMAIL_TLS_REQUIRED : EMAIL_TLS_OFF;
	s.ca_file = tls ? peer->ca_file : NULL;
	s.timeout_ms = 5000;
	s.from = "Lifecycle <noreply@example.com>";
	ms = calloc((size_t)count, sizeof(*ms));

	start = delivery_now_ms();
	for (int i = 0; i < count; i++) {
		email_message_t msg = { .to = "ada@example.com", .to_name = "Ada Lovelace",
					.subject = "Willkommen bei United – dein Abo ist aktiv",
					.text = text, .html = html, .message_id = id,
					.headers = headers, .nheaders = 1 };

		snprintf(id, sizeof(id), "bench-%d.welcome@example.com", i);
		if (email_send(&s, &msg, &r) < 0) {
			if (failed++ == 0)
				fprintf(stderr, "wf-bench-smtp: %s\n", r.error);
		}
		ms[i] = r.duration_ms;
	}
	seconds = (delivery_now_ms() - start) / 1000.0;
	/* This process only: what the client costs, apart from the Python server. */
	getrusage(RUSAGE_SELF, &usage);
	cpu_ms = usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3 +
		 usage.ru_stime.tv_usec / 1e3;
	peer_stop(peer);

	qsort(ms, (size_t)count, sizeof(*ms), compare_ms);
	printf("{\"bench\": \"smtp\", \"emails\": %d, \"failed\": %d, \"processes\": 1, \"tls\": %s, "
	       "\"seconds\": %.3f, \"emails_per_s\": %.1f, \"p50_ms\": %.2f, \"p99_ms\": %.2f, "
	       "\"client_cpu_ms_per_email\": %.3f, \"server\": \"aiosmtpd on loopback, discarding\"}\n",
	       count, failed, tls ? "true" : "false", seconds, count / seconds, percentile(ms, count, 0.50),
	       percentile(ms, count, 0.99), cpu_ms / count);
	free(ms);
	return failed ? 1 : 0;
}
