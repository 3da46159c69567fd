/*
 * peers_check.c - peer_must_start for the Check tests; kept apart from
 * peers.c, which the benchmarks link without Check.
 */
#include <check.h>

#include "peers.h"

peer_t *peer_must_start(const char *script, const char *const *args)
{
	char err[256];
	peer_t *peer = peer_start(script, args, err, sizeof(err));

	ck_assert_msg(peer != NULL, "%s", err);
	return peer;
}
