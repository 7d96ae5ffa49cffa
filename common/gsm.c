#include "gsm.h"

#include <stdint.h>
#include <string.h>

/* 3GPP TS 23.038 clause 6.2.1: the GSM 7-bit default alphabet as
 * Unicode, indexed by septet; 0x1B is the escape to the extension table. */
static const uint16_t gsm7_default[128] = {
    0x40,  0xA3,  0x24,	 0xA5,	0xE8,  0xE9,   0xF9, 0xEC,  0xF2,  0xC7,  0x0A,
    0xD8,  0xF8,  0x0D,	 0xC5,	0xE5,  0x394,  0x5F, 0x3A6, 0x393, 0x39B, 0x3A9,
    0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xFFFF, 0xC6, 0xE6,  0xDF,  0xC9,  0x20,
    0x21,  0x22,  0x23,	 0xA4,	0x25,  0x26,   0x27, 0x28,  0x29,  0x2A,  0x2B,
    0x2C,  0x2D,  0x2E,	 0x2F,	0x30,  0x31,   0x32, 0x33,  0x34,  0x35,  0x36,
    0x37,  0x38,  0x39,	 0x3A,	0x3B,  0x3C,   0x3D, 0x3E,  0x3F,  0xA1,  0x41,
    0x42,  0x43,  0x44,	 0x45,	0x46,  0x47,   0x48, 0x49,  0x4A,  0x4B,  0x4C,
    0x4D,  0x4E,  0x4F,	 0x50,	0x51,  0x52,   0x53, 0x54,  0x55,  0x56,  0x57,
    0x58,  0x59,  0x5A,	 0xC4,	0xD6,  0xD1,   0xDC, 0xA7,  0xBF,  0x61,  0x62,
    0x63,  0x64,  0x65,	 0x66,	0x67,  0x68,   0x69, 0x6A,  0x6B,  0x6C,  0x6D,
    0x6E,  0x6F,  0x70,	 0x71,	0x72,  0x73,   0x74, 0x75,  0x76,  0x77,  0x78,
    0x79,  0x7A,  0xE4,	 0xF6,	0xF1,  0xFC,   0xE0,
};

#define GSM7_ESC 0x1B

/* TS 23.038 clause 6.2.1.1: the default extension table, {septet after
 * the escape, Unicode}; each character costs two septets. */
static const uint16_t gsm7_ext[][2] = {
    {0x0A, 0x0C}, {0x14, 0x5E}, {0x28, 0x7B}, {0x29, 0x7D}, {0x2F, 0x5C},
    {0x3C, 0x5B}, {0x3D, 0x7E}, {0x3E, 0x5D}, {0x40, 0x7C}, {0x65, 0x20AC},
};

#define N_EXT (sizeof(gsm7_ext) / sizeof(gsm7_ext[0]))

/* Concatenated-SMS payload limits, TS 23.040 9.2.3.24.1: a 6-octet UDH
 * (05 00 03 ref n i) costs 7 septets or 6 octets of the 140-octet UD. */
#define GSM7_SINGLE 160
#define GSM7_MULTI  153
#define UCS2_SINGLE 70
#define UCS2_MULTI  67

size_t gsm_utf8_decode(const char *str, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c = s[0];
	size_t n = c < 0x80		? 1
		   : (c & 0xE0) == 0xC0 ? 2
		   : (c & 0xF0) == 0xE0 ? 3
		   : (c & 0xF8) == 0xF0 ? 4
					: 0;
	uint32_t v = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 7;

	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	/* RFC 3629 section 3: no overlong forms, no surrogates, nothing
	 * above U+10FFFF */
	if (n == 0 || (n == 2 && v < 0x80) || (n == 3 && v < 0x800) ||
	    (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
	    (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

/* gsm_utf8_decode for counting: invalid input is U+FFFD for one byte,
 * which is never GSM-7. */
static uint32_t utf8_next(const unsigned char *s, size_t *len)
{
	uint32_t c;

	*len = gsm_utf8_decode((const char *)s, &c);
	if (*len)
		return c;
	*len = 1;
	return 0xFFFD;
}

int gsm_septets(uint32_t cp)
{
	if (cp == 0xFFFF)
		return 0;
	for (size_t i = 0; i < 128; i++)
		if (gsm7_default[i] == cp)
			return 1;
	for (size_t i = 0; i < N_EXT; i++)
		if (gsm7_ext[i][1] == cp)
			return 2;
	return 0;
}

/* What one code point takes of a part: septets, or UTF-16 code units. */
static size_t unit_cost(uint32_t c, bool ucs2)
{
	if (ucs2)
		return c >= 0x10000 ? 2 : 1;
	return (size_t)gsm_septets(c);
}

/* Parts of a concatenated message never split a character: an escape
 * pair stays together, and neither does a surrogate pair. */
int gsm_split(const char *utf8, bool ucs2, size_t *starts, int max)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t single = ucs2 ? UCS2_SINGLE : GSM7_SINGLE;
	size_t part = ucs2 ? UCS2_MULTI : GSM7_MULTI, used = 0, total = 0;
	int parts = 1;

	for (const unsigned char *p = s; *p;) {
		size_t len;
		uint32_t c = utf8_next(p, &len);

		total += unit_cost(c, ucs2);
		p += len;
	}
	if (starts && max < 1)
		return -1;
	if (starts)
		starts[0] = 0;
	if (total <= single)
		return 1;
	for (const unsigned char *p = s; *p;) {
		size_t len;
		uint32_t c = utf8_next(p, &len);
		size_t cost = unit_cost(c, ucs2);

		if (used + cost > part) {
			if (starts && parts >= max)
				return -1;
			if (starts)
				starts[parts] = (size_t)(p - s);
			parts++;
			used = 0;
		}
		used += cost;
		p += len;
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
		int cost = gsm_septets(c);
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
	out->segments = gsm_split(utf8, out->ucs2, NULL, 0);
}

struct translit {
	uint32_t from;
	const char *to; /* never longer than the UTF-8 of from */
};

static const struct translit translit_table[] = {
    {0x2018, "'"},  {0x2019, "'"},  {0x201A, "'"},  {0x201B, "'"},
    {0x2032, "'"},  {0x00B4, "'"},  {0x2039, "'"},  {0x203A, "'"},
    {'`', "'"},	    {0x201C, "\""}, {0x201D, "\""}, {0x201E, "\""},
    {0x201F, "\""}, {0x2033, "\""}, {0x00AB, "\""}, {0x00BB, "\""},
    {0x2010, "-"},  {0x2011, "-"},  {0x2012, "-"},  {0x2013, "-"},
    {0x2014, "-"},  {0x2015, "-"},  {0x2212, "-"},  {0x2026, "..."},
    {0x00A0, " "},  {0x202F, " "},  {0x2007, " "},  {0x2009, " "},
    {0x200A, " "},  {'\t', " "},    {0x2022, "*"},  {0x00B7, "."},
    {0x200B, ""},   {0x200C, ""},   {0x200D, ""},   {0xFEFF, ""},
    {0x00AD, ""},   {0x00C0, "A"},  {0x00C1, "A"},  {0x00C2, "A"},
    {0x00C3, "A"},  {0x00C8, "E"},  {0x00CA, "E"},  {0x00CB, "E"},
    {0x00CC, "I"},  {0x00CD, "I"},  {0x00CE, "I"},  {0x00CF, "I"},
    {0x00D2, "O"},  {0x00D3, "O"},  {0x00D4, "O"},  {0x00D5, "O"},
    {0x00D9, "U"},  {0x00DA, "U"},  {0x00DB, "U"},  {0x00E1, "a"},
    {0x00E2, "a"},  {0x00E3, "a"},  {0x00EA, "e"},  {0x00EB, "e"},
    {0x00ED, "i"},  {0x00EE, "i"},  {0x00EF, "i"},  {0x00F3, "o"},
    {0x00F4, "o"},  {0x00F5, "o"},  {0x00FA, "u"},  {0x00FB, "u"},
    {0x00E7, "c"},  {0x00FD, "y"},  {0x00FF, "y"},
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

/* ---- decoding what the network sends ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gsm_hex_decode(const char *hex, unsigned char *out, size_t max, size_t *bad)
{
	size_t len = strlen(hex);

	while (len && (hex[len - 1] == '\r' || hex[len - 1] == '\n' ||
		       hex[len - 1] == ' '))
		len--;
	if (len && hex[len - 1] == '"') /* a quoted PDU line (04.dump) */
		len--;
	if (len % 2) {
		*bad = len;
		return -1;
	}
	if (len / 2 > max) {
		*bad = max * 2;
		return -1;
	}
	for (size_t i = 0; i < len; i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

		if (hi < 0 || lo < 0) {
			*bad = i;
			return -1;
		}
		out[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

/* Appends the UTF-8 of cp at out[*o] if it fits with the NUL: a cut
 * never splits a character. */
static bool put_utf8(uint32_t cp, char *out, size_t outlen, size_t *o)
{
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	unsigned char *w = (unsigned char *)out + *o;

	if (*o + n + 1 > outlen)
		return false;
	if (n == 1) {
		w[0] = (unsigned char)cp;
	} else {
		for (size_t i = n - 1; i > 0; i--) {
			w[i] = (unsigned char)(0x80 | (cp & 0x3F));
			cp >>= 6;
		}
		w[0] = (unsigned char)((0xF00 >> n) | cp);
	}
	*o += n;
	return true;
}

static uint32_t ext_char(unsigned septet)
{
	for (size_t i = 0; i < N_EXT; i++)
		if (gsm7_ext[i][0] == septet)
			return gsm7_ext[i][1];
	return ' '; /* TS 23.038 6.2.1.1: an unknown escape shows a space */
}

size_t gsm_unpack7(const unsigned char *oct, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	unsigned acc = 0, bits = 0;
	bool esc = false;

	if (!outlen)
		return 0;
	for (size_t i = 0; i < n; i++) {
		acc |= (unsigned)oct[i] << bits;
		for (bits += 8; bits >= 7; bits -= 7, acc >>= 7) {
			unsigned sept = acc & 0x7F;
			uint32_t cp = esc ? ext_char(sept) : gsm7_default[sept];

			esc = !esc && sept == GSM7_ESC;
			if (!esc && !put_utf8(cp, out, outlen, &o))
				goto done;
		}
	}
done:
	/* TS 23.038 6.1.2.3.1: a CR (or a zero septet, "@") pads the last
	 * octet */
	while (o > 0 && (out[o - 1] == '\r' || out[o - 1] == '@'))
		o--;
	out[o] = '\0';
	return o;
}

size_t gsm_ucs2_to_utf8(const unsigned char *be, size_t n, char *out,
			size_t outlen)
{
	size_t o = 0;

	if (!outlen)
		return 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t u = (uint32_t)be[i] << 8 | be[i + 1];

		if (u >= 0xD800 && u <= 0xDBFF && i + 3 < n &&
		    be[i + 2] >= 0xDC && be[i + 2] <= 0xDF) {
			uint32_t lo = (uint32_t)be[i + 2] << 8 | be[i + 3];

			u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			i += 2;
		} else if (u >= 0xD800 && u <= 0xDFFF) {
			u = '?'; /* a lone surrogate is not a character */
		}
		if (!put_utf8(u, out, outlen, &o))
			break;
	}
	out[o] = '\0';
	return o;
}
