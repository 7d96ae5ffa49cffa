/* clock: the wall clock every daemon module uses (ms since the epoch).
 * Tests may shift it: SIMPUL_FAKE_CLOCK_FILE names a file holding a number
 * of seconds added to the real clock, re-read at every call, so a test can
 * put the daemon on a Friday evening or move it forward for RT reminders.
 * Timeouts use the monotonic clock (loop_now_ms) and are not shifted. */
#ifndef SIMPUL_CLOCK_H
#define SIMPUL_CLOCK_H

#include <stdint.h>

int64_t clock_wall_ms(void);

#endif
