/* SPDX-License-Identifier: GPL-2.0 */
/* archip-obj fuzz (obj_fuzz.c): hostile frames, a good client beside them. */
#ifndef ARCHIP_OBJ_FUZZ_H
#define ARCHIP_OBJ_FUZZ_H

#include <stdint.h>

/* @frames frames from @seed against HOST:PORT; 0 if every check held. */
int archip_obj_fuzz(const char *host, uint16_t port, long frames, uint64_t seed,
		    unsigned int stall_s);

#endif
