/*
 * peers.h - the real servers the messaging tests talk to on loopback:
 * tests/support/smtp_server.py (aiosmtpd) and http_receiver.py.
 *
 * A peer is started on a free port (the script binds port 0 and reports the
 * port it got), records what it receives as JSON files in a fresh folder,
 * and dies with the process that started it. Nothing here uses Check, so
 * the benchmarks use it too.
 */
#ifndef WF_PEERS_H
#define WF_PEERS_H

#include <cjson/cJSON.h>
#include <sys/types.h>

typedef struct {
	pid_t pid;
	int port;
	char dir[64];		/* the peer's recordings (and cert.pem for a TLS SMTP peer) */
	char ca_file[96];	/* dir/cert.pem */
} peer_t;

/*
 * Starts tests/support/<script> with /usr/bin/python3 (WF_PYTHON overrides)
 * and args (NULL-terminated; "--dir <folder> --remove-dir" is added, so the
 * peer removes its folder when it ends, also when a failed test never
 * stopped it), and waits up to 10 seconds for it to listen. Returns the peer, or NULL with one line in err.
 * The script is found under WF_SOURCE_ROOT, else the source root this file
 * was built from. Free with peer_stop().
 */
peer_t *peer_start(const char *script, const char *const *args, char *err, size_t errlen);

/* peer_start, failing the current Check test when the peer does not start. */
peer_t *peer_must_start(const char *script, const char *const *args);

/* Stops the peer (SIGTERM, then SIGKILL after 2 s) and removes its folder. NULL is fine. */
void peer_stop(peer_t *peer);

/* How many "<prefix>-NNNNNN.json" files the peer has written ("msg" or "req"). */
int peer_count(const peer_t *peer, const char *prefix);

/*
 * The n-th (from 1) "<prefix>-NNNNNN.json" record, parsed, waiting up to
 * timeout_ms for it to appear; NULL when it does not. Caller owns the tree.
 */
cJSON *peer_record(const peer_t *peer, const char *prefix, int n, int timeout_ms);

/* A loopback port nobody listens on (bound, then closed). */
int peer_closed_port(void);

/* The value of header name (any case) in a record's "headers" list of [name, value]; NULL if absent. */
const char *peer_header(const cJSON *record, const char *name);

#endif
