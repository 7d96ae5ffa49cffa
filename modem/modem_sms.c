/* modem_sms: a decoded PDU as the message the modem reports (modem.h). */
#include "modem.h"

#include <stdio.h>
#include <string.h>

#include "pdu.h"

void modem_sms_from_pdu(struct modem_sms *s, int index, const char *hex,
			const struct pdu_message *pm, const char *err)
{
	memset(s, 0, sizeof(*s));
	s->index = index;
	s->pdu_hex = hex;
	s->parts = s->seq = 1;
	if (!pm) {
		s->error = err;
		return;
	}
	snprintf(s->sender, sizeof(s->sender), "%s", pm->number);
	snprintf(s->smsc, sizeof(s->smsc), "%s", pm->smsc);
	s->sender_alnum = pm->number_alnum;
	s->scts = pm->scts;
	s->ref = pm->ref;
	s->ref16 = pm->ref16;
	s->parts = pm->parts ? pm->parts : 1;
	s->seq = pm->seq ? pm->seq : 1;
	s->text = pm->text;
	s->binary = pm->binary;
	if (pm->kind != PDU_DELIVER) {
		/* our own sent messages kept on the SIM are not a resident's
		 * text (doc/modem.md) */
		s->text = NULL;
		s->error = "not an SMS-DELIVER (a stored outgoing message?)";
	}
}
