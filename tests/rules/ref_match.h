/* The matcher before the keyword index (ref_match.c): the reference
 * the indexed rules_choose must equal, message for message. */
#ifndef SIMPUL_REF_MATCH_H
#define SIMPUL_REF_MATCH_H

#include "rules_int.h"

/* rules_choose as it was: the same arguments, the same answers. */
const struct rules_rule *ref_choose(const struct rules *r,
				    const struct rules_input *in, bool open,
				    struct rules_result *res, FILE *tr);

#endif
