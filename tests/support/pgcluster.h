/*
 * pgcluster.h - a private PostgreSQL cluster for a test that must restart
 * (or crash) the server, which the shared test cluster cannot allow. It
 * uses deploy/lib.sh's functions, so it runs the cluster as the postgres
 * user when the test runs as root, as CI does.
 */
#ifndef WF_PGCLUSTER_H
#define WF_PGCLUSTER_H

typedef struct {
	char dir[96];
	int port;
} pgcluster_t;

/* Creates and starts a cluster in a fresh folder; points PGHOST/PGPORT at it. Aborts the test on failure. */
void pgcluster_start(pgcluster_t *c);
/* Restarts it; immediate = like a crash (no checkpoint, clients cut off). */
void pgcluster_restart(pgcluster_t *c, int immediate);
/* Stops it and removes its folder. */
void pgcluster_destroy(pgcluster_t *c);

#endif
