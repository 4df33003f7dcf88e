/* shim.h — loading the core on first need (see core.h). */
#ifndef LLF_SHIM_H
#define LLF_SHIM_H

#include "core.h"

/* The core's interface, or NULL when it is disabled, broken or missing (it
 * has said why, once). Loaded once per process, thread-safely. */
const llf_core_api *llf_core(void);
/* 1 once llf_core() has run (whatever it found): the gate's guess is no
 * longer needed. */
int llf_core_tried(void);
/* The core if it is already loaded, else NULL: never loads it. */
const llf_core_api *llf_core_loaded(void);

#endif
