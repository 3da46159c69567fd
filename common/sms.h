/*
 * sms.h - the SMS client of SMS_MODE=http: posts one message to the
 * provider's HTTP API.
 *
 * The request is POST SMS_API_URL with "Authorization: Bearer
 * SMS_API_TOKEN" (when set) and the JSON body
 * {"to": "+4915112345678", "body": "...", "reference": "..."}; the reference
 * (the engine passes execution and node) lets the provider recognise a
 * resend. The provider's HTTP status and the start of its reply come back in
 * the result, classified like any HTTP call (see http_client.h).
 */
#ifndef WF_SMS_H
#define WF_SMS_H

#include <stdbool.h>

#include "config.h"
#include "delivery.h"

/* Strings are borrowed. */
typedef struct {
	const char *api_url;	/* SMS_API_URL */
	const char *api_token;	/* SMS_API_TOKEN; NULL or "": no Authorization header */
	int timeout_ms;		/* SMS_TIMEOUT_MS: the whole call */
	int connect_timeout_ms;	/* 0: 5 s, or timeout_ms if shorter */
} sms_settings_t;

typedef struct {
	const char *to;		/* E.164, e.g. "+4915112345678" */
	const char *body;	/* UTF-8 text, not empty */
	const char *reference;	/* NULL: the key is left out */
} sms_message_t;

/* Fills s from the loaded settings; the strings stay owned by cfg. */
void sms_settings_from_config(sms_settings_t *s, const wf_config_t *cfg);

/* True for E.164: "+", then 8 to 15 digits, the first not 0. No spaces or dashes. */
bool sms_number_valid(const char *number);

/*
 * Sends msg and fills result (reset first). An invalid number, an empty
 * body, a missing SMS_API_URL or a CR/LF in the token are PERMANENT without
 * a request. Returns 0 when the provider answered 2xx, -1 otherwise.
 */
int sms_send(const sms_settings_t *s, const sms_message_t *msg, delivery_result_t *result);

#endif
