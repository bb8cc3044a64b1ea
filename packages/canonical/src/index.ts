export * from './items';
export * from './mailboxPort';
export * from './normalize';
