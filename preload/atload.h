/* atload.h — code run as the shim is loaded, in every process whether or
 * not it ever calls a provider. */
#ifndef LLF_ATLOAD_H
#define LLF_ATLOAD_H

/* A function the shim's constructor runs, placed beside the constructors
 * (GCC puts them in .text.startup): the few pages a process that makes no
 * call touches of this library are then one, not one in each file's part
 * of .text (each page first touched is a page fault, a start-up cost every
 * process pays; make bench's start-up row). */
#define LLF_AT_LOAD __attribute__((section(".text.startup")))

#endif
