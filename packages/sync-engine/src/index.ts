export * from './syncTypes';
export * from './mailboxSync';
