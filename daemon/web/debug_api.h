/* debug_api: routes for tests and diagnosis, answered on the unix socket
 * only ([http] socket, whose file permissions are its access control).
 *
 *   GET /api/v1/routes   http_routes_text(): every route as
 *                        "METHOD path flags" lines, so the security test
 *                        walks the real router and a new route cannot
 *                        escape the auth check.
 *
 * Register from main.c after every other module has added its routes
 * (the list is built per request, so the order does not matter). */
#ifndef SIMPUL_DEBUG_API_H
#define SIMPUL_DEBUG_API_H

struct http;

/* 0, or -1 if the route could not be added. */
int debug_api_init(struct http *h);

#endif
