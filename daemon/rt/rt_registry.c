/* rt_registry: load and validate etc/rt.ini. */
#include "rt_registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ini.h"
#include "phone.h"

#define MAX_HEADS 1000

struct rt_registry {
	struct rt_head rt[MAX_HEADS];
	int nrt;
	struct rt_head rw[MAX_HEADS];
	int nrw;
};

/* "03", "3", "003" -> 3; "03/05" -> 3 and 5 when allow_rw. */
static int section_number(const char *s, bool allow_rw, int *a, int *b)
{
	char *end;
	long v = strtol(s, &end, 10);

	*b = 0;
	if (end == s || v < 1 || v > 999)
		return -1;
	*a = (int)v;
	if (*end == '/' && allow_rw) {
		const char *s2 = end + 1;
		v = strtol(s2, &end, 10);
		if (end == s2 || v < 1 || v > 999)
			return -1;
		*b = (int)v;
	}
	return *end ? -1 : 0;
}

static bool key_known(const char *kind, const char *key)
{
	if (strcmp(key, "head") == 0 || strcmp(key, "phone") == 0)
		return true;
	return strcmp(kind, "rt") == 0 && strcmp(key, "rw") == 0;
}

static void check_keys(const struct ini *ini, const char *sec, const char *kind,
		       struct diag *d)
{
	for (int j = 0; j < ini_nkeys(ini, sec); j++) {
		const char *k = ini_key(ini, sec, j);
		if (!key_known(kind, k))
			ini_diag(
			    d, DIAG_ERROR, ini, sec, k,
			    "unknown key '%s' in [%s]; known: head, phone%s", k,
			    sec, strcmp(kind, "rt") == 0 ? ", rw" : "");
	}
}

/* head and phone, both required; the phone must be a mobile number. */
static int read_person(const struct ini *ini, const char *sec,
		       struct rt_head *h, struct diag *d)
{
	const char *name = ini_get(ini, sec, "head");
	const char *phone = ini_get(ini, sec, "phone");
	int bad = 0;

	if (!name || !*name) {
		ini_diag(d, DIAG_ERROR, ini, sec, NULL,
			 "[%s] has no head = (the name of the head, e.g. "
			 "head = Pak Budi)",
			 sec);
		bad = -1;
	} else {
		snprintf(h->name, sizeof(h->name), "%s", name);
	}
	if (!phone || !*phone) {
		ini_diag(d, DIAG_ERROR, ini, sec, NULL,
			 "[%s] has no phone = (the head's mobile number, "
			 "e.g. phone = 0812-3456-7890)",
			 sec);
		return -1;
	}
	if (phone_normalize(phone, h->phone, sizeof(h->phone)) !=
	    PHONE_MOBILE) {
		ini_diag(d, DIAG_ERROR, ini, sec, "phone",
			 "phone: '%s' is not an Indonesian mobile number "
			 "(write it as 08xx..., +628xx... or 628xx...)",
			 phone);
		return -1;
	}
	return bad;
}

static int read_rw_key(const struct ini *ini, const char *sec, int *rw,
		       struct diag *d)
{
	const char *v = ini_get(ini, sec, "rw");
	int dummy;

	if (!v)
		return 0;
	if (*rw) {
		ini_diag(d, DIAG_ERROR, ini, sec, "rw",
			 "rw: the RW is already in the section name [%s]; "
			 "remove this key",
			 sec);
		return -1;
	}
	if (section_number(v, false, rw, &dummy)) {
		ini_diag(d, DIAG_ERROR, ini, sec, "rw",
			 "rw: '%s' is not an RW number from 1 to 999", v);
		return -1;
	}
	return 0;
}

static void check_duplicate(const struct rt_registry *r, const struct ini *ini,
			    const char *sec, const struct rt_head *h,
			    const struct rt_head *list, int n, struct diag *d)
{
	for (int i = 0; i < n; i++) {
		if (list[i].rt == h->rt && list[i].rw == h->rw)
			ini_diag(d, DIAG_ERROR, ini, sec, NULL,
				 "[%s]: %s %02d%s%s is given twice", sec,
				 h->rt ? "RT" : "RW", h->rt ? h->rt : h->rw,
				 h->rt && h->rw ? " in RW " : "", "");
		else if (h->rt && list[i].rt == h->rt &&
			 (!h->rw || !list[i].rw))
			ini_diag(d, DIAG_ERROR, ini, sec, NULL,
				 "[%s]: RT %02d appears twice and not every "
				 "one says its RW; give rw = in each",
				 sec, h->rt);
		else if (strcmp(list[i].phone, h->phone) == 0 && h->rt)
			ini_diag(d, DIAG_WARNING, ini, sec, "phone",
				 "phone: %s also heads RT %02d; answers "
				 "without a code are then ambiguous",
				 h->phone, list[i].rt);
	}
	(void)r;
}

static void load_section(struct rt_registry *r, const struct ini *ini,
			 const char *sec, struct diag *d)
{
	struct rt_head h = {0};
	bool is_rt = strncmp(sec, "rt ", 3) == 0;
	bool is_rw = strncmp(sec, "rw ", 3) == 0;

	if (!is_rt && !is_rw) {
		ini_diag(d, DIAG_ERROR, ini, sec, NULL,
			 "unknown section [%s]; write [rt 03] or [rw 05]", sec);
		return;
	}
	check_keys(ini, sec, is_rt ? "rt" : "rw", d);
	int a, b;
	if (section_number(sec + 3, is_rt, &a, &b)) {
		ini_diag(d, DIAG_ERROR, ini, sec, NULL,
			 "[%s]: '%s' is not a number from 1 to 999%s", sec,
			 sec + 3, is_rt ? " (or RT/RW, e.g. 03/05)" : "");
		return;
	}
	if (is_rt) {
		h.rt = a;
		h.rw = b;
		if (read_rw_key(ini, sec, &h.rw, d))
			return;
	} else {
		h.rw = a;
	}
	if (read_person(ini, sec, &h, d))
		return;
	struct rt_head *list = is_rt ? r->rt : r->rw;
	int *n = is_rt ? &r->nrt : &r->nrw;
	check_duplicate(r, ini, sec, &h, list, *n, d);
	if (*n >= MAX_HEADS) {
		ini_diag(d, DIAG_ERROR, ini, sec, NULL, "more than %d sections",
			 MAX_HEADS);
		return;
	}
	list[(*n)++] = h;
}

struct rt_registry *rt_registry_load(const char *path, struct diag *d)
{
	size_t before = diag_errors(d);
	struct rt_registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		diag_add(d, DIAG_WARNING, path, 0, NULL, NULL,
			 "no such file: no RT heads, so no RT confirmation "
			 "(see etc/rt.ini for an example)");
		return r;
	}
	struct ini *ini = ini_load(path, d);
	if (!ini) {
		diag_add(d, DIAG_ERROR, path, 0, NULL, NULL,
			 "cannot read the file: %s", strerror(errno));
		free(r);
		return NULL;
	}
	for (int i = 0; i < ini_nsections(ini); i++)
		load_section(r, ini, ini_section(ini, i), d);
	ini_free(ini);
	if (diag_errors(d) > before) {
		free(r);
		return NULL;
	}
	return r;
}

void rt_registry_free(struct rt_registry *r)
{
	free(r);
}

int rt_registry_count(const struct rt_registry *r)
{
	return r ? r->nrt : 0;
}

const struct rt_head *rt_registry_at(const struct rt_registry *r, int i)
{
	return r && i >= 0 && i < r->nrt ? &r->rt[i] : NULL;
}

const struct rt_head *rt_registry_find(const struct rt_registry *r, int rt,
				       int rw, bool *ambiguous)
{
	const struct rt_head *found = NULL;
	int n = 0;

	*ambiguous = false;
	for (int i = 0; r && i < r->nrt; i++) {
		if (r->rt[i].rt != rt)
			continue;
		if (rw && r->rt[i].rw && r->rt[i].rw != rw)
			continue;
		found = &r->rt[i];
		n++;
	}
	if (n > 1) {
		*ambiguous = true;
		return NULL;
	}
	return found;
}

const struct rt_head *rt_registry_rw(const struct rt_registry *r, int rw)
{
	for (int i = 0; r && rw && i < r->nrw; i++)
		if (r->rw[i].rw == rw)
			return &r->rw[i];
	return NULL;
}

bool rt_registry_is_head(const struct rt_registry *r, const char *e164)
{
	for (int i = 0; r && i < r->nrt; i++)
		if (strcmp(r->rt[i].phone, e164) == 0)
			return true;
	return false;
}
