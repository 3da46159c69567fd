/*
 * fuzz_http_request.c - arbitrary bytes through the HTTP request path:
 * the assembler (http_parser plus our limits), target splitting and
 * percent-decoding, routing with captures, the bearer check, the JSON body
 * helper and the response formatting. No socket: requests are assembled
 * from the input, cut into pieces whose size the first byte chooses (bugs
 * hide at piece boundaries), and dispatched to a server without a loop.
 */
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http_internal.h"
#include "json.h"

static void h_item(http_request_t *req, void *data)
{
	cJSON *body = json_object();

	json_add_string(body, "id", http_request_param(req, "id"));
	json_add_string(body, "status", http_request_query(req, "status"));
	json_add_string(body, "agent", http_request_header(req, "user-agent"));
	http_response_header(req, "X-Echo", http_request_param(req, "id"));
	http_respond_json(req, 200, body);
}

static void h_echo(http_request_t *req, void *data)
{
	cJSON *tree = http_request_json(req);

	if (tree != NULL)
		http_respond_json(req, 201, tree);
}

static void h_raw(http_request_t *req, void *data)
{
	size_t len;
	const char *body = http_request_body(req, &len);

	http_respond(req, 200, "application/octet-stream", body, len);
}

static void h_two(http_request_t *req, void *data)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "%s/%s", http_request_param(req, "a"), http_request_param(req, "b"));
	http_respond_error(req, 409, msg);
}

static const http_route_t routes[] = {
	{ "GET", "/workflow/executions/:id", h_item, NULL, 0 },
	{ "POST", "/workflow/executions/:id/pause", h_item, NULL, 0 },
	{ "POST", "/workflow/execute", h_echo, NULL, 0 },
	{ "PUT", "/raw", h_raw, NULL, 0 },
	{ "GET", "/health", h_item, NULL, HTTP_ROUTE_PUBLIC },
	{ "DELETE", "/two/:a/:b", h_two, NULL, 0 },
};

static http_server_t *fuzz_server(void)
{
	static http_server_t server;
	static char token[] = "fuzz-token";

	if (server.router.n == 0) {
		http_server_options_init(&server.opts);
		server.opts.quiet = true;
		server.bearer_token = token;
		SHA256((const unsigned char *)token, strlen(token), server.token_hash);
		for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
			http_router_add(&server.router, &routes[i]);
	}
	return &server;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	http_server_t *server = fuzz_server();
	http_assembler_t a;
	size_t piece, off = 1;

	if (size == 0)
		return 0;
	piece = (size_t)data[0] + 1;
	http_assembler_init(&a, 2048, 4096, server, NULL);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;
		http_asm_result_t res;
		size_t used = http_assembler_feed(&a, (const char *)data + off, n, &res);

		off += used;
		if (res == HTTP_ASM_DONE) {
			http_dispatch(http_assembler_take(&a));
			continue;
		}
		if (res == HTTP_ASM_ERROR) {
			http_request_t *req = http_assembler_take(&a);

			if (req == NULL)
				req = http_request_new(server, NULL);
			http_dispatch_error(req, a.error_status, a.error_message);
			break;
		}
		if (used != n)
			__builtin_trap(); /* MORE must mean every byte was taken */
	}
	http_assembler_reset(&a);
	return 0;
}
