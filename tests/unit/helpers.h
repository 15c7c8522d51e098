/* helpers: small shared pieces of the unit tests. */
#ifndef FERRY_TEST_HELPERS_H
#define FERRY_TEST_HELPERS_H

#include "ferry/stanza.h"

/* Parses one stanza from XML text written by the test (in a component
 * stream, so its default namespace applies); aborts the test if it is not
 * exactly one well-formed stanza. Caller frees. */
struct stanza *test_parse_stanza(const char *xml);

/* Asserts that STANZA is of type error with the defined CONDITION (RFC
 * 6120 stanza error), and returns its <text/> ("" when none). Caller
 * frees. */
char *test_error_text(const struct stanza *stanza, const char *condition);

#endif
