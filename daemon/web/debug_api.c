#include "debug_api.h"

#include <stdlib.h>

#include "http.h"

static int get_routes(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct http *h = ud;

	/* Over TCP the route list would map the attack surface for anyone
	 * who got a session: local socket only. */
	if (!http_is_local(req)) {
		http_error(resp, 404, "not found");
		return HTTP_DONE;
	}
	char *text = http_routes_text(h);
	if (!text) {
		http_error(resp, 500, "out of memory listing routes");
		return HTTP_DONE;
	}
	http_text(resp, 200, text);
	free(text);
	return HTTP_DONE;
}

int debug_api_init(struct http *h)
{
	return http_route(h, "GET", "/api/v1/routes", 0, get_routes, h);
}
