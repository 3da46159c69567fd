/*
 * pool.c - the pool parent, after nginx's master process.
 *
 * Signal handlers only set flags; the parent sleeps in sigsuspend() and
 * does all work in its loop: reaping and respawning children (with backoff
 * when one keeps dying soon after start, and never for exit code 2, a fatal
 * configuration error), scaling by SIGTTIN/SIGTTOU, replacing all children
 * on SIGHUP (once the new settings and templates have loaded here; else
 * the running ones stay), draining on SIGTERM with SIGKILL after
 * WORKER_GRACE_S.
 *
 * A SIGALRM tick every 500 ms heartbeats the registry for all children from
 * their shared-memory slots (a child busy in a long step cannot) at least
 * four times within WORKER_DEAD_AFTER_S and every 2 s at most, kills a
 * child that has shown no sign of life for longer than a step may take, and
 * retries database work that failed while the database was away.
 *
 * When a child dies holding steps, the parent puts them back in the queue at
 * once (wf_release_worker_steps), so another child claims them within
 * milliseconds rather than after a lease expires.
 */
#include "pool.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "db.h"
#include "json.h"
#include "log.h"
#include "services.h"
#include "slot.h"
#include "wftime.h"

#define POOL_SLOTS_MAX 256
#define TICK_MS 500
#define HEARTBEAT_MAX_MS 2000
#define QUICK_DEATH_MS 5000
#define RESPAWN_BACKOFF_MAX_MS 30000
#define FAST_EXIT_WAIT_MS 1000
#define PENDING_MAX 1024

/* A dead child's steps still to put back, with the execution it was running. */
typedef struct {
	int64_t worker_id;
	char running[40];
} pending_release_t;

typedef enum { SLOT_EMPTY, SLOT_RUNNING, SLOT_STOPPING } slot_state_t;

typedef struct {
	slot_state_t state;
	pid_t pid;
	bool retire;		/* do not respawn when it exits (scale-down, shutdown) */
	double started_ms;
	int quick_deaths;
	double respawn_at_ms;	/* 0: no respawn due */
} pool_slot_t;

typedef struct {
	wf_config_t *cfg;
	pool_slot_t slots[POOL_SLOTS_MAX];
	slot_shared_t *shared;	/* POOL_SLOTS_MAX entries, MAP_SHARED */
	int target;
	db_t *db;
	pending_release_t pending[PENDING_MAX];
	int npending;
	bool draining;
	bool fatal;		/* a child exited with code 2: the configuration is bad, start no more */
	double drain_deadline_ms;
	double last_heartbeat_ms;
} pool_t;

static volatile sig_atomic_t sig_child, sig_term, sig_quit, sig_hup, sig_ttin, sig_ttou, sig_alarm;

static void on_signal(int sig)
{
	switch (sig) {
	case SIGCHLD: sig_child = 1; break;
	case SIGTERM: sig_term = 1; break;
	case SIGINT:
	case SIGQUIT: sig_quit = 1; break;
	case SIGHUP: sig_hup = 1; break;
	case SIGTTIN: sig_ttin = 1; break;
	case SIGTTOU: sig_ttou = 1; break;
	case SIGALRM: sig_alarm = 1; break;
	}
}

static const int pool_signals[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN, SIGTTOU, SIGALRM };
#define NSIGNALS ((int)(sizeof(pool_signals) / sizeof(pool_signals[0])))

static void setup_signals(sigset_t *blocked)
{
	struct sigaction sa;
	struct itimerval tick = { { 0, TICK_MS * 1000 }, { 0, TICK_MS * 1000 } };

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(blocked);
	for (int i = 0; i < NSIGNALS; i++) {
		sigaction(pool_signals[i], &sa, NULL);
		sigaddset(blocked, pool_signals[i]);
	}
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* Blocked except inside sigsuspend(), so no signal is missed between checks. */
	sigprocmask(SIG_BLOCK, blocked, NULL);
	setitimer(ITIMER_REAL, &tick, NULL);
}

static int live_children(const pool_t *p)
{
	int n = 0;

	for (int i = 0; i < POOL_SLOTS_MAX; i++)
		n += p->slots[i].state != SLOT_EMPTY;
	return n;
}

static int running_children(const pool_t *p)
{
	int n = 0;

	for (int i = 0; i < POOL_SLOTS_MAX; i++)
		n += p->slots[i].state == SLOT_RUNNING && !p->slots[i].retire;
	return n;
}

static bool pool_db_ready(pool_t *p)
{
	if (db_connected(p->db))
		return true;
	return db_connect(p->db) == 0;
}

/*
 * Puts a dead child's steps back in the queue; remembered until the database
 * answers. running: the execution it was in the middle of ("" if none).
 */
static void release_steps(pool_t *p, int64_t worker_id, const char *running, const char *reason)
{
	char id[24];
	const char *params[3] = { id, reason, *running ? running : NULL };
	PGresult *res;

	if (worker_id == 0)
		return;
	snprintf(id, sizeof(id), "%" PRId64, worker_id);
	if (pool_db_ready(p)) {
		res = db_query(p->db, "SELECT wf_release_worker_steps($1::bigint, $2, $3::uuid)", 3, params);
		if (db_ok(res)) {
			int n = atoi(PQgetvalue(res, 0, 0));

			if (n > 0)
				log_info("released %d step%s of worker %" PRId64, n, n == 1 ? "" : "s",
					 worker_id);
			PQclear(res);
			return;
		}
		PQclear(res);
	}
	if (p->npending < PENDING_MAX) {
		p->pending[p->npending].worker_id = worker_id;
		/* An execution id is 36 characters; anything longer was never one. */
		snprintf(p->pending[p->npending].running, sizeof(p->pending[0].running), "%.*s",
			 (int)sizeof(p->pending[0].running) - 1, running);
		p->npending++;
	}
}

static void retry_pending_releases(pool_t *p)
{
	pending_release_t pending[PENDING_MAX];
	int n = p->npending;

	memcpy(pending, p->pending, sizeof(pending[0]) * (size_t)n);
	p->npending = 0;
	for (int i = 0; i < n; i++)
		release_steps(p, pending[i].worker_id, pending[i].running,
			      "worker died while the database was away");
}

static void spawn(pool_t *p, int i)
{
	pool_slot_t *s = &p->slots[i];
	slot_shared_t *shared = &p->shared[i];
	pid_t pid;

	memset(shared, 0, sizeof(*shared));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		log_error("could not fork a worker: %s", strerror(errno));
		s->respawn_at_ms = wftime_monotonic_ms() + 1000;
		return;
	}
	if (pid == 0) {
		/*
		 * The parent's connection is not ours: closing its socket is enough;
		 * PQfinish would end the parent's session on the server.
		 */
		if (db_conn(p->db) && PQsocket(db_conn(p->db)) >= 0)
			close(PQsocket(db_conn(p->db)));
		_exit(child_main(p->cfg, i, shared));
	}
	s->state = SLOT_RUNNING;
	s->pid = pid;
	s->retire = false;
	s->started_ms = wftime_monotonic_ms();
	s->respawn_at_ms = 0;
	log_info("started worker %d (pid %d)", i, (int)pid);
}

/*
 * Starts children until the running count meets the target. Slots are 0 to
 * target - 1, so a slot waiting out its respawn backoff is not filled by
 * another one meanwhile.
 */
static void fill_slots(pool_t *p)
{
	double now = wftime_monotonic_ms();
	int running = running_children(p);

	if (p->draining || p->fatal)
		return;
	for (int i = 0; i < p->target && running < p->target; i++) {
		pool_slot_t *s = &p->slots[i];

		if (s->state != SLOT_EMPTY)
			continue;
		if (s->respawn_at_ms > now)
			continue;
		spawn(p, i);
		if (s->state == SLOT_RUNNING)
			running++;
	}
}

/* A dead child's last counters, which its final heartbeat may not have carried. */
static void record_final_counters(pool_t *p, int i)
{
	slot_shared_t *sh = &p->shared[i];
	char v[5][24];
	const char *params[5] = { v[0], v[1], v[2], v[3], v[4] };

	if (atomic_load(&sh->worker_id) == 0 || !pool_db_ready(p))
		return;
	snprintf(v[0], sizeof(v[0]), "%" PRId64, atomic_load(&sh->worker_id));
	snprintf(v[1], sizeof(v[1]), "%" PRIu64, atomic_load(&sh->steps_done));
	snprintf(v[2], sizeof(v[2]), "%" PRIu64, atomic_load(&sh->steps_completed));
	snprintf(v[3], sizeof(v[3]), "%" PRIu64, atomic_load(&sh->steps_failed));
	snprintf(v[4], sizeof(v[4]), "%" PRIu64, atomic_load(&sh->steps_retried));
	db_command(p->db,
		   "UPDATE wf_workers SET steps_done = $2::bigint, steps_completed = $3::bigint,"
		   "       steps_failed = $4::bigint, steps_retried = $5::bigint WHERE id = $1::bigint",
		   5, params);
}

static void child_exited(pool_t *p, int i, int status)
{
	pool_slot_t *s = &p->slots[i];
	int64_t worker_id = atomic_load(&p->shared[i].worker_id);
	double now = wftime_monotonic_ms();
	/* A Ctrl-C reaches the children with the parent: their exit then is no surprise. */
	bool expected = s->state == SLOT_STOPPING || p->draining || sig_term || sig_quit;
	char reason[96];
	char running[SLOT_STEP_MAX];

	if (WIFEXITED(status))
		snprintf(reason, sizeof(reason), "worker exited with code %d", WEXITSTATUS(status));
	else
		snprintf(reason, sizeof(reason), "worker killed by signal %d", WTERMSIG(status));
	if (!expected || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_warn("worker %d (pid %d): %s", i, (int)s->pid, reason);
	/*
	 * The slot's step reads "execution/node": the execution is what it was
	 * running, and a crash counts against that step's budget. An exit with
	 * code 0 is no crash (a fast exit on SIGINT or SIGQUIT leaves
	 * mid-step), nor is the SIGKILL this pool sends after a grace period;
	 * the steps then go back to the queue without blame. Any other signal,
	 * during a drain too, is still the step's.
	 */
	slot_get_step(&p->shared[i], running, sizeof(running));
	running[strcspn(running, "/")] = '\0';
	if ((WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_OK) ||
	    (expected && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		running[0] = '\0';
	record_final_counters(p, i);
	release_steps(p, worker_id, running, reason);
	/* A clean exit the pool asked for (a fast exit leaves before saying so itself) is a stop, not a death. */
	if (expected && WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_OK && pool_db_ready(p))
		child_record_stopped(p->db, worker_id);

	s->state = SLOT_EMPTY;
	s->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_EXIT_FATAL) {
		log_error("worker %d reported a fatal configuration error; starting no more workers", i);
		p->fatal = true;
		return;
	}
	if (expected) {
		s->quick_deaths = 0;
		s->respawn_at_ms = 0;
		return;
	}
	/* A child that keeps dying right after start waits longer each time. */
	if (now - s->started_ms < QUICK_DEATH_MS) {
		double backoff = 100.0 * (1 << (s->quick_deaths < 9 ? s->quick_deaths : 9));

		s->quick_deaths++;
		s->respawn_at_ms = now + (backoff < RESPAWN_BACKOFF_MAX_MS ? backoff : RESPAWN_BACKOFF_MAX_MS);
	} else {
		s->quick_deaths = 0;
		s->respawn_at_ms = 0;
	}
}

static void reap(pool_t *p)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			return;
		for (int i = 0; i < POOL_SLOTS_MAX; i++) {
			if (p->slots[i].state != SLOT_EMPTY && p->slots[i].pid == pid) {
				child_exited(p, i, status);
				break;
			}
		}
	}
}

static void stop_child(pool_t *p, int i, int sig, bool retire)
{
	pool_slot_t *s = &p->slots[i];

	if (s->state == SLOT_EMPTY)
		return;
	s->state = SLOT_STOPPING;
	s->retire = s->retire || retire;
	kill(s->pid, sig);
}

/*
 * The number of children to run for a wanted count: at most one per slot,
 * since fill_slots() indexes the slot arrays by child. The settings keep
 * WORKER_PROCESSES in range too, but a count that slips past them (the
 * number of CPUs of a large host, say) must not write past the arrays.
 */
static int slot_target(int wanted, const char *source)
{
	if (wanted > POOL_SLOTS_MAX) {
		log_error("%s asks for %d workers; a pool runs at most %d, so it runs %d", source, wanted,
			  POOL_SLOTS_MAX, POOL_SLOTS_MAX);
		return POOL_SLOTS_MAX;
	}
	return wanted;
}

static void scale(pool_t *p, int delta)
{
	if (delta > 0) {
		p->target = slot_target(p->target + 1, "SIGTTIN");
		log_info("scaling up to %d workers", p->target);
		return;
	}
	if (p->target <= 1) {
		log_info("already at one worker; not scaling down");
		return;
	}
	p->target--;
	/* Retire the highest running slot; it drains like on SIGTERM. */
	for (int i = POOL_SLOTS_MAX - 1; i >= 0; i--) {
		if (p->slots[i].state == SLOT_RUNNING && !p->slots[i].retire) {
			stop_child(p, i, SIGTERM, true);
			break;
		}
	}
	log_info("scaling down to %d workers", p->target);
}

/*
 * Loads what a new child would (the settings, then its services: the
 * template set above all), so that a reload the children would die of
 * (exit code 2, which stops the pool) is refused here instead. 0 and the
 * new settings in *out, or -1 with the reason in err.
 */
static int load_for_reload(wf_config_t **out, char *err, size_t errlen)
{
	wf_config_t *fresh = malloc(sizeof(*fresh));
	services_t trial;

	*out = NULL;
	if (fresh == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (config_load(fresh, ".env", err, errlen) < 0) {
		free(fresh);
		return -1;
	}
	if (services_init(&trial, fresh, NULL, err, errlen) < 0) {
		services_free(&trial);
		config_free(fresh);
		free(fresh);
		return -1;
	}
	services_free(&trial);
	*out = fresh;
	return 0;
}

static void reload(pool_t *p)
{
	wf_config_t *fresh;
	char err[512];

	if (load_for_reload(&fresh, err, sizeof(err)) < 0) {
		log_error("reload failed, keeping the running configuration: %s", err);
		return;
	}
	/* Children fork from this config; the running ones keep their copy-on-write view. */
	db_free(p->db);
	config_free(p->cfg);
	free(p->cfg);
	p->cfg = fresh;
	log_context_worker(p->cfg->worker_host, -1);
	p->db = db_new(p->cfg, "wf-worker pool");
	p->target = slot_target(p->cfg->worker_processes, "WORKER_PROCESSES");
	/* The children about to start load what was just checked: give them their chance. */
	p->fatal = false;
	log_info("configuration reloaded; replacing %d workers", live_children(p));
	for (int i = 0; i < POOL_SLOTS_MAX; i++)
		if (p->slots[i].state == SLOT_RUNNING)
			stop_child(p, i, SIGTERM, false);
}

/* Heartbeats every live child's registry row with its progress, in one statement. */
static void heartbeat(pool_t *p)
{
	cJSON *rows = cJSON_CreateArray();
	const char *params[1];
	char *text;

	for (int i = 0; i < POOL_SLOTS_MAX; i++) {
		int64_t id = atomic_load(&p->shared[i].worker_id);
		char step[SLOT_STEP_MAX];
		cJSON *row;

		if (p->slots[i].state == SLOT_EMPTY || id == 0)
			continue;
		slot_get_step(&p->shared[i], step, sizeof(step));
		row = json_object();
		json_add_number(row, "id", (double)id);
		json_add_number(row, "steps", (double)atomic_load(&p->shared[i].steps_done));
		json_add_number(row, "completed", (double)atomic_load(&p->shared[i].steps_completed));
		json_add_number(row, "failed", (double)atomic_load(&p->shared[i].steps_failed));
		json_add_number(row, "retried", (double)atomic_load(&p->shared[i].steps_retried));
		json_add_string(row, "step", step[0] ? step : NULL);
		cJSON_AddItemToArray(rows, row);
	}
	if (cJSON_GetArraySize(rows) > 0 && pool_db_ready(p)) {
		text = json_print(rows);
		params[0] = text;
		db_command(p->db,
			   "UPDATE wf_workers w SET heartbeat_at = now(), steps_done = r.steps,"
			   "       steps_completed = r.completed, steps_failed = r.failed, steps_retried = r.retried,"
			   "       current_step = r.step, status = 'running'"
			   "  FROM jsonb_to_recordset($1::jsonb)"
			   "       AS r(id bigint, steps bigint, completed bigint, failed bigint, retried bigint, step text)"
			   " WHERE w.id = r.id AND w.status <> 'stopped'",
			   1, params);
		free(text);
	}
	cJSON_Delete(rows);
}

/*
 * A child with no sign of life for longer than a step may run is stuck: kill
 * it. The margin over the lease covers a child reconnecting through an
 * outage, which shows life only between attempts: a connect to a host that
 * drops packets blocks for connect_timeout (10 s, config.c) per address of
 * the host, and the retry then sleeps up to 5 s (db.c). A shorter margin for
 * short leases would have such children killed for the whole outage.
 */
#define STUCK_MARGIN_MS 30000.0

static double stuck_after_ms(const wf_config_t *cfg)
{
	return cfg->step_lease_s * 1000.0 + STUCK_MARGIN_MS;
}

static void kill_stuck(pool_t *p)
{
	double now = wftime_monotonic_ms();
	double limit = stuck_after_ms(p->cfg);

	for (int i = 0; i < POOL_SLOTS_MAX; i++) {
		int64_t beat = atomic_load(&p->shared[i].beat_ms);

		if (p->slots[i].state == SLOT_RUNNING && beat > 0 && now - beat > limit) {
			log_error("worker %d (pid %d) shows no progress for %.0f s; killing it", i,
				  (int)p->slots[i].pid, (now - beat) / 1000);
			kill(p->slots[i].pid, SIGKILL);
		}
	}
}

/*
 * Four heartbeats within WORKER_DEAD_AFTER_S: a coordinator with the same
 * setting then never takes a live pool for a dead one, even when the
 * setting is as short as it may be (2 s), while a long one still shows a
 * stopped pool within 2 s in wf_fleet.
 */
static double heartbeat_every_ms(const wf_config_t *cfg)
{
	double ms = cfg->worker_dead_after_s * 1000.0 / 4;

	return ms < HEARTBEAT_MAX_MS ? ms : HEARTBEAT_MAX_MS;
}

static void tick(pool_t *p)
{
	double now = wftime_monotonic_ms();

	if (p->npending > 0)
		retry_pending_releases(p);
	/* Half a tick of slack: timer ticks do not fall exactly TICK_MS apart. */
	if (now - p->last_heartbeat_ms >= heartbeat_every_ms(p->cfg) - TICK_MS / 2) {
		p->last_heartbeat_ms = now;
		heartbeat(p);
	}
	kill_stuck(p);
	if (p->draining && now > p->drain_deadline_ms) {
		log_warn("grace period over; killing %d workers", live_children(p));
		for (int i = 0; i < POOL_SLOTS_MAX; i++)
			if (p->slots[i].state != SLOT_EMPTY)
				kill(p->slots[i].pid, SIGKILL);
		p->drain_deadline_ms = now + 60000;
	}
}

static void start_drain(pool_t *p)
{
	p->draining = true;
	p->drain_deadline_ms = wftime_monotonic_ms() + p->cfg->worker_grace_s * 1000.0;
	log_info("draining %d workers", live_children(p));
	for (int i = 0; i < POOL_SLOTS_MAX; i++)
		stop_child(p, i, SIGTERM, true);
}

/* SIGINT/SIGQUIT: children exit at once; their steps go straight back to the queue. */
static int fast_exit(pool_t *p)
{
	double deadline = wftime_monotonic_ms() + FAST_EXIT_WAIT_MS;

	log_info("fast exit");
	for (int i = 0; i < POOL_SLOTS_MAX; i++)
		stop_child(p, i, SIGQUIT, true);
	while (live_children(p) > 0 && wftime_monotonic_ms() < deadline) {
		reap(p);
		usleep(10000);
	}
	for (int i = 0; i < POOL_SLOTS_MAX; i++)
		if (p->slots[i].state != SLOT_EMPTY)
			kill(p->slots[i].pid, SIGKILL);
	while (live_children(p) > 0) {
		reap(p);
		usleep(1000);
	}
	return 0;
}

int pool_run(wf_config_t *cfg)
{
	pool_t *p = calloc(1, sizeof(*p));
	sigset_t blocked, empty;
	int rc = 0;

	if (p == NULL)
		return 1;
	p->cfg = cfg;
	p->target = slot_target(cfg->worker_processes, "WORKER_PROCESSES");
	p->db = db_new(cfg, "wf-worker pool");
	p->shared = mmap(NULL, sizeof(slot_shared_t) * POOL_SLOTS_MAX, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->shared == MAP_FAILED) {
		log_error("could not map the worker slots: %s", strerror(errno));
		free(p);
		return 1;
	}
	setup_signals(&blocked);
	sigemptyset(&empty);
	/* The parent's lines carry the pool's host too (no slot: it is none). */
	log_context_worker(cfg->worker_host, -1);
	log_info("pool on %s starting %d workers", cfg->worker_host, p->target);
	fill_slots(p);

	for (;;) {
		sigsuspend(&empty);
		if (sig_child) {
			sig_child = 0;
			reap(p);
		}
		if (sig_quit) {
			rc = fast_exit(p);
			break;
		}
		if (sig_term && !p->draining) {
			sig_term = 0;
			start_drain(p);
		}
		if (sig_hup) {
			sig_hup = 0;
			if (!p->draining)
				reload(p);
		}
		if (sig_ttin) {
			sig_ttin = 0;
			scale(p, +1);
		}
		if (sig_ttou) {
			sig_ttou = 0;
			scale(p, -1);
		}
		if (sig_alarm) {
			sig_alarm = 0;
			tick(p);
		}
		if (p->draining && live_children(p) == 0)
			break;
		if (p->fatal && live_children(p) == 0) {
			rc = CHILD_EXIT_FATAL;
			break;
		}
		fill_slots(p);
	}
	if (p->npending > 0)
		retry_pending_releases(p);
	log_info("pool stopped");
	db_free(p->db);
	munmap(p->shared, sizeof(slot_shared_t) * POOL_SLOTS_MAX);
	config_free(p->cfg);
	free(p->cfg);
	free(p);
	return rc;
}
