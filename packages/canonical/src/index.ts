export * from './items';
export * from './mailboxPort';
