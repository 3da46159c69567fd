/*
 * round_record.h - the record of the steps a round ran while they were
 * locked, as the arrays wf_worker_settle_ran takes (sql/035), in
 * PostgreSQL's binary array format: four with an element a step and the
 * rest with an element a node (each step's own node, then those it ran in
 * line). Read by the server with a length a value, where the text form of
 * an array is scanned character by character, twice.
 *
 * A node's email log goes in columns of its own and its result, when it is
 * just the email's recipient, subject and message id, is left for the
 * database to build from them: parsing a jsonb document of the same record
 * cost the round more than any row it writes (docs/performance.md).
 */
#ifndef WF_ROUND_RECORD_H
#define WF_ROUND_RECORD_H

#include "executor.h"

/* The arrays, in wf_worker_settle_ran's order after its lease. */
enum {
	RR_STEPS, RR_FROMS, RR_FIRSTS, RR_LASTS,
	RR_NODES, RR_NEXTS, RR_RESULTS, RR_LOGS,
	RR_MAIL_RECIPIENTS, RR_MAIL_SUBJECTS, RR_MAIL_TEMPLATES, RR_MAIL_STATUSES,
	RR_MAIL_MODES, RR_MAIL_MESSAGE_IDS, RR_MAIL_ERRORS,
	RR_ARRAYS
};

typedef struct round_record round_record_t;

/* Aborts when out of memory, as the rest of the worker's JSON building does. */
round_record_t *round_record_new(void);
void round_record_free(round_record_t *rec);

/* A step that ran from its execution's status from_status; its nodes follow. */
void round_record_step(round_record_t *rec, const char *step_id, const char *from_status);
/* The step's next node, its own first, and what it produced. */
void round_record_node(round_record_t *rec, const char *node_id, const exec_outcome_t *out);

int round_record_steps(const round_record_t *rec);

/*
 * The arrays as binary statement parameters (format 1), with their
 * lengths: NULL for one whose elements are all NULL (the steps' arrays,
 * the nodes and their next nodes are always sent). Valid until the record
 * changes or is freed.
 */
void round_record_params(round_record_t *rec, const char *params[RR_ARRAYS], int lengths[RR_ARRAYS]);

#endif
