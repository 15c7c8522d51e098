/* markup: message text between XMPP (plain text) and libpurple (HTML).
 *
 * Outgoing plain text is escaped so libpurple passes it on literally: a
 * typed "<b>" arrives as those three characters, and "?OTR:..." or OTR's
 * whitespace tag arrive byte for byte. Incoming HTML is turned into plain
 * text: tags dropped (<br> becomes a newline), entities decoded (not those
 * of characters XML cannot carry, which stay as written), characters XML
 * cannot carry (C0 controls such as raw IRC formatting codes, U+FFFE,
 * U+FFFF) dropped; other text passes unchanged.
 */
#ifndef FERRY_MARKUP_H
#define FERRY_MARKUP_H

/* Plain text -> libpurple markup. Caller frees. */
char *markup_from_text(const char *text);

/* libpurple markup -> plain text. Caller frees. */
char *markup_to_text(const char *html);

#endif
