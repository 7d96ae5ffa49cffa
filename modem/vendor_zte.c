/* vendor_zte: the quirks of ZTE USB sticks (doc/modem.md, the vendor init
 * table). */
#include "modem_int.h"

static const struct modem_vendor_cmd zte_init[] = {
    {"AT+ZCDRUN=8", NULL}, /* no CD-ROM mode */
    {"AT+ZOPRT=5", NULL},  /* stay online */
    {NULL, NULL},
};

const struct modem_vendor modem_vendor_zte = {
    .name = "zte",
    .cgmi = "zte",
    .init = zte_init,
};
