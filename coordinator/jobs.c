/*
 * jobs.c - single-flight background jobs on the libuv threadpool.
 */
#include "jobs.h"

#include "dbpool.h"
#include "log.h"

/*
 * The backoff of a job whose connection was lost: soon enough that work
 * waiting after a server restart or a terminated session starts within a
 * second or so, capped so that an outage costs one attempt per job every
 * few seconds.
 */
#define JOB_RETRY_MIN_MS 100
#define JOB_RETRY_MAX_MS 5000

static void job_run(uv_work_t *req)
{
	job_t *job = req->data;
	db_t *db = dbpool_get();
	int rc = db ? job->work(job, db) : -1;

	/* A failed query on a connection the server ended leaves it broken. */
	job->lost = rc < 0 && (db == NULL || !db_connected(db));
	if (rc < 0) {
		if (job->failures++ == 0)
			log_warn("%s failed; will retry", job->name);
	} else if (job->failures > 0) {
		log_info("%s works again", job->name);
		job->failures = 0;
	}
}

static void job_tick(uv_timer_t *timer)
{
	job_kick(timer->data);
}

static void job_done(uv_work_t *req, int status)
{
	job_t *job = req->data;
	uint64_t delay = 0;

	job->running = false;
	if (job->stopped)
		return;
	if (job->lost) {
		/*
		 * The next run gets a fresh connection, so the work (trigger rows
		 * announced by a NOTIFY that is not sent again, say) need not
		 * wait for the interval, which may be long.
		 */
		delay = job->backoff_ms > 0 ? job->backoff_ms : JOB_RETRY_MIN_MS;
		job->backoff_ms = delay * 2 < JOB_RETRY_MAX_MS ? delay * 2 : JOB_RETRY_MAX_MS;
	} else {
		job->backoff_ms = 0;
		uv_timer_stop(&job->retry);
	}
	if (job->again) {
		job->again = false;
		job_kick(job);
	} else if (delay > 0) {
		uv_timer_start(&job->retry, job_tick, delay, 0);
	}
}

void job_kick(job_t *job)
{
	if (job->stopped)
		return;
	if (job->running) {
		job->again = true;
		return;
	}
	job->running = true;
	job->req.data = job;
	uv_queue_work(job->loop, &job->req, job_run, job_done);
}

void job_init(job_t *job, uv_loop_t *loop, const char *name, job_work_cb work, void *data,
	      uint64_t interval_ms)
{
	job->name = name;
	job->work = work;
	job->data = data;
	job->loop = loop;
	job->running = job->again = job->stopped = job->lost = false;
	job->failures = 0;
	job->backoff_ms = 0;
	uv_timer_init(loop, &job->timer);
	job->timer.data = job;
	uv_timer_init(loop, &job->retry);
	job->retry.data = job;
	if (interval_ms > 0)
		uv_timer_start(&job->timer, job_tick, interval_ms, interval_ms);
}

void job_stop(job_t *job)
{
	if (job->stopped)
		return;
	job->stopped = true;
	uv_timer_stop(&job->timer);
	uv_timer_stop(&job->retry);
	uv_close((uv_handle_t *)&job->timer, NULL);
	uv_close((uv_handle_t *)&job->retry, NULL);
}

bool job_busy(const job_t *job)
{
	return job->running;
}
