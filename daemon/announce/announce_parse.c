/* announce_parse: DAFTAR / BERHENTI / STOP (see announce_parse.h). */
#include "announce_parse.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upper case, single spaces, no final '.' or '!'. */
static void squash(const char *in, char *out, size_t n)
{
	size_t k = 0;
	bool space = false;

	while (isspace((unsigned char)*in))
		in++;
	for (; *in && k + 1 < n; in++) {
		if (isspace((unsigned char)*in)) {
			space = true;
			continue;
		}
		if (space && k + 2 < n)
			out[k++] = ' ';
		space = false;
		out[k++] = (char)toupper((unsigned char)*in);
	}
	while (k > 0 && (out[k - 1] == '.' || out[k - 1] == '!'))
		k--;
	out[k] = '\0';
}

/* "RT 3", "RT03", "RT. 3" -> "rt:03"; false if not an RT. */
static bool rt_topic(const char *s, char *topic, size_t n)
{
	char *end;
	long v;

	if (strncmp(s, "RT", 2) != 0)
		return false;
	s += 2;
	while (*s == ' ' || *s == '.')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 999)
		return false;
	snprintf(topic, n, "rt:%02ld", v);
	return true;
}

/* word (upper case) in the comma separated topics? */
static bool known_topic(const char *word, const char *topics, char *topic,
			size_t n)
{
	const char *p = topics ? topics : "";

	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		size_t len = strcspn(p, ",");
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (len && strlen(word) == len) {
			size_t i = 0;
			while (i < len && toupper((unsigned char)p[i]) ==
					      (unsigned char)word[i])
				i++;
			if (i == len) {
				snprintf(topic, n, "%.*s", (int)len, p);
				for (char *t = topic; *t; t++)
					*t = (char)tolower((unsigned char)*t);
				return true;
			}
		}
		p += strcspn(p, ",");
	}
	return false;
}

enum announce_cmd announce_parse(const char *text, const char *topics,
				 char *topic, size_t n)
{
	char s[80];
	const char *rest;
	bool join;

	if (!text || strlen(text) >= sizeof(s))
		return ANNOUNCE_NONE;
	squash(text, s, sizeof(s));
	if (strncmp(s, "DAFTAR", 6) == 0 && (!s[6] || s[6] == ' '))
		join = true, rest = s + 6;
	else if (strncmp(s, "BERHENTI", 8) == 0 && (!s[8] || s[8] == ' '))
		join = false, rest = s + 8;
	else if (strncmp(s, "STOP", 4) == 0 && (!s[4] || s[4] == ' '))
		join = false, rest = s + 4;
	else
		return ANNOUNCE_NONE;
	if (*rest == ' ')
		rest++;
	if (!*rest)
		snprintf(topic, n, "%s", join ? "semua" : "");
	else if (!rt_topic(rest, topic, n) &&
		 !known_topic(rest, topics, topic, n))
		return join ? ANNOUNCE_UNKNOWN_TOPIC : ANNOUNCE_NONE;
	return join ? ANNOUNCE_JOIN : ANNOUNCE_LEAVE;
}

void announce_audience(const char *in, const char *topics, char *out, size_t n)
{
	char s[80];

	out[0] = '\0';
	if (!in || strlen(in) >= sizeof(s))
		return;
	squash(in, s, sizeof(s));
	if (strncmp(s, "RT:", 3) == 0)
		s[2] = ' '; /* the API's own form, "rt:03" */
	if (strcmp(s, "SEMUA") == 0 || strcmp(s, "ALL") == 0)
		snprintf(out, n, "semua");
	else if (!rt_topic(s, out, n) && !known_topic(s, topics, out, n))
		out[0] = '\0';
}

void announce_topic_label(const char *topic, char *out, size_t n)
{
	if (!strcmp(topic, "semua") || !*topic)
		snprintf(out, n, "%s", "");
	else if (!strncmp(topic, "rt:", 3))
		snprintf(out, n, "RT %s", topic + 3);
	else
		snprintf(out, n, "%c%s", toupper((unsigned char)topic[0]),
			 topic + 1);
}
