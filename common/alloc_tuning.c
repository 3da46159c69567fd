/*
 * alloc_tuning.c - glibc malloc settings for the daemons' round-sized buffers.
 *
 * A worker's round prints its outcomes as one JSON text of 100 to 200 KB,
 * grown by realloc and shrunk to size at the end; the coordinator's intake
 * batch does the same. Above glibc's mmap threshold (128 KB, then raised to
 * the size of the last mapped block freed) each such buffer was its own
 * mmap, and its free a munmap: the shrunk block set the threshold below the
 * next round's peak, so the pattern never settled. A munmap flushes the
 * TLB of every CPU the process ran on (an IPI to the other core, which runs
 * PostgreSQL), and the heap's top was trimmed by brk as often: about a
 * tenth of a worker child's CPU in the throughput bench (perf record -a).
 * Fixed thresholds end it; the heap stays at its peak, a few MB at most.
 */
#include "alloc_tuning.h"

#include <malloc.h>

void alloc_tune_for_rounds(void)
{
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
}
