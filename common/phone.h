/* phone: Indonesian number normalisation. Every written form of a mobile
 * number (0812-3456-7890, +62 812 3456 7890, 62812..., 812..., with
 * spaces, dots, dashes, brackets) becomes one E.164 string; alphanumeric
 * senders (TELKOMSEL) and short codes (3636, *888#) are kept raw and
 * marked, since they must never get an auto-reply (doc/field.md). */
#ifndef SIMPUL_PHONE_H
#define SIMPUL_PHONE_H

#include <stddef.h>

enum phone_kind {
	PHONE_INVALID,
	PHONE_MOBILE,	 /* +628..., E.164 */
	PHONE_FIXED,	 /* +62 landline (area code not 8) */
	PHONE_FOREIGN,	 /* E.164 of another country */
	PHONE_SHORTCODE, /* 3..6 digits, USSD-like codes */
	PHONE_ALNUM,	 /* letters: operator or promotional sender */
};

/* Writes the normalised form to out: E.164 for MOBILE/FIXED/FOREIGN, the
 * trimmed raw text for SHORTCODE/ALNUM. */
enum phone_kind phone_normalize(const char *in, char *out, size_t outlen);
const char *phone_kind_name(enum phone_kind k);
/* WhatsApp ids are digits without '+' (628...): E.164 -> wa id. */
void phone_to_wa(const char *e164, char *out, size_t outlen);

#endif
