#include "gsm.h"

#include <stdint.h>
#include <string.h>

/* 3GPP TS 23.038 clause 6.2.1: the GSM 7-bit default alphabet, as Unicode
 * code points outside printable ASCII. Printable ASCII is handled in
 * septet_cost(): all of it is in the table except '`' and the characters
 * of the extension table. */
static const uint16_t basic_non_ascii[] = {
	0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7,
	0x00D8, 0x00F8, 0x00C5, 0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B,
	0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, 0x00C6, 0x00E6,
	0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6, 0x00D1, 0x00DC,
	0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
};

/* TS 23.038 clause 6.2.1.1: the default extension table; each character
 * costs the escape septet 0x1B plus its own. */
static const char extension_ascii[] = "^{}\\[]~|\f";

#define GSM_EURO 0x20AC

/* Decodes one UTF-8 sequence at s; *len gets its byte length. Invalid
 * input yields U+FFFD for one byte, which is never GSM-7. */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
	uint32_t c = s[0];
	size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;

	if (n == 0) {
		*len = 1;
		return 0xFFFD;
	}
	if (n == 1) {
		*len = 1;
		return c;
	}
	c &= 0x3F >> (n - 1);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*len = 1;
			return 0xFFFD;
		}
		c = (c << 6) | (s[i] & 0x3F);
	}
	*len = n;
	return c;
}

/* Septets this code point takes in GSM-7: 1, 2 (extension), 0 if none. */
static int septet_cost(uint32_t c)
{
	if (c == '\n' || c == '\r')
		return 1;
	if (c < 0x80) {
		if (c < 0x20 && c != '\f')
			return 0;
		if (c == '`' || c == 0x7F)
			return 0;
		return strchr(extension_ascii, (int)c) ? 2 : 1;
	}
	if (c == GSM_EURO)
		return 2;
	for (size_t i = 0; i < sizeof(basic_non_ascii) / sizeof(*basic_non_ascii);
	     i++)
		if (basic_non_ascii[i] == c)
			return 1;
	return 0;
}

/* Parts of a concatenated message never split a character: an escape
 * pair stays together (TS 23.040 9.2.3.24.1 leaves the UDH 6 octets, so
 * 153 septets or 67 UTF-16 units remain per part), and neither does a
 * surrogate pair. */
static int pack(const unsigned char *s, bool ucs2, size_t total)
{
	size_t single = ucs2 ? 70 : 160, part = ucs2 ? 67 : 153, used = 0;
	int parts = 1;

	if (total <= single)
		return 1;
	while (*s) {
		size_t len;
		uint32_t c = utf8_next(s, &len);
		size_t cost = ucs2 ? (c >= 0x10000 ? 2 : 1) : (size_t)septet_cost(c);
		if (used + cost > part) {
			parts++;
			used = 0;
		}
		used += cost;
		s += len;
	}
	return parts;
}

void gsm_count(const char *utf8, struct gsm_count *out)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t septets = 0, units = 0;

	memset(out, 0, sizeof(*out));
	while (*s) {
		size_t len;
		uint32_t c = utf8_next(s, &len);
		int cost = septet_cost(c);
		if (cost == 0 && !out->ucs2) {
			out->ucs2 = true;
			memcpy(out->first_non_gsm, s, len);
			out->first_non_gsm[len] = '\0';
		}
		septets += (size_t)cost;
		units += c >= 0x10000 ? 2 : 1;
		s += len;
	}
	out->units = out->ucs2 ? units : septets;
	out->segments = pack((const unsigned char *)utf8, out->ucs2, out->units);
}

struct translit {
	uint32_t from;
	const char *to; /* never longer than the UTF-8 of from */
};

static const struct translit translit_table[] = {
	{0x2018, "'"},	 {0x2019, "'"},	  {0x201A, "'"},   {0x201B, "'"},
	{0x2032, "'"},	 {0x00B4, "'"},	  {0x2039, "'"},   {0x203A, "'"},
	{'`', "'"},	 {0x201C, "\""},  {0x201D, "\""},  {0x201E, "\""},
	{0x201F, "\""},	 {0x2033, "\""},  {0x00AB, "\""},  {0x00BB, "\""},
	{0x2010, "-"},	 {0x2011, "-"},	  {0x2012, "-"},   {0x2013, "-"},
	{0x2014, "-"},	 {0x2015, "-"},	  {0x2212, "-"},   {0x2026, "..."},
	{0x00A0, " "},	 {0x202F, " "},	  {0x2007, " "},   {0x2009, " "},
	{0x200A, " "},	 {'\t', " "},	  {0x2022, "*"},   {0x00B7, "."},
	{0x200B, ""},	 {0x200C, ""},	  {0x200D, ""},	   {0xFEFF, ""},
	{0x00AD, ""},	 {0x00C0, "A"},	  {0x00C1, "A"},   {0x00C2, "A"},
	{0x00C3, "A"},	 {0x00C8, "E"},	  {0x00CA, "E"},   {0x00CB, "E"},
	{0x00CC, "I"},	 {0x00CD, "I"},	  {0x00CE, "I"},   {0x00CF, "I"},
	{0x00D2, "O"},	 {0x00D3, "O"},	  {0x00D4, "O"},   {0x00D5, "O"},
	{0x00D9, "U"},	 {0x00DA, "U"},	  {0x00DB, "U"},   {0x00E1, "a"},
	{0x00E2, "a"},	 {0x00E3, "a"},	  {0x00EA, "e"},   {0x00EB, "e"},
	{0x00ED, "i"},	 {0x00EE, "i"},	  {0x00EF, "i"},   {0x00F3, "o"},
	{0x00F4, "o"},	 {0x00F5, "o"},	  {0x00FA, "u"},   {0x00FB, "u"},
	{0x00E7, "c"},	 {0x00FD, "y"},	  {0x00FF, "y"},
};

static const char *translit_of(uint32_t c)
{
	for (size_t i = 0; i < sizeof(translit_table) / sizeof(*translit_table);
	     i++)
		if (translit_table[i].from == c)
			return translit_table[i].to;
	return NULL;
}

void gsm_transliterate(char *utf8)
{
	unsigned char *r = (unsigned char *)utf8, *w = r;

	while (*r) {
		size_t len;
		uint32_t c = utf8_next(r, &len);
		const char *to = translit_of(c);
		if (to) {
			size_t n = strlen(to);
			memcpy(w, to, n);
			w += n;
		} else {
			memmove(w, r, len);
			w += len;
		}
		r += len;
	}
	*w = '\0';
}
