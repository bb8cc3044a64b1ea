export * from './items';
export * from './mailboxPort';
export * from './normalize';
export * from './emails';
export * from './allDay';
