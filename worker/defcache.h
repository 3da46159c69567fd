/*
 * defcache.h - the definitions a worker child runs steps under, parsed once
 * per (workflow, version). Versions never change once written, so entries
 * never go stale.
 */
#ifndef WF_DEFCACHE_H
#define WF_DEFCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "definition.h"

typedef struct defcache defcache_t;

extern const db_statement_t defcache_statements[];
extern const int defcache_statements_count;

defcache_t *defcache_new(db_t *db);
void defcache_free(defcache_t *c);
/*
 * The parsed definition, owned by the cache until defcache_trim() lets it
 * go; NULL with the reason in err.
 */
const def_t *defcache_get(defcache_t *c, int64_t workflow_id, int version, char *err, size_t errlen);
/*
 * Forgets every definition once there are too many. Steps in hand point
 * into their definitions (their nodes, their next node), so only call it
 * when none is held: between one batch and the next.
 */
void defcache_trim(defcache_t *c);

#endif
