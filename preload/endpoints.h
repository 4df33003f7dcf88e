/* endpoints.h — recognising an LLM call from its URL, and the built-in
 * provider table. */
#ifndef LLF_ENDPOINTS_H
#define LLF_ENDPOINTS_H

#include "config.h"

typedef struct llf_builtin {
    const char *name, *base_url, *key_env, *alt_key_env, *default_model;
    llf_dialect dialect;
    int needs_key;
} llf_builtin;

const llf_builtin *llf_builtins(size_t *n);

typedef struct llf_match {
    int         provider;   /* index in cfg->providers */
    llf_dialect dialect;
    char       *url_model;  /* model named by the URL (Gemini), malloc'ed */
    int         stream;     /* the operation itself streams */
    char       *query;      /* the URL's query, malloc'ed, or NULL */
    const llf_urlparts *server;   /* the base URL it starts with (the config's):
                                   * the server the program addressed */
} llf_match;

/* 1 and *m when url starts with a provider's base URL and names a completion
 * operation of its dialect; 0 otherwise. */
int  llf_endpoint_match(const llf_config *cfg, const char *url, llf_match *m);
void llf_match_free(llf_match *m);

#endif
