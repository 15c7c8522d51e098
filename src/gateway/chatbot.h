/* chatbot (internal): turning a command's stage (a data form, read as
 * its <x xmlns='jabber:x:data'/> element, which carries what dataform.h
 * has no reader for: title, instructions, descriptions, options) into
 * chat text, and chat answers back into field values, for chatbot.c. No
 * state. */
#ifndef FERRY_GATEWAY_CHATBOT_H
#define FERRY_GATEWAY_CHATBOT_H

#include <glib.h>
#include <stdbool.h>

#include "cmd.h"
#include "ferry/dataform.h"
#include "ferry/stanza.h"

/* FIELD is a <field/> of a form's <x/>.
 * true when FIELD is asked by chat (not fixed, not hidden). */
bool chatbot_asked(const struct stanza *field);

/* The opening text of stage X (a form's <x/>): its title, instructions
 * and fixed fields, one per line. Caller frees; "" when it has none. */
char *chatbot_stage_text(const struct stanza *x);

/* The question for FIELD, the N-th (from 1) of TOTAL asked: its label,
 * description, numbered choices, the default and how to keep it or skip.
 * A text-private field warns that the answer stays in the user's archive
 * and names COMMAND_ROUTE (a sentence, NULL none) as the other way.
 * Caller frees. */
char *chatbot_question(const struct stanza *field, guint n, guint total, const char *command_route);

enum chatbot_answer {
	CHATBOT_ANSWER_VALUES, /* *VALUES set (maybe the default) */
	CHATBOT_ANSWER_SKIP,   /* nothing for this field (optional, left empty) */
	CHATBOT_ANSWER_AGAIN,  /* not an answer: *WHY says why, ask again */
};

/* Reads ANSWER (a chat body, as typed) for FIELD: numbers or labels for
 * lists (several, separated by commas or lines, for list-multi), yes/no
 * for booleans (an answer starting with y is yes, anything else no), one
 * value per line for text-multi, `-` for the default or nothing. On
 * VALUES *VALUES is a new array of char * (caller frees); on AGAIN *WHY
 * (caller frees). */
enum chatbot_answer chatbot_read_answer(const struct stanza *field, const char *answer,
                                        GPtrArray **values, char **why);

/* A completed run's RESULT form as text: its title, instructions, fields
 * as "label: value", and its table as plain lines (a header, then one
 * line per row). Caller frees; "" when it has nothing. */
char *chatbot_result_text(const struct dataform *result);

/* What the user hears when a run of DEF ends (WHY, the sink's NOTE,
 * RESULT, CONDITION): a completed note with the result, a failure's text,
 * cancelled, expired after IDLE_SECONDS (PROMPT: a prompt run, whose
 * question stays open). Caller frees; NULL: nothing (gone). */
char *chatbot_end_text(const struct cmd_def *def, enum cmd_end why, const char *note,
                       const struct dataform *result, const char *condition, guint idle_seconds,
                       bool prompt);

/* The command word of BODY (its first word, lower case, without a leading
 * '/' or '!') and the rest (*REST, borrowed from BODY, "" none). Caller
 * frees; NULL when BODY has no word. */
char *chatbot_word(const char *body, const char **rest);

#endif
