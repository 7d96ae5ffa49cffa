/* announce_parse: a resident's announcement command, matched here and
 * nowhere else: DAFTAR (every announcement), DAFTAR RT 03, DAFTAR
 * POSYANDU (a topic from [announce] topics), BERHENTI or STOP (all, or
 * one: BERHENTI RT 03). Case, extra spaces and a final '.' or '!' are
 * ignored; anything else is not a command. Pure. */
#ifndef SIMPUL_ANNOUNCE_PARSE_H
#define SIMPUL_ANNOUNCE_PARSE_H

#include <stddef.h>

enum announce_cmd {
	ANNOUNCE_NONE,
	ANNOUNCE_JOIN,		/* topic set */
	ANNOUNCE_LEAVE,		/* topic set, or "" for every topic */
	ANNOUNCE_UNKNOWN_TOPIC, /* DAFTAR <something we do not know> */
};

/* topics: the configured topics, comma separated ("posyandu, pkk").
 * topic gets "semua", "rt:03" or a topic in lower case. */
enum announce_cmd announce_parse(const char *text, const char *topics,
				 char *topic, size_t n);
/* "semua", "rt:03", "posyandu" from what an admin typed ("RT 3",
 * "Posyandu", "semua"); "" if it is none of them. */
void announce_audience(const char *in, const char *topics, char *out, size_t n);
/* How a topic reads in a reply: "RT 03", "Posyandu", "" for semua. */
void announce_topic_label(const char *topic, char *out, size_t n);

#endif
