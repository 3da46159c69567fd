/*
 * scratch.c - throwaway folders for tests that read files.
 */
#include "scratch.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void scratch_make(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/wf-test-XXXXXX");
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp failed");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void scratch_remove(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void scratch_put(const char *dir, const char *rel, const char *text, char *path, size_t pathlen)
{
	char full[512];
	FILE *f;

	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	for (char *slash = strchr(full + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(full, 0755);
		*slash = '/';
	}
	f = fopen(full, "w");
	ck_assert_msg(f != NULL, "could not write %s", full);
	fputs(text, f);
	fclose(f);
	if (path)
		snprintf(path, pathlen, "%s", full);
}
