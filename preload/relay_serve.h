/* relay_serve.h — one request on a connection to the relay served
 * (relay_serve.c): an LLM call through the engine, its attempts through
 * libcurl and its answer written to the program; anything else passed
 * through as it comes, or, an upgrade, tunnelled. */
#ifndef LLF_RELAY_SERVE_H
#define LLF_RELAY_SERVE_H

#include "relay_conn.h"

/* Request r, whose head was read from k, served, its body read with it:
 * 0, and the connection may serve its next; -1, it ends. */
int llf_relay_serve_one(conn *k, llf_http_req *r);

#endif
