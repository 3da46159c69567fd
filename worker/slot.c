/*
 * slot.c - the shared-memory slot a child reports through.
 */
#include <stddef.h>
#include <string.h>

#include "slot.h"
#include "wftime.h"

void slot_set_step(slot_shared_t *slot, const char *step)
{
	uint32_t seq = atomic_load(&slot->step_seq);

	atomic_store(&slot->step_seq, seq + 1);
	atomic_thread_fence(memory_order_release);
	strncpy(slot->current_step, step ? step : "", SLOT_STEP_MAX - 1);
	slot->current_step[SLOT_STEP_MAX - 1] = '\0';
	atomic_thread_fence(memory_order_release);
	atomic_store(&slot->step_seq, seq + 2);
}

void slot_get_step(slot_shared_t *slot, char *buf, size_t size)
{
	for (int tries = 0; tries < 100; tries++) {
		uint32_t before = atomic_load(&slot->step_seq);

		if (before & 1)
			continue;
		atomic_thread_fence(memory_order_acquire);
		strncpy(buf, slot->current_step, size - 1);
		buf[size - 1] = '\0';
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load(&slot->step_seq) == before)
			return;
	}
	buf[0] = '\0';
}

void slot_beat(slot_shared_t *slot)
{
	atomic_store(&slot->beat_ms, (int64_t)wftime_monotonic_ms());
}
