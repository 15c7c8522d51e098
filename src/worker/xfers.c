/* xfers: file transfers offered to our accounts (IRC DCC SEND, prpl-jabber
 * stream initiation) are declined at once, and ferry is told who offered
 * what (FILE_OFFERED), so the user hears of it from the transport.
 *
 * ferry has nowhere to put a file and no way to hand one to the user's
 * client: files cross as links in the message text (XEP-0363 uploads are
 * links already). Left to libpurple, an offer would become a question
 * ("Accept file transfer request from bob?") and, once accepted, a
 * request for a file name, which the worker cancels: the user would have
 * said yes to something that could never happen. So the offer is declined
 * in libpurple's "file-recv-request" signal, the one place a plugin may
 * decline one (the prpl's "request denied" op, which tells the sender where
 * the protocol can, then the status set to CANCEL_LOCAL: libpurple cancels
 * it). The line libpurple then
 * writes into the conversation ("You cancelled the transfer of ...") is
 * not passed on: FILE_OFFERED says it better. */
#include "config.h"
#include "worker.h"

#include <string.h>

static int handle; /* our signal handle */

/* How much of a file name is passed on (characters; the rest is cut and
 * marked): a name is the sender's to choose. */
#define XFERS_NAME_MAX 120
/* The offer just declined: libpurple writes its cancellation line into
 * the conversation (if one is open) right after the signal, before the
 * main loop runs again, so it is forgotten at the next idle. */
static struct {
	char *who;  /* the offer's remote user, as the prpl spells it */
	char *file; /* its file name */
	guint idle; /* forgets it */
} declined;

static void forget_declined(void)
{
	g_clear_handle_id(&declined.idle, g_source_remove);
	g_clear_pointer(&declined.who, g_free);
	g_clear_pointer(&declined.file, g_free);
}

static gboolean on_idle(gpointer data)
{
	declined.idle = 0;
	forget_declined();
	return G_SOURCE_REMOVE;
}

/* NAME as the user should read it: valid UTF-8, no control characters, at
 * most XFERS_NAME_MAX characters. Caller frees. */
static char *printable_name(const char *name)
{
	g_autofree char *valid = g_utf8_make_valid(name != NULL ? name : "", -1);
	GString *out = g_string_new(NULL);
	glong n = 0;
	for (const char *p = valid; *p != '\0' && n < XFERS_NAME_MAX;
	     p = g_utf8_next_char(p), n++) {
		gunichar c = g_utf8_get_char(p);
		if (g_unichar_iscntrl(c))
			c = ' ';
		g_string_append_unichar(out, c);
	}
	if (g_utf8_strlen(valid, -1) > XFERS_NAME_MAX)
		g_string_append(out, "…");
	return g_string_free(out, FALSE);
}

static void on_recv_request(PurpleXfer *xfer, gpointer data)
{
	/* Declined in every case, ours or not: there is no one to ask. The
	 * prpl's request_denied is what tells the sender (prpl-jabber: an
	 * error "Offer Declined"); its cancel_recv, which libpurple's
	 * cancellation would call next, only frees what request_denied has
	 * already freed (prpl-irc, prpl-jabber: both free the transfer's
	 * data), so it is taken out. libpurple then cancels the transfer and
	 * drops the reference it took for it. */
	if (xfer->ops.request_denied != NULL) {
		xfer->ops.request_denied(xfer);
		xfer->ops.cancel_recv = NULL;
	}
	xfer->status = PURPLE_XFER_STATUS_CANCEL_LOCAL;
	PurpleAccount *pa = purple_xfer_get_account(xfer);
	struct account *account = accounts_find(pa);
	const char *who = purple_xfer_get_remote_user(xfer);
	if (who == NULL)
		who = "";
	PurpleBuddy *buddy = *who != '\0' ? purple_find_buddy(pa, who) : NULL;
	const char *name = buddy != NULL ? purple_buddy_get_name(buddy) : who;
	const char *file = purple_xfer_get_filename(xfer);
	g_info("xfers: declined a file offered by a contact (%zu bytes)",
	       (size_t)purple_xfer_get_size(xfer));
	forget_declined();
	declined.who = g_strdup(who);
	declined.file = g_strdup(file != NULL ? file : "");
	declined.idle = g_idle_add(on_idle, NULL);
	if (account == NULL)
		return;
	g_autofree char *shown = printable_name(file);
	account_emit(account,
	             WORKER_FRAME(file_offered, .account = account_id(account), .name = name,
	                          .filename = shown, .size = (gint64)purple_xfer_get_size(xfer)));
}

bool xfers_swallow_line(PurpleConversation *conv, const char *message)
{
	if (declined.who == NULL || message == NULL ||
	    g_strcmp0(purple_conversation_get_name(conv), declined.who) != 0)
		return false;
	/* "You cancelled the transfer of NAME" (NAME escaped), or "File
	 * transfer cancelled" for an offer without a name */
	g_autofree char *escaped = g_markup_escape_text(declined.file, -1);
	if (*declined.file != '\0' ? strstr(message, escaped) == NULL
	                           : strstr(message, "cancel") == NULL)
		return false;
	forget_declined();
	return true;
}

void xfers_install(void)
{
	purple_signal_connect(purple_xfers_get_handle(), "file-recv-request", &handle,
	                      PURPLE_CALLBACK(on_recv_request), NULL);
}
