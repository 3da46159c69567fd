/*
 * slot.h - what a worker child tells its pool parent, through shared memory.
 *
 * The parent maps one slot_shared_t per slot before forking. A child writes
 * its registry id, a heartbeat and its progress; the parent reads them to
 * heartbeat the registry on the children's behalf (a child busy in a long
 * step cannot), to find the steps of a child that died, and to kill a child
 * that stopped making progress.
 */
#ifndef WF_SLOT_H
#define WF_SLOT_H

#include <stdatomic.h>
#include <stdint.h>

#define SLOT_STEP_MAX 128

typedef struct {
	_Atomic int64_t worker_id;	/* wf_workers.id; 0 until registered */
	_Atomic uint64_t steps_done;		/* claimed, and the nodes run in line after them */
	_Atomic uint64_t steps_completed;
	_Atomic uint64_t steps_failed;
	_Atomic uint64_t steps_retried;
	_Atomic int64_t beat_ms;	/* monotonic ms of the child's last sign of life */
	_Atomic uint32_t step_seq;	/* seqlock over current_step: odd while writing */
	char current_step[SLOT_STEP_MAX];	/* "execution/node", "" when idle */
} slot_shared_t;

/* Child side: record the step in hand (NULL or "" when idle). */
void slot_set_step(slot_shared_t *slot, const char *step);
/* Parent side: copy the step in hand into buf. */
void slot_get_step(slot_shared_t *slot, char *buf, size_t size);
/* Child side: a sign of life. */
void slot_beat(slot_shared_t *slot);

#endif
