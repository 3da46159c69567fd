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
 *
 * Fastbins are off as well. A child's step frees many small blocks (JSON
 * nodes, strings) and then asks for a large one (a rendered body, a
 * result's buffer), and each such request first sweeps the fastbins into
 * the free lists (malloc_consolidate): 1.1% of the machine's CPU in the
 * throughput bench, a tenth of the children's. Without fastbins a freed
 * block beyond the tcache's few is merged when it is freed, and the pool's
 * CPU over the workers' part fell about 9% (docs/performance.md).
 */
#include "alloc_tuning.h"

#include <malloc.h>

void alloc_tune_for_rounds(void)
{
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
	mallopt(M_MXFAST, 0);
}
