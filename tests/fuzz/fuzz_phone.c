/* fuzz_phone: number normalisation (common/phone.c).
 *
 * Input: byte 0 sets the output buffer size, the rest is the number as a
 * resident or a modem might write it. Checks: the output is always
 * terminated inside the buffer; a number normalised to E.164 is a fixed
 * point (normalising it again gives the same kind and text), so one
 * resident is one contact whatever form the number came in; E.164 output
 * is '+' and digits only; phone_to_wa drops only the '+'. */
#include "fuzz.h"

#include "phone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	size_t outlen = data[0] % 64 + 1;
	char *in = fuzz_strndup(data + 1, size - 1);
	char *out = malloc(outlen);
	char big[128], again[128], wa[128];

	FUZZ_CHECK(out != NULL);
	memset(out, 'x', outlen);
	phone_normalize(in, out, outlen);
	FUZZ_CHECK(memchr(out, '\0', outlen) != NULL);
	FUZZ_CHECK(phone_kind_name(phone_normalize(in, out, outlen)) != NULL);

	enum phone_kind k = phone_normalize(in, big, sizeof(big));
	FUZZ_CHECK(memchr(big, '\0', sizeof(big)) != NULL);
	if (k == PHONE_MOBILE || k == PHONE_FIXED || k == PHONE_FOREIGN) {
		FUZZ_CHECK(big[0] == '+');
		for (const char *p = big + 1; *p; p++)
			FUZZ_CHECK(*p >= '0' && *p <= '9');
		FUZZ_CHECK(phone_normalize(big, again, sizeof(again)) == k);
		FUZZ_CHECK(strcmp(big, again) == 0);
		phone_to_wa(big, wa, sizeof(wa));
		FUZZ_CHECK(strcmp(wa, big + 1) == 0);
	}
	free(out);
	free(in);
	return 0;
}
