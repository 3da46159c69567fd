/*
 * listener.h - the coordinator's LISTEN connection, driven by the loop.
 *
 * Notifications are read without blocking (uv_poll on the socket). When the
 * connection breaks, reconnecting happens on the threadpool, and on_reconnect
 * runs afterwards on the loop: notifications sent meanwhile are lost, so the
 * owner catches up (polls) there.
 */
#ifndef WF_LISTENER_H
#define WF_LISTENER_H

#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "db.h"

typedef void (*listener_notify_cb)(void *data, const char *channel, const char *payload);
typedef void (*listener_reconnect_cb)(void *data);

typedef struct {
	uv_loop_t *loop;
	db_t *db;
	const char *const *channels;	/* NULL-terminated */
	listener_notify_cb on_notify;
	listener_reconnect_cb on_reconnect;
	void *data;
	uv_poll_t poll;
	uv_work_t work;
	uv_timer_t retry;
	bool polling;
	bool poll_closing;
	bool working;		/* a connect is queued or running on the threadpool */
	bool connected_ok;	/* result of the last reconnect attempt */
	bool stopping;
	int pending_closes;
} listener_t;

/* Starts listening (connects on the threadpool). channels must outlive the listener. */
void listener_start(listener_t *l, uv_loop_t *loop, const wf_config_t *cfg,
		    const char *const *channels, listener_notify_cb on_notify,
		    listener_reconnect_cb on_reconnect, void *data);
/* Stops and closes its handles; the connection is freed once they are closed. */
void listener_stop(listener_t *l);

#endif
