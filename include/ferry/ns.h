/* ns: every XMPP namespace ferry speaks, once. Modules include this
 * instead of spelling a namespace themselves. The stream-level ones
 * (jabber:component:accept, xmpp-stanzas, xmpp-streams) stay beside the
 * stanza code in stanza.h as STANZA_NS_*. */
#ifndef FERRY_NS_H
#define FERRY_NS_H

#define NS_CAPS "http://jabber.org/protocol/caps"                    /* XEP-0115 */
#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"        /* XEP-0085 */
#define NS_DATA "jabber:x:data"                                      /* XEP-0004 */
#define NS_DATA_VALIDATE "http://jabber.org/protocol/xdata-validate" /* XEP-0122 */
#define NS_DELAY "urn:xmpp:delay"                                    /* XEP-0203 */
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"        /* XEP-0030 */
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define NS_GATEWAY "jabber:iq:gateway"            /* XEP-0100 */
#define NS_JID_ESCAPING "jid\\20escaping"         /* XEP-0106, a disco feature */
#define NS_MUC "http://jabber.org/protocol/muc"   /* XEP-0045 */
#define NS_NICK "http://jabber.org/protocol/nick" /* XEP-0172 */
#define NS_PING "urn:xmpp:ping"                   /* XEP-0199 */
#define NS_PRIVILEGE_1 "urn:xmpp:privilege:1"     /* XEP-0356, as ejabberd 23.01 speaks it */
#define NS_PRIVILEGE_2 "urn:xmpp:privilege:2"     /* XEP-0356, as Prosody's mod_privilege */
#define NS_REGISTER "jabber:iq:register"          /* XEP-0077 */
#define NS_ROSTER "jabber:iq:roster"              /* RFC 6121 */
#define NS_VERSION "jabber:iq:version"            /* XEP-0092 */

#endif
