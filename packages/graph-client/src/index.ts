export * from './graphMailbox';
export * from './graphErrors';
export { Semaphore, mailboxSemaphore } from './concurrency';
export { toCanonicalAppointment, toGraphEvent } from './eventMapper';
export { toCanonicalContact, toGraphContact, CONTACT_SELECT } from './contactMapper';
export { graphOperation } from './graphHttp';
export { restIdFromEwsId } from './itemResolution';
