/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for the tests (Documentation/protocol.rst, "Fault
 * injection"): module parameters of archip_srv that hold a request at a
 * chosen point, so that a test can kill the node right there.
 */
#ifndef _ARCHIP_SRV_FAULT_H
#define _ARCHIP_SRV_FAULT_H

/* A WRITE to @name: held fault_delay_ms if it matches fault_delay_match
 * (*@delayed set: the caller reports the write's end with
 * archip_fault_write_done()); -EIO for the next fault_fail_count that
 * match fault_fail_match.
 */
int archip_fault_write(const char *name, bool *delayed);
void archip_fault_write_done(const char *name, int err);
/* A COPY to @dst, half of it copied and made stable: held
 * fault_copy_hold_ms if @dst matches fault_copy_match.
 */
bool archip_fault_copy_hold(const char *dst);
void archip_fault_copy_wait(const char *dst);
/* Wire corruption: flip a bit of a WRITE payload to @name as received
 * (before its digest is checked), for the next fault_flip_rx that match
 * fault_flip_match; of a READ reply from @name after its digest was
 * taken, for the next fault_flip_tx.
 */
bool archip_fault_flip_rx(const char *name);
bool archip_fault_flip_tx(const char *name);
/* Between the two lookups that decide a store's layout. */
void archip_fault_layout(void);

#endif
