/* lineout.h — writing one line of ours (a log line, a warning) on a
 * descriptor whose reader is not ours: the program's stderr, a log that is
 * a FIFO or a pipe. The program must never wait for it: a reader that
 * stopped reading (a stalled log shipper, a parent that reads the
 * program's stdout before its stderr) costs lines of ours, not the
 * program's progress. In the shim and the core alike. */
#ifndef LLF_LINEOUT_H
#define LLF_LINEOUT_H

#include <stddef.h>
#include <sys/types.h>

#include "guest.h"

/* The program's stderr. A program started with it closed (2>&-) gets
 * number 2 for its next file or socket: its data file, its keep-alive
 * connection to a provider. Ours are written on fd 2 only while it names
 * what it named when the shim was loaded, never when it was closed then.
 * llf_stderr_note: the shim's constructor, one fstat (an exec'ed image
 * notes afresh); llf_stderr_at_load what it noted, for the core, which
 * takes it with llf_stderr_use (until then, as in the unit tests, fd 2 is
 * taken as it is; llf_stderr_use(NULL) goes back to that). */
void llf_stderr_note(void);
const llf_ownfd *llf_stderr_at_load(void);
void llf_stderr_use(const llf_ownfd *at_load);
/* 2 and its type (st_mode & S_IFMT) while it is the program's stderr, else -1. */
int llf_stderr_fd(mode_t *type);

/* Writes p[0..n) (one line, with its '\n') on fd, a file of type `type`
 * (st_mode & S_IFMT), with one write() and without waiting: a regular file
 * is written to; anything else (pipe, FIFO, socket, terminal) only when it
 * takes the line now (poll, and for a pipe room for the whole line), else
 * the line is dropped whole; a terminal, which poll calls writable at any
 * room, is written without blocking and may take part of a line (a line
 * cut short, below). SIGPIPE from a reader gone is not raised.
 * A line cut short is ended with a '\n' then, or (*torn, one per place
 * written to, 0 at first) before the next line; never glued to the next.
 * 1 when the whole line was written, 0 when it was dropped or cut short. */
int llf_line_write(int fd, mode_t type, const char *p, size_t n, int *torn);

/* Is there room in a pipe holding `unread` bytes of `capacity` for a write
 * of n bytes (over PIPE_BUF) to go in whole without waiting? */
int llf_pipe_room(size_t n, long unread, long capacity);

#endif
