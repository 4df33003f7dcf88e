/* ascii.h — ASCII's own classes and case, for what the library reads that
 * is ASCII by definition (hosts, ids, function and model names, a PDF's
 * syntax). <ctype.h> asks the program's locale, which need not be C by
 * the time we read (in a Turkish one tolower('I') is not 'i'), at a call
 * into libc each; the shim and the core both use these. */
#ifndef LLF_ASCII_H
#define LLF_ASCII_H

static inline int llf_ascii_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline int llf_ascii_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || llf_ascii_digit(c);
}

static inline int llf_ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

#endif
