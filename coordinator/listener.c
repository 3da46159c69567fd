/*
 * listener.c - LISTEN on the event loop without blocking it.
 */
#include "listener.h"

#include <stdio.h>

#include "log.h"

#define RETRY_MS 1000

static void connect_work(uv_work_t *req);
static void connect_done(uv_work_t *req, int status);

static void queue_connect(listener_t *l)
{
	if (l->stopping)
		return;
	l->working = true;
	l->work.data = l;
	uv_queue_work(l->loop, &l->work, connect_work, connect_done);
}

static void on_retry(uv_timer_t *timer)
{
	queue_connect(timer->data);
}

/* One of the things a stop waits for is done; the last one frees the connection. */
static void stop_step_done(listener_t *l)
{
	if (--l->pending_closes == 0)
		db_free(l->db);
}

static void on_poll_closed(uv_handle_t *handle)
{
	listener_t *l = handle->data;

	l->poll_closing = false;
	if (l->stopping)
		stop_step_done(l);
	else
		queue_connect(l);
}

static void close_poll(listener_t *l)
{
	l->polling = false;
	l->poll_closing = true;
	uv_poll_stop(&l->poll);
	uv_close((uv_handle_t *)&l->poll, on_poll_closed);
}

static void lost(listener_t *l)
{
	if (l->polling)
		close_poll(l);
}

static void on_readable(uv_poll_t *handle, int status, int events)
{
	listener_t *l = handle->data;
	PGconn *conn = db_conn(l->db);
	PGnotify *n;

	if (status < 0 || !PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
		log_warn("notification connection lost; reconnecting");
		lost(l);
		return;
	}
	while ((n = PQnotifies(conn)) != NULL) {
		l->on_notify(l->data, n->relname, n->extra);
		PQfreemem(n);
	}
}

/* Threadpool: connect and LISTEN; the loop does not touch l->db meanwhile. */
static void connect_work(uv_work_t *req)
{
	listener_t *l = req->data;

	l->connected_ok = false;
	if (db_connect(l->db) < 0)
		return;
	for (const char *const *ch = l->channels; *ch; ch++) {
		char sql[128];

		/* Channel names are constants of the program, not input. */
		snprintf(sql, sizeof(sql), "LISTEN %s", *ch);
		if (db_command(l->db, sql, 0, NULL) < 0)
			return;
	}
	PQsetnonblocking(db_conn(l->db), 1);
	l->connected_ok = true;
}

static void connect_done(uv_work_t *req, int status)
{
	listener_t *l = req->data;

	l->working = false;
	if (l->stopping) {
		stop_step_done(l);
		return;
	}
	if (!l->connected_ok) {
		uv_timer_start(&l->retry, on_retry, RETRY_MS, 0);
		return;
	}
	uv_poll_init(l->loop, &l->poll, PQsocket(db_conn(l->db)));
	l->poll.data = l;
	uv_poll_start(&l->poll, UV_READABLE, on_readable);
	l->polling = true;
	if (l->on_reconnect)
		l->on_reconnect(l->data);
}

void listener_start(listener_t *l, uv_loop_t *loop, const wf_config_t *cfg,
		    const char *const *channels, listener_notify_cb on_notify,
		    listener_reconnect_cb on_reconnect, void *data)
{
	l->loop = loop;
	l->db = db_new(cfg, "wf-coordinator listen");
	l->channels = channels;
	l->on_notify = on_notify;
	l->on_reconnect = on_reconnect;
	l->data = data;
	l->polling = l->poll_closing = l->stopping = l->working = false;
	uv_timer_init(loop, &l->retry);
	l->retry.data = l;
	queue_connect(l);
}

static void on_timer_closed(uv_handle_t *handle)
{
	stop_step_done(handle->data);
}

void listener_stop(listener_t *l)
{
	if (l->stopping)
		return;
	l->stopping = true;
	/* The connection is freed when the last of our handles (or a connect in flight) is done. */
	l->pending_closes = 1;
	uv_close((uv_handle_t *)&l->retry, on_timer_closed);
	if (l->polling) {
		l->pending_closes++;
		close_poll(l);
	} else if (l->poll_closing) {
		l->pending_closes++;
	} else if (l->working) {
		/* A connect is queued or running: its completion finishes the stop. */
		l->pending_closes++;
	}
}
