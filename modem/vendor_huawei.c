/* vendor_huawei: the quirks of Huawei USB sticks (doc/modem.md, the vendor
 * init table). */
#include "modem_int.h"

/* ^CURC=0 switched the ^RSSI/^BOOT/^MODE heartbeat off: from now on a
 * ^BOOT means the stick restarted (modem_urc.c). */
static void curc_done(struct modem *m, const struct at_response *r)
{
	m->heartbeat_off = r->result == AT_OK;
}

static const struct modem_vendor_cmd huawei_init[] = {
    /* stop the ^RSSI/^BOOT/^MODE flood */
    {"AT^CURC=0", curc_done},
    {NULL, NULL},
};

const struct modem_vendor modem_vendor_huawei = {
    .name = "huawei",
    .cgmi = "huawei",
    .init = huawei_init,
    /* Huawei sticks store new SMS in ME until +CPMS sets mem3 (the
     * E3531 names ME in +CMTI), so a drain lists ME too (doc/modem.md) */
    .drain_me = true,
    /* TS 27.007 6.5; the stick then sends ^CEND (doc/modem.md) */
    .hangup = "AT+CHUP",
};
