/* pdu: SMS PDU codec on top of libgammu, used as a pure codec (doc/modem.md
 * "libgammu as a pure codec"). No state machine, no I/O, no logging. */
#include "pdu.h"

#include <gammu.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gsm.h"

/* Segment limits are gsm_split's (common/gsm.c). */
#define MAX_SEGMENTS 255 /* the UDH part counter is one octet */

/* WIB (UTC+7): the time zone we stamp on SMS-DELIVERs we build. */
#define SCTS_TZ_SECONDS (7 * 3600)

static void set_err(char *err, size_t errlen, const char *fmt, const char *a,
		    int n)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, a, n);
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

/* The type-of-address octet of TP-OA (DELIVER) or TP-DA/TP-RA (SUBMIT,
 * STATUS-REPORT), or -1 when the PDU is too short to hold it. */
static int address_type(const unsigned char *b, int n, bool with_smsc)
{
	int i = with_smsc ? 1 + b[0] : 0;

	if (i >= n)
		return -1;
	int a = i + 1 + ((b[i] & 3) != 0); /* TP-MR precedes DA and RA */
	return a + 1 < n ? b[a + 1] : -1;
}

/* TS 23.040 9.1.2.5: type of number 101 is an alphanumeric address (a
 * sender ID in GSM-7, "TELKOMSEL" or just as well "81234567890"). Only
 * the type of number says so: the characters cannot, since anyone who
 * can choose a sender ID can choose one that looks like a phone number. */
static bool toa_alphanumeric(int toa)
{
	return toa >= 0 && ((toa >> 4) & 7) == 5;
}

/* libgammu strings are UCS-2 big endian, NUL-terminated (2 octets).
 * doc/modem.md: never DecodeUnicodeString, it is locale-bound and truncates;
 * gsm_ucs2_to_utf8 keeps the result valid UTF-8 (a lone surrogate from a
 * corrupt PDU becomes "?") and never splits a character. */
static void gammu_to_utf8(const unsigned char *ucs2, char *out, size_t max)
{
	gsm_ucs2_to_utf8(ucs2, UnicodeLength(ucs2) * 2, out, max);
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

static void fill_concat(const GSM_SMSMessage *sms, struct pdu_message *out)
{
	out->ref = 0;
	out->parts = 1;
	out->seq = 1;
	out->ref16 = false;
	/* TS 23.040 9.2.3.24.1: a sequence number of 0 or above the total
	 * means the IE is to be ignored: the message is treated as single */
	if (sms->UDH.Type == UDH_NoUDH || sms->UDH.AllParts < 1 ||
	    sms->UDH.PartNumber < 1 || sms->UDH.PartNumber > sms->UDH.AllParts)
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

static int fill_message(const GSM_SMSMessage *sms, int toa,
			struct pdu_message *out, char *err, size_t errlen)
{
	gammu_to_utf8(sms->Number, out->number, sizeof(out->number));
	out->number_alnum = toa_alphanumeric(toa);
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
	gammu_to_utf8(sms->Text, out->text, units * 4 + 1);
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
	n = gsm_hex_decode(hex, buf, sizeof(buf), &bad);
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
		 * appended (TS 27.005 3.4.1: <length> counts the TPDU); so
		 * are octets after the user data when the line is exactly
		 * as long as announced (an operator's notice, tests/data
		 * 39.dump): TP-UDL says where the text ends, libgammu read
		 * no further, and the buffers were checked above. Only a
		 * line that disagrees with its length keeps the doubt. */
		bool within =
		    tpdu_len >= 0 && (parsed >= smsc_octets + tpdu_len ||
				      (size_t)n == smsc_octets + tpdu_len);
		if (buf[parsed] != 0xFF && !within) {
			set_err(err, errlen,
				"corrupted PDU: %s%d octets left after the "
				"message (announced length disagrees)",
				"", (int)((size_t)n - parsed));
			goto out;
		}
	}
	rc = fill_message(sms, address_type(buf, n, with_smsc), out, err,
			  errlen);
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

static int encode_one(const struct enc_params *p, const char *text, size_t len,
		      bool gsm7, int seq, int parts, struct pdu_segment *seg)
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
	sms->Class = -1; /* doc/modem.md: otherwise it goes out as flash SMS */
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
 * round trip (doc/modem.md) and catches characters libgammu mapped to '?'. */
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

/* Offset of the first octet that is not valid UTF-8, or -1. */
static long invalid_utf8_at(const char *text)
{
	for (const char *p = text; *p;) {
		uint32_t cp;
		size_t n = gsm_utf8_decode(p, &cp);

		if (!n)
			return p - text;
		p += n;
	}
	return -1;
}

static int encode_text(const struct enc_params *p, const char *text,
		       struct pdu_segment *segs, int max, char *err,
		       size_t errlen)
{
	size_t *starts = NULL, tlen = strlen(text);
	struct gsm_count count;
	long bad = invalid_utf8_at(text);
	int nseg, rc = -1;

	if (bad >= 0) {
		set_err(err, errlen,
			"pdu_encode: text is not valid UTF-8%s (octet %d)", "",
			(int)bad);
		return -1;
	}
	gsm_count(text, &count);
	starts = malloc((max > 0 ? (size_t)max : 1) * sizeof(*starts));
	if (!starts) {
		set_err(err, errlen, "pdu_encode: out of memory%s (%d)", "", 0);
		return -1;
	}
	nseg = max > 0 ? gsm_split(text, count.ucs2, starts,
				   max < MAX_SEGMENTS ? max : MAX_SEGMENTS)
		       : -1;
	if (nseg < 0) {
		set_err(err, errlen,
			"pdu_encode: text needs more segments than allowed%s "
			"(%d)",
			"", max);
		goto out;
	}
	for (int i = 0; i < nseg; i++) {
		size_t a = starts[i];
		size_t b = i + 1 < nseg ? starts[i + 1] : tlen;

		if (encode_one(p, text + a, b - a, !count.ucs2, i + 1, nseg,
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
		       int64_t scts, int ref, struct pdu_segment *segs, int max,
		       char *err, size_t errlen)
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
