/* template: reply text with {placeholders}. Known placeholders:
 *   {office}      office name            {hours_today} today's hours
 *   {next_open}   "Senin 08.00 WITA"     {ticket}      "KLS-2607-0015"
 *   {name}        contact name           {rt}          the resident's RT
 *   {due}         due date "Rabu 15/07/2026"
 *   {hours_week}  "Sen-Kam 08.00-16.00; Jum ...; Sab-Min tutup"
 *   {prefix}      the ticket prefix "KLS"
 * "{{" and "}}" stand for literal braces. An unknown placeholder is an
 * error at load time, never a surprise in a resident's SMS. */
#ifndef SIMPUL_TEMPLATE_H
#define SIMPUL_TEMPLATE_H

#include <stddef.h>

enum template_var {
	TPL_OFFICE,
	TPL_HOURS_TODAY,
	TPL_NEXT_OPEN,
	TPL_TICKET,
	TPL_NAME,
	TPL_RT,
	TPL_DUE,
	TPL_HOURS_WEEK,
	TPL_PREFIX,
	TPL_NVARS
};

/* Values to substitute; NULL renders as "" */
struct template_vars {
	const char *v[TPL_NVARS];
};

/* Longest {name} and {rt} rendered: longer values are cut, so the
 * worst-case segment count computed at load time holds. */
#define TEMPLATE_NAME_MAX 20
#define TEMPLATE_RT_MAX	  12

const char *template_var_name(enum template_var v);
/* 0 if text is well formed; else -1 with a message in err ("unknown
 * placeholder {nama}; known: ..."). */
int template_check(const char *text, char *err, size_t n);
/* A bit set of the placeholders used (1 << enum template_var). */
unsigned template_uses(const char *text);
/* The rendered text (malloc'd; NULL on allocation failure or malformed
 * text). Values are cut at a UTF-8 boundary to the *_MAX limits above. */
char *template_render(const char *text, const struct template_vars *vars);

#endif
