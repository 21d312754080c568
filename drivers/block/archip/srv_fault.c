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

/* @name matches @pattern (as written to sysfs: maybe with a newline). */
static bool matches(const char *pattern, const char *name)
{
	char m[ARCHIP_NAME_MAX + 1];

	strscpy(m, pattern, sizeof(m));
	m[strcspn(m, "\n")] = '\0';
	return m[0] && strstr(name, m);
}

int archip_fault_write(const char *name)
{
	static DEFINE_SPINLOCK(fail_lock);
	unsigned int ms = READ_ONCE(fault_delay_ms);
	bool fail = false;

	if (ms && matches(fault_delay_match, name)) {
		pr_info("fault injection: delaying WRITE %s by %u ms\n", name, ms);
		msleep(ms);
	}
	if (READ_ONCE(fault_fail_count) && matches(fault_fail_match, name)) {
		spin_lock(&fail_lock);
		fail = fault_fail_count > 0;
		if (fail)
			fault_fail_count--;
		spin_unlock(&fail_lock);
	}
	if (fail)
		pr_info("fault injection: failing WRITE %s\n", name);
	return fail ? -EIO : 0;
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

void archip_fault_layout(void)
{
	unsigned int ms = READ_ONCE(fault_layout_ms);

	if (ms) {
		pr_info("fault injection: %u ms between the layout lookups\n", ms);
		msleep(ms);
	}
}
