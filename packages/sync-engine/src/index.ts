export * from './syncTypes';
export * from './mailboxSync';
export * from './decide';
export * from './fieldMerge';
export * from './firstSyncMatching';
export * from './syncedContent';
