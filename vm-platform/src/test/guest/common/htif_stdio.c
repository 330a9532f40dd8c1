/*
 * picolibc stdio hook: stdin/stdout/stderr write to the HTIF console.
 * Linked into the C test programs only (the assembly tests do not use libc).
 */
#include <stdio.h>
#include "htif.h"

static int htif_stdio_put(char c, FILE *f)
{
    (void)f;
    htif_putc(c);
    return (unsigned char)c;
}

static int htif_stdio_flush(FILE *f)
{
    (void)f;
    htif_flush();
    return 0;
}

static FILE htif_stdio = FDEV_SETUP_STREAM(htif_stdio_put, NULL, htif_stdio_flush, _FDEV_SETUP_WRITE);

FILE *const stdin = &htif_stdio;
FILE *const stdout = &htif_stdio;
FILE *const stderr = &htif_stdio;
