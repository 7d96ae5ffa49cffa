/* core/app: the clock helpers every feature uses (see app.h). */
#include "app.h"

#include <time.h>

#include "hours.h"
#include "rules.h"

int64_t app_now_ms(const struct app *app)
{
	return app->clock_ms();
}

int app_tz_offset(const struct app *app, int64_t at_ms)
{
	if (app->calendar)
		return hours_offset(rules_hours(app->calendar), at_ms / 1000);
	time_t t = (time_t)(at_ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	return (int)tm.tm_gmtoff;
}
