export * from './items';
export * from './mailboxPort';
export * from './normalize';
export * from './syncError';
export * from './adminMessages';
export * from './mailboxStatus';
export * from './exsyncTag';
