export { startEntraSim, seedDefaults, type EntraSim, type EntraSimOptions } from './entraSim';
export { DEFAULT_SEED, EXCHANGE_RESOURCE } from './defaultSeed';
export type {
  AddAppInput,
  AddUserInput,
  SimApp,
  SimCertificate,
  SimUser,
  SimState,
  TokenRequestStats,
} from './simState';
