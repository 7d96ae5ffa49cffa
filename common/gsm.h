/* gsm: the one home of simpul's text codecs (GSM 03.38 / TS 23.038):
 * whether UTF-8 text fits GSM-7 (with the extension table), how many SMS
 * segments it takes and where they split, transliteration of typographic
 * characters so a reply stays GSM-7, and decoding of what the network
 * sends (hex, packed GSM-7 septets, UCS-2) into UTF-8. */
#ifndef SIMPUL_GSM_H
#define SIMPUL_GSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsm_count {
	bool ucs2;    /* some character is outside GSM-7 */
	size_t units; /* septets (GSM-7) or UTF-16 code units (UCS-2) */
	int segments; /* 1 up to 160/70; 153/67 per part after that */
	char first_non_gsm[8]; /* UTF-8 of the first char forcing UCS-2 */
};

void gsm_count(const char *utf8, struct gsm_count *out);
/* Replaces curly quotes, dashes, ellipsis, nbsp, ... with GSM-7 friendly
 * ASCII in place (never grows the string). */
void gsm_transliterate(char *utf8);

/* Decodes one UTF-8 sequence at s into *cp. Returns its length (1..4), or
 * 0 if it is not valid UTF-8 (RFC 3629: bad continuation, overlong form,
 * surrogate, above U+10FFFF). */
size_t gsm_utf8_decode(const char *s, uint32_t *cp);
/* Septets one code point costs in GSM-7: 1, 2 (escape + extension
 * table), or 0 when it is not in the alphabet. */
int gsm_septets(uint32_t cp);
/* Where the SMS parts of utf8 start (byte offsets into starts[], up to
 * max), sent as GSM-7 or, if ucs2, as UCS-2 (TS 23.040 9.2.3.24.1: 160/70
 * alone, 153/67 per part). A part never splits a character. Returns the
 * part count, or -1 if it needs more than max; starts may be NULL to only
 * count (max is then ignored). */
int gsm_split(const char *utf8, bool ucs2, size_t *starts, int max);

/* Hex text to octets; trailing CR/LF/space is tolerated, and one closing
 * quote (some phones quote the PDU line, tests/data 04.dump). Returns the
 * octet count, or -1 with the offending character's offset in *bad (odd
 * length, a non-hex digit, or more than max octets). */
int gsm_hex_decode(const char *hex, unsigned char *out, size_t max,
		   size_t *bad);
/* n octets of packed GSM-7 septets (TS 23.038 6.1.2.1) to UTF-8 in out
 * (outlen bytes with the NUL; a cut never splits a character). Trailing
 * CR or "@" padding is dropped. Returns the length written. */
size_t gsm_unpack7(const unsigned char *oct, size_t n, char *out,
		   size_t outlen);
/* n octets of UCS-2 / UTF-16 big endian to UTF-8, like gsm_unpack7; a
 * lone surrogate becomes "?". */
size_t gsm_ucs2_to_utf8(const unsigned char *be, size_t n, char *out,
			size_t outlen);

#endif
