/*
 * dbpool.c - thread-local connections for the threadpool.
 */
#include "dbpool.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define DBPOOL_MAX 128

/*
 * A dead database host or a lost network path is noticed after about a
 * minute: keepalive probes start after 30 s of silence (the system default is
 * two hours), three lost probes 10 s apart end the connection, and so does
 * data left unacknowledged for 60 s. The query blocked on it then fails and
 * its thread reconnects, instead of holding one of the few threadpool threads
 * for good.
 */
#define KEEPALIVE_IDLE_S 30
#define KEEPALIVE_INTERVAL_S 10
#define KEEPALIVE_COUNT 3
#define USER_TIMEOUT_MS 60000

static const wf_config_t *pool_cfg;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static db_t *pool_all[DBPOOL_MAX];
static int pool_count;
static _Thread_local db_t *thread_db;

/*
 * libpq turns keepalives on but leaves their timing to the system, and the
 * settings that would tune them (keepalives_idle and friends) are not among
 * the connection parameters the configuration gives; so they are set on the
 * socket here, as libpq itself would. A Unix-domain socket has no peer to
 * lose and is left alone.
 */
static void set_keepalives(db_t *db)
{
	int fd = PQsocket(db_conn(db));
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	const int on = 1, idle = KEEPALIVE_IDLE_S, interval = KEEPALIVE_INTERVAL_S, count = KEEPALIVE_COUNT;
	const unsigned int user_timeout = USER_TIMEOUT_MS;

	if (fd < 0 || getsockname(fd, (struct sockaddr *)&addr, &len) < 0 ||
	    (addr.ss_family != AF_INET && addr.ss_family != AF_INET6))
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout)) < 0)
		log_warn("could not set TCP keepalives on a database connection: %s", strerror(errno));
}

void dbpool_init(const wf_config_t *cfg)
{
	pool_cfg = cfg;
}

db_t *dbpool_get(void)
{
	if (thread_db == NULL) {
		thread_db = db_new(pool_cfg, "wf-coordinator");
		/* Remembered so that dbpool_close_all can close it from the main thread. */
		pthread_mutex_lock(&pool_lock);
		if (pool_count < DBPOOL_MAX)
			pool_all[pool_count++] = thread_db;
		pthread_mutex_unlock(&pool_lock);
	}
	if (!db_connected(thread_db)) {
		if (db_connect(thread_db) < 0)
			return NULL;
		set_keepalives(thread_db);
	}
	return thread_db;
}

void dbpool_close_all(void)
{
	pthread_mutex_lock(&pool_lock);
	for (int i = 0; i < pool_count; i++)
		db_free(pool_all[i]);
	pool_count = 0;
	pthread_mutex_unlock(&pool_lock);
}
