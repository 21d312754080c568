// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for the tests.  Every knob is off (0) by default; each
 * holds one kind of request at one point for a number of milliseconds,
 * logging when it starts holding, so that a test can wait for the log
 * line and then kill, freeze or cut off the node.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/archip.h>

#include "srv_fault.h"

static unsigned int fault_delay_ms;
module_param(fault_delay_ms, uint, 0644);
MODULE_PARM_DESC(fault_delay_ms, "delay matching WRITEs by this many ms (testing)");
static char fault_delay_match[ARCHIP_NAME_MAX + 1];
module_param_string(fault_delay_match, fault_delay_match,
		    sizeof(fault_delay_match), 0644);
MODULE_PARM_DESC(fault_delay_match, "object name substring of the WRITEs to delay");

static unsigned int fault_fail_count;
module_param(fault_fail_count, uint, 0644);
MODULE_PARM_DESC(fault_fail_count, "fail this many matching WRITEs with -EIO (testing)");
static char fault_fail_match[ARCHIP_NAME_MAX + 1];
module_param_string(fault_fail_match, fault_fail_match,
		    sizeof(fault_fail_match), 0644);
MODULE_PARM_DESC(fault_fail_match, "object name substring of the WRITEs to fail");

static unsigned int fault_copy_hold_ms;
module_param(fault_copy_hold_ms, uint, 0644);
MODULE_PARM_DESC(fault_copy_hold_ms,
		 "hold matching COPYs this many ms with half their data copied (testing)");
static char fault_copy_match[ARCHIP_NAME_MAX + 1];
module_param_string(fault_copy_match, fault_copy_match,
		    sizeof(fault_copy_match), 0644);
MODULE_PARM_DESC(fault_copy_match, "destination name substring of the COPYs to hold");

static unsigned int fault_layout_ms;
module_param(fault_layout_ms, uint, 0644);
MODULE_PARM_DESC(fault_layout_ms,
		 "wait this many ms between the two lookups that decide a new store's layout (testing)");

static unsigned int fault_flip_rx;
module_param(fault_flip_rx, uint, 0644);
MODULE_PARM_DESC(fault_flip_rx,
		 "flip a bit in this many matching WRITE payloads as received, before their digest is checked (testing)");
static unsigned int fault_flip_tx;
module_param(fault_flip_tx, uint, 0644);
MODULE_PARM_DESC(fault_flip_tx,
		 "flip a bit in this many matching READ replies after their digest was taken (testing)");
static char fault_flip_match[ARCHIP_NAME_MAX + 1];
module_param_string(fault_flip_match, fault_flip_match,
		    sizeof(fault_flip_match), 0644);
MODULE_PARM_DESC(fault_flip_match, "object name substring of the payloads to corrupt");

/* @name matches @pattern (as written to sysfs: maybe with a newline). */
static bool matches(const char *pattern, const char *name)
{
	char m[ARCHIP_NAME_MAX + 1];

	strscpy(m, pattern, sizeof(m));
	m[strcspn(m, "\n")] = '\0';
	return m[0] && strstr(name, m);
}

static DEFINE_SPINLOCK(count_lock);

/* Take one of *@count (a knob's budget): true if there was one left. */
static bool take_one(unsigned int *count)
{
	bool took;

	spin_lock(&count_lock);
	took = *count > 0;
	if (took)
		(*count)--;
	spin_unlock(&count_lock);
	return took;
}

int archip_fault_write(const char *name, bool *delayed)
{
	unsigned int ms = READ_ONCE(fault_delay_ms);
	bool fail = false;

	*delayed = ms && matches(fault_delay_match, name);
	if (*delayed) {
		pr_info("fault injection: delaying WRITE %s by %u ms\n", name, ms);
		msleep(ms);
	}
	if (READ_ONCE(fault_fail_count) && matches(fault_fail_match, name))
		fail = take_one(&fault_fail_count);
	if (fail)
		pr_info("fault injection: failing WRITE %s\n", name);
	return fail ? -EIO : 0;
}

/* Tests wait for this line instead of sleeping out the delay. */
void archip_fault_write_done(const char *name, int err)
{
	pr_info("fault injection: delayed WRITE %s ended: %d\n", name, err);
}

bool archip_fault_copy_hold(const char *dst)
{
	return READ_ONCE(fault_copy_hold_ms) && matches(fault_copy_match, dst);
}

void archip_fault_copy_wait(const char *dst)
{
	unsigned int ms = READ_ONCE(fault_copy_hold_ms);

	pr_info("fault injection: holding COPY to %s half done for %u ms\n",
		dst, ms);
	msleep(ms);
}

static bool flip(unsigned int *count, const char *name, const char *what)
{
	if (!READ_ONCE(*count) || !matches(fault_flip_match, name) ||
	    !take_one(count))
		return false;
	pr_info("fault injection: flipping a bit of %s %s\n", what, name);
	return true;
}

bool archip_fault_flip_rx(const char *name)
{
	return flip(&fault_flip_rx, name, "the WRITE payload received for");
}

bool archip_fault_flip_tx(const char *name)
{
	return flip(&fault_flip_tx, name, "the READ reply sent from");
}

void archip_fault_layout(void)
{
	unsigned int ms = READ_ONCE(fault_layout_ms);

	if (ms) {
		pr_info("fault injection: %u ms between the layout lookups\n", ms);
		msleep(ms);
	}
}
