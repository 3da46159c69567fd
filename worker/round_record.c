/*
 * round_record.c - the record of a round's locked steps as array literals
 * (see round_record.h and sql/035_round_record_in_arrays.sql).
 */
#include "round_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* One array's literal as it grows: "{" then elements, closed when sent. */
typedef struct {
	char *text;
	size_t len, cap;
	int count;
	bool any;		/* an element that is not NULL */
} array_text_t;

struct round_record {
	array_text_t arrays[RR_ARRAYS];
	int steps, nodes;
	int step_first;		/* the open step's first node (from 1); 0 when none is open */
};

static void grow(array_text_t *a, size_t more)
{
	size_t cap = a->cap ? a->cap : 256;

	if (a->len + more + 2 <= a->cap)	/* room for the closing brace and NUL too */
		return;
	while (a->len + more + 2 > cap)
		cap *= 2;
	if ((a->text = realloc(a->text, cap)) == NULL)
		abort();
	a->cap = cap;
}

static void append(array_text_t *a, const char *s, size_t n)
{
	grow(a, n);
	memcpy(a->text + a->len, s, n);
	a->len += n;
}

/* Starts an element: "{" before the first, "," before the others. */
static void next_element(array_text_t *a)
{
	append(a, a->count == 0 ? "{" : ",", 1);
	a->count++;
}

static void add_null(array_text_t *a)
{
	next_element(a);
	append(a, "NULL", 4);
}

/* Quoted, with a backslash before each quote and backslash: any text reads back as itself. */
static void add_text(array_text_t *a, const char *s)
{
	if (s == NULL) {
		add_null(a);
		return;
	}
	next_element(a);
	grow(a, 2 * strlen(s) + 2);
	a->text[a->len++] = '"';
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			a->text[a->len++] = '\\';
		a->text[a->len++] = *s;
	}
	a->text[a->len++] = '"';
	a->any = true;
}

static void add_int(array_text_t *a, int v)
{
	char digits[16];

	next_element(a);
	append(a, digits, (size_t)snprintf(digits, sizeof(digits), "%d", v));
	a->any = true;
}

static void add_json(array_text_t *a, const cJSON *item)
{
	char *text = json_print(item);

	add_text(a, text);
	free(text);
}

round_record_t *round_record_new(void)
{
	round_record_t *rec = calloc(1, sizeof(*rec));

	if (rec == NULL)
		abort();
	return rec;
}

void round_record_free(round_record_t *rec)
{
	if (rec == NULL)
		return;
	for (int i = 0; i < RR_ARRAYS; i++)
		free(rec->arrays[i].text);
	free(rec);
}

/* The open step's node range ends at the last node added. */
static void close_step(round_record_t *rec)
{
	if (rec->step_first == 0)
		return;
	add_int(&rec->arrays[RR_FIRSTS], rec->step_first);
	add_int(&rec->arrays[RR_LASTS], rec->nodes);
	rec->step_first = 0;
}

void round_record_step(round_record_t *rec, const char *step_id, const char *from_status)
{
	close_step(rec);
	add_text(&rec->arrays[RR_STEPS], step_id);
	add_text(&rec->arrays[RR_FROMS], from_status);
	rec->steps++;
	rec->step_first = rec->nodes + 1;
}

/* The fields an email log has in columns of the round's record, in this order. */
enum { MAIL_RECIPIENT, MAIL_SUBJECT, MAIL_TEMPLATE, MAIL_STATUS, MAIL_MODE, MAIL_MESSAGE_ID, MAIL_ERROR, MAIL_FIELDS };
static const char *const mail_fields[MAIL_FIELDS] = { "recipient", "subject", "template", "status", "mode",
						      "message_id", "error" };
static const int mail_columns[MAIL_FIELDS] = { RR_MAIL_RECIPIENTS, RR_MAIL_SUBJECTS, RR_MAIL_TEMPLATES,
					       RR_MAIL_STATUSES, RR_MAIL_MODES, RR_MAIL_MESSAGE_IDS, RR_MAIL_ERRORS };

static int mail_field(const char *name)
{
	for (int i = 0; i < MAIL_FIELDS; i++)
		if (strcmp(name, mail_fields[i]) == 0)
			return i;
	return -1;
}

/*
 * The node's one email log, when that is all its logs are and every field
 * of it is a string with a column of its own (with a status); else NULL,
 * and the logs go whole. values gets its fields by column.
 */
static const cJSON *lone_email(const cJSON *logs, const char *values[MAIL_FIELDS])
{
	const cJSON *entry = cJSON_GetArraySize(logs) == 1 ? logs->child : NULL;
	const cJSON *mail = entry && entry->child && !entry->child->next ? entry->child : NULL;
	const cJSON *field;

	memset(values, 0, MAIL_FIELDS * sizeof(values[0]));
	if (!cJSON_IsObject(entry) || !cJSON_IsObject(mail) || strcmp(mail->string, "email_log") != 0)
		return NULL;
	cJSON_ArrayForEach(field, mail) {
		int column = mail_field(field->string);

		if (column < 0 || !cJSON_IsString(field) || values[column] != NULL)
			break;
		values[column] = field->valuestring;
	}
	if (field == NULL && values[MAIL_STATUS] != NULL)
		return mail;
	memset(values, 0, MAIL_FIELDS * sizeof(values[0]));
	return NULL;
}

static bool same_string(const cJSON *item, const char *s)
{
	return cJSON_IsString(item) && s != NULL && strcmp(item->valuestring, s) == 0;
}

/* Is the result just the email's recipient, subject and message id, which the database builds? */
static bool result_is_the_emails(const cJSON *result, const char *values[MAIL_FIELDS])
{
	return cJSON_IsObject(result) && cJSON_GetArraySize(result) == 3 &&
	       same_string(cJSON_GetObjectItemCaseSensitive(result, "to"), values[MAIL_RECIPIENT]) &&
	       same_string(cJSON_GetObjectItemCaseSensitive(result, "subject"), values[MAIL_SUBJECT]) &&
	       same_string(cJSON_GetObjectItemCaseSensitive(result, "message_id"), values[MAIL_MESSAGE_ID]);
}

void round_record_node(round_record_t *rec, const char *node_id, const exec_outcome_t *out)
{
	const char *values[MAIL_FIELDS];
	const cJSON *mail = lone_email(out->logs, values);
	static const cJSON json_null = { .type = cJSON_NULL };

	add_text(&rec->arrays[RR_NODES], node_id);
	add_text(&rec->arrays[RR_NEXTS], out->next_node);
	/* NULL beside an email: its result is the email's; JSON null: it has none. */
	if (mail != NULL && result_is_the_emails(out->result, values))
		add_null(&rec->arrays[RR_RESULTS]);
	else if (out->result != NULL || mail != NULL)
		add_json(&rec->arrays[RR_RESULTS], out->result ? out->result : &json_null);
	else
		add_null(&rec->arrays[RR_RESULTS]);
	if (mail == NULL && cJSON_GetArraySize(out->logs) > 0)
		add_json(&rec->arrays[RR_LOGS], out->logs);
	else
		add_null(&rec->arrays[RR_LOGS]);
	for (int i = 0; i < MAIL_FIELDS; i++)
		add_text(&rec->arrays[mail_columns[i]], values[i]);
	rec->nodes++;
}

int round_record_steps(const round_record_t *rec)
{
	return rec->steps;
}

void round_record_params(round_record_t *rec, const char *params[RR_ARRAYS])
{
	close_step(rec);
	for (int i = 0; i < RR_ARRAYS; i++) {
		array_text_t *a = &rec->arrays[i];
		bool always = i <= RR_NEXTS;	/* the steps' arrays, the nodes and their next nodes */

		if (!a->any && !always) {
			params[i] = NULL;
			continue;
		}
		if (a->count == 0)
			append(a, "{", 1);
		/* Closed in place, past the end the next element would overwrite. */
		a->text[a->len] = '}';
		a->text[a->len + 1] = '\0';
		params[i] = a->text;
	}
}
