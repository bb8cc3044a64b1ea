/** /v1/orgs/:orgId/users/:userId/appointments[/:crmId]: the user's CRM appointments (crmItemRoutes.ts). */
import { AppointmentInput, AppointmentOutput } from '../../../../../../../schemas/canonical';
import { crmItemRoutes } from '../crmItemRoutes';

export default crmItemRoutes({ kind: 'appointment', path: 'appointments', label: 'appointment', input: AppointmentInput, output: AppointmentOutput });
