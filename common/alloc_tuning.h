/*
 * alloc_tuning.h - glibc malloc settings for the daemons' round-sized buffers.
 */
#ifndef WF_ALLOC_TUNING_H
#define WF_ALLOC_TUNING_H

/*
 * Serves buffers up to 1 MB from the heap and keeps up to 4 MB of free heap,
 * instead of mapping and unmapping them every round, and keeps freed small
 * blocks out of fastbins. Call once, early in main (a worker's children
 * inherit it).
 */
void alloc_tune_for_rounds(void);

#endif
