export { startEntraSim, seedDefaults, type EntraSim, type EntraSimOptions } from './entraSim';
export { DEFAULT_SEED, EXCHANGE_RESOURCE, MAIL_RESOURCE, MAIL_DELEGATED_SCOPES } from './defaultSeed';
export type { AddAppInput, AddUserInput, SimApp, SimCertificate, SimUser, SimState, TokenRequestStats } from './simState';
