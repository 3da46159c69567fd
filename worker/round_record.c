/*
 * round_record.c - the record of a round's locked steps as binary arrays
 * (see round_record.h and sql/035_round_record_in_arrays.sql).
 */
#include "round_record.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/*
 * The element types of PostgreSQL's binary array format (pg_type.oid): the
 * server reads each element with its type's receive function, and refuses
 * an array of another type than the parameter's.
 */
enum { OID_INT8 = 20, OID_INT4 = 23, OID_TEXT = 25, OID_JSONB = 3802 };
static const unsigned int element_types[RR_ARRAYS] = {
	[RR_STEPS] = OID_INT8, [RR_FROMS] = OID_TEXT, [RR_FIRSTS] = OID_INT4, [RR_LASTS] = OID_INT4,
	[RR_NODES] = OID_TEXT, [RR_NEXTS] = OID_TEXT, [RR_RESULTS] = OID_JSONB, [RR_LOGS] = OID_JSONB,
	[RR_MAIL_RECIPIENTS] = OID_TEXT, [RR_MAIL_SUBJECTS] = OID_TEXT, [RR_MAIL_TEMPLATES] = OID_TEXT,
	[RR_MAIL_STATUSES] = OID_TEXT, [RR_MAIL_MODES] = OID_TEXT, [RR_MAIL_MESSAGE_IDS] = OID_TEXT,
	[RR_MAIL_ERRORS] = OID_TEXT,
};

/*
 * The header of a one-dimensional array: dimensions, whether it has NULLs,
 * element type, length, lower bound. Each element follows as its length
 * (-1 for NULL) and its bytes.
 */
#define HEADER_SIZE 20

/* One array as it grows: its header's room, then its elements. */
typedef struct {
	char *data;
	size_t len, cap;
	int count;
	bool any;		/* an element that is not NULL */
	bool nulls;		/* an element that is NULL */
} array_data_t;

struct round_record {
	array_data_t arrays[RR_ARRAYS];
	int steps, nodes;
	int step_first;		/* the open step's first node (from 1); 0 when none is open */
};

static void append(array_data_t *a, const void *bytes, size_t n)
{
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 512;

		while (a->len + n > cap)
			cap *= 2;
		if ((a->data = realloc(a->data, cap)) == NULL)
			abort();
		a->cap = cap;
	}
	memcpy(a->data + a->len, bytes, n);
	a->len += n;
}

/* Starts an element with its length; the first one keeps room for the header, written when sent. */
static void start_element(array_data_t *a, int32_t len)
{
	uint32_t be = htonl((uint32_t)len);

	if (a->len == 0)
		append(a, (char[HEADER_SIZE]){ 0 }, HEADER_SIZE);
	append(a, &be, sizeof(be));
	a->count++;
}

static void add_null(array_data_t *a)
{
	start_element(a, -1);
	a->nulls = true;
}

/* An element of len bytes, after an optional prefix byte. */
static void add_bytes(array_data_t *a, const char *prefix, const char *s, size_t len)
{
	start_element(a, (int32_t)(len + (prefix ? 1 : 0)));
	if (prefix)
		append(a, prefix, 1);
	append(a, s, len);
	a->any = true;
}

static void add_text(array_data_t *a, const char *s)
{
	if (s == NULL)
		add_null(a);
	else
		add_bytes(a, NULL, s, strlen(s));
}

static void add_int4(array_data_t *a, int v)
{
	uint32_t be = htonl((uint32_t)v);

	add_bytes(a, NULL, (const char *)&be, sizeof(be));
}

static void add_int8(array_data_t *a, const char *digits)
{
	uint64_t v = (uint64_t)strtoll(digits, NULL, 10);
	uint32_t be[2] = { htonl((uint32_t)(v >> 32)), htonl((uint32_t)v) };

	add_bytes(a, NULL, (const char *)be, sizeof(be));
}

/* jsonb's binary form: its format's version (1), then the JSON text. */
static void add_json(array_data_t *a, const cJSON *item)
{
	static const char jsonb_version = 1;
	char *text = json_print(item);

	add_bytes(a, &jsonb_version, text, strlen(text));
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
		free(rec->arrays[i].data);
	free(rec);
}

/* The open step's node range ends at the last node added. */
static void close_step(round_record_t *rec)
{
	if (rec->step_first == 0)
		return;
	add_int4(&rec->arrays[RR_FIRSTS], rec->step_first);
	add_int4(&rec->arrays[RR_LASTS], rec->nodes);
	rec->step_first = 0;
}

void round_record_step(round_record_t *rec, const char *step_id, const char *from_status)
{
	close_step(rec);
	add_int8(&rec->arrays[RR_STEPS], step_id);
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

static bool same_text(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Is the result just the email's recipient, subject and message id, which the database builds? */
static bool result_is_the_emails(const cJSON *result, const char *values[MAIL_FIELDS])
{
	return cJSON_IsObject(result) && cJSON_GetArraySize(result) == 3 &&
	       same_text(json_string(result, "to"), values[MAIL_RECIPIENT]) &&
	       same_text(json_string(result, "subject"), values[MAIL_SUBJECT]) &&
	       same_text(json_string(result, "message_id"), values[MAIL_MESSAGE_ID]);
}

void round_record_node(round_record_t *rec, const char *node_id, const exec_outcome_t *out)
{
	const char *values[MAIL_FIELDS];
	const cJSON *mail = lone_email(out->logs, values);
	static const cJSON json_null = { .type = cJSON_NULL };
	/* Beside an email, NULL says the result is the email's, so one without any is sent as JSON null. */
	const cJSON *result = out->result ? out->result : mail ? &json_null : NULL;

	add_text(&rec->arrays[RR_NODES], node_id);
	add_text(&rec->arrays[RR_NEXTS], out->next_node);
	if (result == NULL || (mail != NULL && result_is_the_emails(result, values)))
		add_null(&rec->arrays[RR_RESULTS]);
	else
		add_json(&rec->arrays[RR_RESULTS], result);
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

/* Writes the array's header (from an empty one's when it has no element) in the room kept for it. */
static void write_header(array_data_t *a, unsigned int element_type)
{
	uint32_t header[HEADER_SIZE / 4] = { htonl(1), htonl(a->nulls), htonl(element_type), htonl((uint32_t)a->count),
					     htonl(1) };

	if (a->count == 0) {
		/* No dimensions at all: the empty array. */
		header[0] = 0;
		if (a->len == 0)
			append(a, (char[HEADER_SIZE]){ 0 }, HEADER_SIZE);
		memcpy(a->data, header, 12);
		a->len = 12;
		return;
	}
	memcpy(a->data, header, HEADER_SIZE);
}

void round_record_params(round_record_t *rec, const char *params[RR_ARRAYS], int lengths[RR_ARRAYS])
{
	close_step(rec);
	for (int i = 0; i < RR_ARRAYS; i++) {
		array_data_t *a = &rec->arrays[i];
		bool always = i <= RR_NEXTS;	/* the steps' arrays, the nodes and their next nodes */

		if (!a->any && !always) {
			params[i] = NULL;
			lengths[i] = 0;
			continue;
		}
		write_header(a, element_types[i]);
		params[i] = a->data;
		lengths[i] = (int)a->len;
	}
}
