/** /v1/orgs/:orgId/users/:userId/contacts[/:crmId]: the user's CRM contacts (crmItemRoutes.ts). */
import { Contact } from '../../../../../../../schemas/canonical';
import { crmItemRoutes } from '../crmItemRoutes';

export default crmItemRoutes({ kind: 'contact', path: 'contacts', label: 'contact', input: Contact, output: Contact });
