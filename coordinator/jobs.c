/*
 * jobs.c - single-flight background jobs on the libuv threadpool.
 */
#include "jobs.h"

#include "dbpool.h"
#include "log.h"

static void job_run(uv_work_t *req)
{
	job_t *job = req->data;
	db_t *db = dbpool_get();
	int rc = db ? job->work(job, db) : -1;

	if (rc < 0) {
		if (job->failures++ == 0)
			log_warn("%s failed; will retry", job->name);
	} else if (job->failures > 0) {
		log_info("%s works again", job->name);
		job->failures = 0;
	}
}

static void job_done(uv_work_t *req, int status)
{
	job_t *job = req->data;

	job->running = false;
	if (job->again && !job->stopped) {
		job->again = false;
		job_kick(job);
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

static void job_tick(uv_timer_t *timer)
{
	job_kick(timer->data);
}

void job_init(job_t *job, uv_loop_t *loop, const char *name, job_work_cb work, void *data,
	      uint64_t interval_ms)
{
	job->name = name;
	job->work = work;
	job->data = data;
	job->loop = loop;
	job->running = job->again = job->stopped = false;
	job->failures = 0;
	uv_timer_init(loop, &job->timer);
	job->timer.data = job;
	if (interval_ms > 0)
		uv_timer_start(&job->timer, job_tick, interval_ms, interval_ms);
}

void job_stop(job_t *job)
{
	if (job->stopped)
		return;
	job->stopped = true;
	uv_timer_stop(&job->timer);
	uv_close((uv_handle_t *)&job->timer, NULL);
}

bool job_busy(const job_t *job)
{
	return job->running;
}
