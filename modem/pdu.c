/* pdu: SMS PDU codec on top of libgammu, used as a pure codec (MODEM.md
 * "libgammu as a pure codec"). No state machine, no I/O, no logging. */
#include "pdu.h"

#include <gammu.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Concatenated-SMS payload limits, TS 23.040 9.2.3.24.1: a 6-octet UDH
 * (05 00 03 ref n i) costs 7 septets or 6 octets of the 140-octet UD. */
#define GSM7_SINGLE 160
#define GSM7_MULTI 153
#define UCS2_SINGLE 70
#define UCS2_MULTI 67
#define MAX_SEGMENTS 255 /* the UDH part counter is one octet */

/* WIB (UTC+7): the time zone we stamp on SMS-DELIVERs we build. */
#define SCTS_TZ_SECONDS (7 * 3600)

static void set_err(char *err, size_t errlen, const char *fmt, const char *a,
		    int n)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, a, n);
}

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

/* Hex line to binary; trailing CR/LF/space is tolerated. Returns the
 * octet count or -1 (bad digit at *bad). */
static int hex_to_bin(const char *hex, unsigned char *out, size_t max,
		      size_t *bad)
{
	size_t len = strlen(hex);

	while (len && (hex[len - 1] == '\r' || hex[len - 1] == '\n' ||
		       hex[len - 1] == ' '))
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

static void bin_to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* libgammu strings are UCS-2 big endian, NUL-terminated (2 octets). */
/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid:
 * overlong forms, surrogates (a lone UCS-2 surrogate from a corrupt PDU)
 * and code points above U+10FFFF are refused. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2
			     : (c & 0xF0) == 0xE0 ? 3
			     : (c & 0xF8) == 0xF0 ? 4
						  : 0;
	unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 7;

	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (n == 0 || (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

/* Copies in to out (max bytes with the NUL) keeping it valid UTF-8: a
 * bad sequence becomes '?', and a cut never splits a character. */
static void utf8_copy(char *out, size_t max, const char *in)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0;

	while (*p) {
		size_t n = utf8_seq(p);
		if (o + (n ? n : 1) + 1 > max)
			break;
		if (n) {
			memmove(out + o, p, n); /* in may be out (in place) */
			o += n;
			p += n;
		} else {
			out[o++] = '?';
			p++;
		}
	}
	out[o] = '\0';
}

/* libgammu's GSM_UnpackSemiOctetNumber copies an address into a fixed
 * stack buffer without checking its announced length, so a corrupt PDU
 * from the network could smash the stack. The lengths are checked here
 * first: the SMSC address is at most 11 octets after its length octet
 * (TS 24.011 8.2.5.2), TP-OA/DA/RA at most 20 semi-octets (TS 23.040
 * 9.1.2.5). */
static int addr_octets(int semi)
{
	return 2 + (semi + 1) / 2; /* length, type of address, digits */
}

/* TS 23.038 4: is the user data in 8-bit or UCS-2 (octets, max 140) rather
 * than GSM-7 (septets, max 160)? */
static bool dcs_octets(unsigned dcs)
{
	if ((dcs & 0xC0) == 0x00 || (dcs & 0xC0) == 0x40)
		return ((dcs >> 2) & 3) != 0;
	if ((dcs & 0xF0) == 0xE0)
		return true;
	if ((dcs & 0xF0) == 0xF0)
		return dcs & 4;
	return false;
}

/* TS 23.040 9.2.3.11: a time stamp is 7 octets of swapped BCD. libgammu
 * formats it into a fixed buffer whatever the digits are, so non-BCD
 * nibbles from a corrupt PDU must not reach it. */
static bool bcd_time_ok(const unsigned char *b, int at, int n)
{
	if (at + 7 > n)
		return true; /* too short: libgammu reports it */
	/* year, month, day, hour, minute, second: upper bounds */
	static const unsigned max[6] = {99, 12, 31, 23, 59, 59};

	for (int i = 0; i < 7; i++) {
		unsigned lo = b[at + i] & 0x0F, hi = b[at + i] >> 4;
		if (hi > 9 || (i < 6 ? lo : lo & 7) > 9)
			return false;
		if (i < 6 && lo * 10 + hi > max[i])
			return false; /* semi-octets are swapped */
	}
	return true;
}

/* TS 23.040 9.2.2.3 and 9.2.3.27: a STATUS-REPORT may carry TP-PI and,
 * if its bit 2 is set, user data that libgammu 1.42 unpacks into the same
 * 161-octet stack buffer as a DELIVER's (it reads TP-PID at pi+1 if bit 0,
 * TP-DCS next if bit 1, then TP-UDL, and ignores the extension bit). It
 * unpacks only user data that lies within the PDU, so TP-PI 0xFF in FF
 * padding (a real SMSC's, tests/data 32.dump) is harmless; user data
 * longer than 140 that does lie within it is corrupt. */
static bool report_ud_fits(const unsigned char *b, int pi, int n)
{
	if (pi >= n || !(b[pi] & 4))
		return true;
	int udl = pi + 1 + (b[pi] & 1) + ((b[pi] >> 1) & 1);
	if (udl >= n || b[udl] <= 140)
		return true;
	return udl + 1 + (b[udl] * 7 + 7) / 8 > n; /* shortest coding */
}

static bool addresses_fit(const unsigned char *b, int n, bool with_smsc)
{
	static const int vp_len[4] = {0, 7, 1, 7}; /* TS 23.040 9.2.3.3 */
	int i = 0;

	if (with_smsc) {
		if (b[0] > 11)
			return false;
		i = 1 + b[0];
	}
	if (i >= n)
		return true; /* too short: libgammu reports it */
	int fo = b[i], mti = fo & 3, a = i + 1 + (mti != 0);
	if (a >= n)
		return true;
	if (b[a] > 20)
		return false;
	int after = a + addr_octets(b[a]);
	if (mti == 2) /* STATUS-REPORT: SCTS, DT, TP-ST, optional TP-PI */
		return bcd_time_ok(b, after, n) &&
		       bcd_time_ok(b, after + 7, n) &&
		       report_ud_fits(b, after + 15, n);
	if (mti == 0 && !bcd_time_ok(b, after + 2, n))
		return false;
	int dcs = after + 1;
	int udl = dcs + 1 + (mti == 0 ? 7 : vp_len[(fo >> 3) & 3]);
	if (udl >= n)
		return true;
	/* libgammu unpacks the user data into fixed buffers too */
	return b[udl] <= (dcs_octets(b[dcs]) ? 140 : 160);
}

static void gammu_to_utf8(const unsigned char *ucs2, char *out, size_t max)
{
	/* EncodeUTF8 writes at most 4 octets per UCS-2 unit pair; the
	 * buffers handed in here are sized for that (MODEM.md: never
	 * DecodeUnicodeString, it is locale-bound and truncates). */
	size_t units = UnicodeLength(ucs2);
	char *tmp = malloc(units * 4 + 1);

	if (!tmp) {
		out[0] = '\0';
		return;
	}
	tmp[0] = '\0';
	EncodeUTF8(tmp, ucs2);
	utf8_copy(out, max, tmp);
	free(tmp);
}

static int64_t datetime_to_unix(const GSM_DateTime *dt)
{
	struct tm tm = {0};

	if (dt->Year == 0)
		return 0;
	tm.tm_year = dt->Year - 1900;
	tm.tm_mon = dt->Month - 1;
	tm.tm_mday = dt->Day;
	tm.tm_hour = dt->Hour;
	tm.tm_min = dt->Minute;
	tm.tm_sec = dt->Second;
	/* GSM_DateTime.Timezone is the offset east of UTC in seconds. */
	return (int64_t)timegm(&tm) - dt->Timezone;
}

static bool is_alnum_number(const char *n)
{
	if (!n[0])
		return false;
	for (const char *p = n[0] == '+' ? n + 1 : n; *p; p++)
		if ((*p < '0' || *p > '9') && *p != '*' && *p != '#')
			return true;
	return false;
}

static void fill_concat(const GSM_SMSMessage *sms, struct pdu_message *out)
{
	out->ref = 0;
	out->parts = 1;
	out->seq = 1;
	out->ref16 = false;
	/* TS 23.040 9.2.3.24.1: a sequence number of 0 or above the total
	 * means the IE is to be ignored: the message is treated as single */
	if (sms->UDH.Type == UDH_NoUDH || sms->UDH.AllParts < 1 ||
	    sms->UDH.PartNumber < 1 ||
	    sms->UDH.PartNumber > sms->UDH.AllParts)
		return;
	if (sms->UDH.ID16bit >= 0) {
		out->ref = sms->UDH.ID16bit;
		out->ref16 = true;
	} else if (sms->UDH.ID8bit >= 0) {
		out->ref = sms->UDH.ID8bit;
	} else {
		return;
	}
	out->parts = sms->UDH.AllParts;
	out->seq = sms->UDH.PartNumber;
}

static int fill_message(const GSM_SMSMessage *sms, struct pdu_message *out,
			char *err, size_t errlen)
{
	gammu_to_utf8(sms->Number, out->number, sizeof(out->number));
	out->number_alnum = is_alnum_number(out->number);
	gammu_to_utf8(sms->SMSC.Number, out->smsc, sizeof(out->smsc));
	fill_concat(sms, out);
	switch (sms->PDU) {
	case SMS_Deliver:
		out->kind = PDU_DELIVER;
		out->scts = datetime_to_unix(&sms->DateTime);
		break;
	case SMS_Submit:
		out->kind = PDU_SUBMIT;
		out->mr = sms->MessageReference;
		break;
	case SMS_Status_Report:
		/* Status report layout: DateTime is TP-DT (discharge),
		 * SMSCTime is TP-SCTS (TS 23.040 9.2.2.3). */
		out->kind = PDU_STATUS_REPORT;
		out->mr = sms->MessageReference;
		out->status = sms->DeliveryStatus;
		out->scts = datetime_to_unix(&sms->SMSCTime);
		out->done_at = datetime_to_unix(&sms->DateTime);
		return 0;
	default:
		out->kind = PDU_UNKNOWN;
		return 0;
	}
	if (sms->Coding != SMS_Coding_Default_No_Compression &&
	    sms->Coding != SMS_Coding_Unicode_No_Compression) {
		/* 8-bit data (WAP push, OTA settings) or compressed text
		 * that libgammu cannot expand: not a resident's text. */
		out->binary = true;
		return 0;
	}
	size_t units = UnicodeLength(sms->Text);

	out->text = malloc(units * 4 + 1);
	if (!out->text) {
		set_err(err, errlen, "pdu_decode: out of memory%s (%d)", "", 0);
		return -1;
	}
	out->text[0] = '\0';
	EncodeUTF8(out->text, sms->Text);
	/* a lone surrogate in a corrupt UCS-2 text is not UTF-8 */
	utf8_copy(out->text, units * 4 + 1, out->text);
	return 0;
}

int pdu_decode(const char *hex, bool with_smsc, int tpdu_len,
	       struct pdu_message *out, char *err, size_t errlen)
{
	unsigned char buf[400];
	size_t bad = 0, parsed = 0;
	GSM_SMSMessage *sms;
	int n, rc = -1;

	memset(out, 0, sizeof(*out));
	out->kind = PDU_UNKNOWN;
	out->parts = out->seq = 1;
	if (!hex) {
		set_err(err, errlen, "corrupted PDU: no data%s (%d)", "", 0);
		return -1;
	}
	n = hex_to_bin(hex, buf, sizeof(buf), &bad);
	if (n < 0) {
		set_err(err, errlen,
			"corrupted PDU: not a hex string of whole octets "
			"(%sat character %d)",
			"", (int)bad);
		return -1;
	}
	if (n == 0 || (with_smsc && buf[0] + 1 >= n)) {
		set_err(err, errlen, "corrupted PDU: %stoo short (%d octets)",
			"", n);
		return -1;
	}
	if (!addresses_fit(buf, n, with_smsc)) {
		set_err(err, errlen,
			"corrupted PDU: %san address or the user data is "
			"longer than TS 23.040 allows (%d octets)",
			"", n);
		return -1;
	}
	sms = calloc(1, sizeof(*sms));
	if (!sms) {
		set_err(err, errlen, "pdu_decode: out of memory%s (%d)", "", 0);
		return -1;
	}
	GSM_SetDefaultReceivedSMSData(sms);
	GSM_Error e = GSM_DecodePDUFrame(GSM_GetGlobalDebug(), sms, buf,
					 (size_t)n, &parsed, with_smsc);
	if (e != ERR_NONE) {
		/* Bookworm's 1.42 answers ERR_CORRUPTED for truncated PDUs. */
		set_err(err, errlen,
			"corrupted PDU: libgammu cannot decode it (%s, %d "
			"octets); keep the raw PDU",
			GSM_ErrorString(e), n);
		goto out;
	}
	if (parsed < (size_t)n) {
		size_t smsc_octets = with_smsc ? (size_t)buf[0] + 1 : 0;

		/* Like Gammu's ATGEN_DecodePDUMessage: phones pad with FF.
		 * Octets past the announced <length> are junk the modem
		 * appended (TS 27.005 3.4.1: <length> counts the TPDU). */
		if (buf[parsed] != 0xFF &&
		    !(tpdu_len >= 0 && parsed >= smsc_octets + tpdu_len)) {
			set_err(err, errlen,
				"corrupted PDU: %s%d octets left after the "
				"message (announced length disagrees)",
				"", (int)((size_t)n - parsed));
			goto out;
		}
	}
	rc = fill_message(sms, out, err, errlen);
out:
	free(sms);
	if (rc < 0)
		pdu_message_clear(out);
	return rc;
}

void pdu_message_clear(struct pdu_message *m)
{
	if (!m)
		return;
	free(m->text);
	m->text = NULL;
}

/* ---- encoding ---- */

/* GSM 03.38 default alphabet (6.2.1) as Unicode; 0x1B is the escape. */
static const uint16_t gsm7_default[128] = {
	0x40,  0xA3,  0x24,  0xA5,  0xE8,  0xE9,  0xF9,  0xEC,  0xF2,  0xC7,
	0x0A,  0xD8,  0xF8,  0x0D,  0xC5,  0xE5,  0x394, 0x5F,  0x3A6, 0x393,
	0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xFFFF, 0xC6, 0xE6,
	0xDF,  0xC9,  0x20,  0x21,  0x22,  0x23,  0xA4,  0x25,  0x26,  0x27,
	0x28,  0x29,  0x2A,  0x2B,  0x2C,  0x2D,  0x2E,  0x2F,  0x30,  0x31,
	0x32,  0x33,  0x34,  0x35,  0x36,  0x37,  0x38,  0x39,  0x3A,  0x3B,
	0x3C,  0x3D,  0x3E,  0x3F,  0xA1,  0x41,  0x42,  0x43,  0x44,  0x45,
	0x46,  0x47,  0x48,  0x49,  0x4A,  0x4B,  0x4C,  0x4D,  0x4E,  0x4F,
	0x50,  0x51,  0x52,  0x53,  0x54,  0x55,  0x56,  0x57,  0x58,  0x59,
	0x5A,  0xC4,  0xD6,  0xD1,  0xDC,  0xA7,  0xBF,  0x61,  0x62,  0x63,
	0x64,  0x65,  0x66,  0x67,  0x68,  0x69,  0x6A,  0x6B,  0x6C,  0x6D,
	0x6E,  0x6F,  0x70,  0x71,  0x72,  0x73,  0x74,  0x75,  0x76,  0x77,
	0x78,  0x79,  0x7A,  0xE4,  0xF6,  0xF1,  0xFC,  0xE0,
};

/* 6.2.1.1 extension table: each costs two septets (ESC + char). */
static const uint16_t gsm7_ext[] = {0x0C, 0x5E, 0x7B, 0x7D, 0x5C,
				    0x5B, 0x7E, 0x5D, 0x7C, 0x20AC};

/* Septets one code point costs in GSM-7, or 0 if it cannot be sent so. */
static int gsm7_cost(uint32_t cp)
{
	for (size_t i = 0; i < 128; i++)
		if (gsm7_default[i] == cp)
			return 1;
	for (size_t i = 0; i < sizeof(gsm7_ext) / sizeof(gsm7_ext[0]); i++)
		if (gsm7_ext[i] == cp)
			return 2;
	return 0;
}

/* Decodes one UTF-8 sequence; returns its length or -1. */
static int utf8_next(const unsigned char *s, uint32_t *cp)
{
	int len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xE0) == 0xC0) {
		*cp = s[0] & 0x1F;
		len = 2;
	} else if ((s[0] & 0xF0) == 0xE0) {
		*cp = s[0] & 0x0F;
		len = 3;
	} else if ((s[0] & 0xF8) == 0xF0) {
		*cp = s[0] & 0x07;
		len = 4;
	} else {
		return -1;
	}
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return -1;
		*cp = *cp << 6 | (s[i] & 0x3F);
	}
	if (*cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
		return -1;
	return len;
}

/* One code point of the text: where it starts and what it costs. */
struct cpinfo {
	size_t off;
	int len;     /* UTF-8 octets */
	int septets; /* 0: not GSM-7 */
	int units;   /* UTF-16 code units: 2 for astral (emoji) */
};

static int scan_text(const char *text, struct cpinfo **cps, size_t *ncp,
		     bool *gsm7)
{
	size_t n = strlen(text), cap = n + 1, k = 0;
	struct cpinfo *v = malloc(cap * sizeof(*v));

	if (!v)
		return -1;
	*gsm7 = true;
	for (size_t off = 0; off < n;) {
		uint32_t cp;
		int len = utf8_next((const unsigned char *)text + off, &cp);

		if (len < 0) {
			free(v);
			return (int)-2 - (int)off;
		}
		v[k].off = off;
		v[k].len = len;
		v[k].septets = gsm7_cost(cp);
		v[k].units = cp > 0xFFFF ? 2 : 1;
		if (!v[k].septets)
			*gsm7 = false;
		k++;
		off += (size_t)len;
	}
	*cps = v;
	*ncp = k;
	return 0;
}

/* Splits the code points into segments that fit, never between the two
 * halves of a surrogate pair or an escape and its char; starts[i] is the
 * first code point of segment i. Returns the segment count. */
static int split_segments(const struct cpinfo *cps, size_t ncp, bool gsm7,
			  size_t *starts, int max)
{
	int single = gsm7 ? GSM7_SINGLE : UCS2_SINGLE;
	int multi = gsm7 ? GSM7_MULTI : UCS2_MULTI;
	int total = 0, nseg = 0, used = 0;

	for (size_t i = 0; i < ncp; i++)
		total += gsm7 ? cps[i].septets : cps[i].units;
	starts[nseg++] = 0;
	if (total <= single)
		return 1;
	for (size_t i = 0; i < ncp; i++) {
		int c = gsm7 ? cps[i].septets : cps[i].units;

		if (used + c > multi) {
			if (nseg >= max)
				return -1;
			starts[nseg++] = i;
			used = 0;
		}
		used += c;
	}
	return nseg;
}

static void utf8_to_gammu(const char *s, size_t len, unsigned char *out)
{
	/* DecodeUTF8 writes UCS-2 BE with surrogate pairs for astral
	 * code points and a 2-octet NUL terminator. */
	DecodeUTF8(out, s, len);
}

static void number_to_gammu(const char *num, unsigned char *out)
{
	EncodeUnicode(out, num, strlen(num));
}

/* Builds the TPDU from GSM_EncodeSMSFrame's layout buffer the way Gammu's
 * ATGEN_MakeSMSFrame does; the SMSC part is "00" or the given number. */
static int assemble(const unsigned char *buf, int length,
		    const GSM_SMSMessageLayout *L, bool submit, bool have_smsc,
		    struct pdu_segment *seg)
{
	unsigned char req[400];
	int cur = 0, smsc_len, i;

	if (have_smsc) {
		for (i = 0; i < buf[L->SMSCNumber] + 1; i++)
			req[cur++] = buf[L->SMSCNumber + i];
	} else {
		req[cur++] = 0x00; /* TS 27.005 3.3.1: use stored SMSC */
	}
	smsc_len = cur;
	req[cur++] = buf[L->firstbyte];
	if (submit)
		req[cur++] = buf[L->TPMR];
	for (i = 0; i < (buf[L->Number] + 1) / 2 + 2; i++)
		req[cur++] = buf[L->Number + i];
	req[cur++] = buf[L->TPPID];
	req[cur++] = buf[L->TPDCS];
	if (submit) {
		req[cur++] = buf[L->TPVP];
	} else {
		for (i = 0; i < 7; i++)
			req[cur++] = buf[L->DateTime + i];
	}
	req[cur++] = buf[L->TPUDL];
	if (length - L->Text < 0 || cur + length - L->Text > 175)
		return -1;
	for (i = 0; i < length - L->Text; i++)
		req[cur++] = buf[L->Text + i];
	bin_to_hex(req, (size_t)cur, seg->hex);
	seg->tpdu_len = cur - smsc_len;
	return 0;
}

static void unix_to_datetime(int64_t t, GSM_DateTime *dt)
{
	time_t local = (time_t)(t + SCTS_TZ_SECONDS);
	struct tm tm;

	gmtime_r(&local, &tm);
	memset(dt, 0, sizeof(*dt));
	dt->Year = tm.tm_year + 1900;
	dt->Month = tm.tm_mon + 1;
	dt->Day = tm.tm_mday;
	dt->Hour = tm.tm_hour;
	dt->Minute = tm.tm_min;
	dt->Second = tm.tm_sec;
	dt->Timezone = SCTS_TZ_SECONDS;
}

struct enc_params {
	const char *number;
	const char *smsc;
	bool submit;
	bool status_report;
	int64_t scts;
	int ref;
};

static int encode_one(const struct enc_params *p, const char *text,
		      size_t len, bool gsm7, int seq, int parts,
		      struct pdu_segment *seg)
{
	const GSM_SMSMessageLayout *L =
		p->submit ? &PHONE_SMSSubmit : &PHONE_SMSDeliver;
	unsigned char buf[1000];
	GSM_SMSMessage *sms = calloc(1, sizeof(*sms));
	int length = 0, rc = -1;
	bool have_smsc = p->smsc && p->smsc[0];

	if (!sms)
		return -1;
	GSM_SetDefaultSMSData(sms);
	sms->PDU = p->submit ? SMS_Submit : SMS_Deliver;
	sms->Class = -1; /* MODEM.md: otherwise it goes out as flash SMS */
	sms->Coding = gsm7 ? SMS_Coding_Default_No_Compression
			   : SMS_Coding_Unicode_No_Compression;
	number_to_gammu(p->number, sms->Number);
	/* An empty SMSC would encode as "01 81", which modems reject;
	 * assemble() writes "00" instead. */
	number_to_gammu(have_smsc ? p->smsc : "", sms->SMSC.Number);
	sms->SMSC.Validity.Format = SMS_Validity_RelativeFormat;
	sms->SMSC.Validity.Relative = SMS_VALID_Max_Time;
	utf8_to_gammu(text, len, sms->Text);
	sms->Length = (int)UnicodeLength(sms->Text);
	if (!p->submit)
		unix_to_datetime(p->scts, &sms->DateTime);
	if (parts > 1) {
		/* TS 23.040 9.2.3.24.1: IEI 00, 8-bit reference; our own
		 * reference, never libgammu's clock-derived one. */
		sms->UDH.Type = UDH_ConcatenatedMessages;
		sms->UDH.Length = 6;
		sms->UDH.Text[0] = 0x05;
		sms->UDH.Text[1] = 0x00;
		sms->UDH.Text[2] = 0x03;
		sms->UDH.Text[3] = (unsigned char)p->ref;
		sms->UDH.Text[4] = (unsigned char)parts;
		sms->UDH.Text[5] = (unsigned char)seq;
		sms->UDH.ID8bit = p->ref & 0xFF;
		sms->UDH.PartNumber = seq;
		sms->UDH.AllParts = parts;
	} else {
		sms->UDH.Type = UDH_NoUDH;
	}
	if (GSM_EncodeSMSFrame(GSM_GetGlobalDebug(), sms, buf, *L, &length,
			       TRUE) != ERR_NONE)
		goto out;
	if (p->submit && p->status_report)
		buf[L->firstbyte] |= 0x20; /* TP-SRR, TS 23.040 9.2.3.5 */
	if (!p->submit) {
		/* libgammu always writes time zone 0 (a FIXME in its
		 * GSM_EncodeSMSDateTime): set it, TS 23.040 9.2.3.11:
		 * quarter hours as swapped BCD, sign in bit 3. */
		int q = SCTS_TZ_SECONDS / 900;

		buf[L->DateTime + 6] =
			(unsigned char)((q % 10) << 4 | (q / 10 % 10));
	}
	rc = assemble(buf, length, L, p->submit, have_smsc, seg);
out:
	free(sms);
	return rc;
}

/* Decodes what we built and compares it with the input: proves the
 * round trip (MODEM.md) and catches characters libgammu mapped to '?'. */
static bool roundtrip_ok(const struct pdu_segment *seg, const char *text,
			 size_t len)
{
	struct pdu_message m;
	bool ok;

	if (pdu_decode(seg->hex, true, seg->tpdu_len, &m, NULL, 0) < 0)
		return false;
	ok = m.text && strlen(m.text) == len && !memcmp(m.text, text, len);
	pdu_message_clear(&m);
	return ok;
}

static int encode_text(const struct enc_params *p, const char *text,
		       struct pdu_segment *segs, int max, char *err,
		       size_t errlen)
{
	struct cpinfo *cps = NULL;
	size_t ncp = 0, *starts = NULL, tlen = strlen(text);
	bool gsm7;
	int nseg, rc = -1;
	int s = scan_text(text, &cps, &ncp, &gsm7);

	if (s == -1) {
		set_err(err, errlen, "pdu_encode: out of memory%s (%d)", "", 0);
		return -1;
	}
	if (s < -1) {
		set_err(err, errlen,
			"pdu_encode: text is not valid UTF-8%s (octet %d)", "",
			-2 - s);
		return -1;
	}
	starts = malloc((max > 0 ? (size_t)max : 1) * sizeof(*starts));
	if (!starts) {
		set_err(err, errlen, "pdu_encode: out of memory%s (%d)", "", 0);
		goto out;
	}
	nseg = max > 0 ? split_segments(cps, ncp, gsm7, starts,
					 max < MAX_SEGMENTS ? max
							    : MAX_SEGMENTS)
		       : -1;
	if (nseg < 0) {
		set_err(err, errlen,
			"pdu_encode: text needs more segments than allowed%s "
			"(%d)",
			"", max);
		goto out;
	}
	for (int i = 0; i < nseg; i++) {
		size_t a = ncp ? cps[starts[i]].off : 0;
		size_t b = i + 1 < nseg ? cps[starts[i + 1]].off : tlen;

		if (encode_one(p, text + a, b - a, gsm7, i + 1, nseg,
			       &segs[i]) < 0) {
			set_err(err, errlen,
				"pdu_encode: libgammu could not encode "
				"segment%s %d",
				"", i + 1);
			goto out;
		}
		if (!roundtrip_ok(&segs[i], text + a, b - a)) {
			set_err(err, errlen,
				"pdu_encode: segment%s %d does not decode back "
				"to its text",
				"", i + 1);
			goto out;
		}
	}
	rc = nseg;
out:
	free(starts);
	free(cps);
	return rc;
}

static bool valid_number(const char *n)
{
	if (!n || !n[0] || strlen(n) > 20)
		return false;
	return true;
}

int pdu_encode_submit(const char *to, const char *text, const char *smsc,
		      int ref, bool status_report, struct pdu_segment *segs,
		      int max, char *err, size_t errlen)
{
	struct enc_params p = {.number = to,
			       .smsc = smsc,
			       .submit = true,
			       .status_report = status_report,
			       .ref = ref};

	if (!valid_number(to) || !text) {
		set_err(err, errlen,
			"pdu_encode_submit: recipient '%s' is empty or too "
			"long (%d digits max)",
			to ? to : "", 20);
		return -1;
	}
	return encode_text(&p, text, segs, max, err, errlen);
}

int pdu_encode_deliver(const char *from, const char *text, const char *smsc,
		       int64_t scts, int ref, struct pdu_segment *segs,
		       int max, char *err, size_t errlen)
{
	struct enc_params p = {
		.number = from, .smsc = smsc, .scts = scts, .ref = ref};

	if (!valid_number(from) || !text) {
		set_err(err, errlen,
			"pdu_encode_deliver: sender '%s' is empty or too long "
			"(%d characters max)",
			from ? from : "", 20);
		return -1;
	}
	return encode_text(&p, text, segs, max, err, errlen);
}
