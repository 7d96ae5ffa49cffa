/* gsm: GSM 03.38 character set facts for UTF-8 text: whether text fits
 * GSM-7 (with the extension table), how many SMS segments it takes, and
 * transliteration of typographic characters so a reply stays GSM-7. */
#ifndef SIMPUL_GSM_H
#define SIMPUL_GSM_H

#include <stdbool.h>
#include <stddef.h>

struct gsm_count {
	bool ucs2;	  /* some character is outside GSM-7 */
	size_t units;	  /* septets (GSM-7) or UTF-16 code units (UCS-2) */
	int segments;	  /* 1 up to 160/70; 153/67 per part after that */
	char first_non_gsm[8]; /* UTF-8 of the first char forcing UCS-2 */
};

void gsm_count(const char *utf8, struct gsm_count *out);
/* Replaces curly quotes, dashes, ellipsis, nbsp, ... with GSM-7 friendly
 * ASCII in place (never grows the string). */
void gsm_transliterate(char *utf8);

#endif
