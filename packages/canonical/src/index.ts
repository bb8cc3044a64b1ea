export * from './items';
export * from './mailboxPort';
export * from './normalize';
export * from './instant';
export * from './text';
