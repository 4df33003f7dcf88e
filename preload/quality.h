/* quality.h — the optional quality gate: a command the user names
 * (verdict.validate.command) reads an answer's text on stdin and exits
 * non-zero when the answer is degraded. Verdicts are cached per answer. */
#ifndef LLF_QUALITY_H
#define LLF_QUALITY_H

/* 1 pass, 0 degraded, -1 could not judge (did not start, or timed out).
 * The command's environment is the process's, without LD_PRELOAD and the
 * variables named in hide (NULL-ended, or NULL: the providers' keys). */
int llf_quality_check(const char *cmd, long timeout_ms, const char *text, const char *provider,
                      const char *model, char *const *hide);

#endif
