/*
 * test_alloc_tuning.c - what alloc_tune_for_rounds() changes in glibc's
 * malloc: freed small blocks wait in no fastbin, and a round-sized buffer
 * (here 512 kB) comes from the heap rather than from a mapping of its own.
 *
 * Each measurement runs in a fresh child process, tuned or not, so the
 * settings of one never leak into another whatever Check's fork mode. The
 * untuned measurements show that the tuned ones could fail. Not built with
 * AddressSanitizer, whose allocator replaces glibc's (tests/meson.build).
 */
#include <check.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_tuning.h"
#include "runner.h"

#define SMALL_BLOCKS 64 /* well beyond the 7 a tcache bin holds */
#define SMALL_SIZE 48
#define ROUND_BUFFER (512 * 1024)

typedef struct {
	size_t fastbin_bytes;	/* mallinfo2().fsmblks after the small blocks were freed */
	size_t mapped_blocks;	/* mallinfo2().hblks while the round buffer is held */
} measure_t;

static void measure_here(bool tuned, measure_t *m)
{
	void *volatile blocks[SMALL_BLOCKS];
	char *volatile buffer;

	if (tuned)
		alloc_tune_for_rounds();
	for (int i = 0; i < SMALL_BLOCKS; i++) {
		blocks[i] = malloc(SMALL_SIZE);
		memset(blocks[i], 'x', SMALL_SIZE);
	}
	for (int i = 0; i < SMALL_BLOCKS; i++)
		free(blocks[i]);
	m->fastbin_bytes = mallinfo2().fsmblks;
	buffer = malloc(ROUND_BUFFER);
	memset(buffer, 'x', ROUND_BUFFER);
	m->mapped_blocks = mallinfo2().hblks;
	free(buffer);
}

/* The measurement, taken in a child process that starts with glibc's defaults. */
static measure_t measure(bool tuned)
{
	measure_t m = { 0 };
	int fds[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		measure_here(tuned, &m);
		_exit(write(fds[1], &m, sizeof(m)) == (ssize_t)sizeof(m) ? 0 : 1);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &m, sizeof(m)), (ssize_t)sizeof(m));
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return m;
}

START_TEST(freed_small_blocks_wait_in_no_fastbin)
{
	measure_t untuned = measure(false), tuned = measure(true);

	/* glibc's default: the blocks beyond the tcache go to a fastbin. */
	ck_assert_uint_gt(untuned.fastbin_bytes, 0);
	ck_assert_uint_eq(tuned.fastbin_bytes, 0);
}
END_TEST

START_TEST(a_round_sized_buffer_comes_from_the_heap)
{
	measure_t untuned = measure(false), tuned = measure(true);

	/* glibc's default threshold is 128 kB: a buffer of 512 kB is a mapping of its own. */
	ck_assert_uint_eq(untuned.mapped_blocks, 1);
	ck_assert_uint_eq(tuned.mapped_blocks, 0);
}
END_TEST

RUNNER_MAIN("alloc_tuning", 30, freed_small_blocks_wait_in_no_fastbin, a_round_sized_buffer_comes_from_the_heap)
