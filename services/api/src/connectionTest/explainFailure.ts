import { adminMessage, type AdminMessage, type MessageContext } from '@exsync/canonical';

/**
 * The connection test's step messages: the same catalogue (adminMessage, @exsync/canonical) the
 * worker uses for mailbox and organisation status, so a test and a stopped sync say the same thing.
 * No remote text reaches a message; the remote code (AADSTS..., an EWS ResponseCode) is named.
 */
export function explainFailure(err: unknown, ctx: MessageContext): AdminMessage {
  return adminMessage(err, ctx);
}
