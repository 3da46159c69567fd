/*
 * scratch.h - a throwaway folder for a test's files, and writing files in it.
 */
#ifndef WF_SCRATCH_H
#define WF_SCRATCH_H

#include <stddef.h>

/* Creates a new empty folder under /tmp; its path goes to dir (at least 32 bytes). Aborts the test on failure. */
void scratch_make(char *dir, size_t len);
/* Removes the folder and everything in it. */
void scratch_remove(const char *dir);
/*
 * Writes text to dir/rel, creating the folders rel names. The full path goes
 * to path when it is not NULL. Aborts the test on failure.
 */
void scratch_put(const char *dir, const char *rel, const char *text, char *path, size_t pathlen);

#endif
